import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PapyraError, createAudit, createDeadLetter, createEvent, type PersistedEvent, type PersistedRecord, type PersistenceBackend } from '@papyra/persistence-contract';

/** A fresh temp directory per test; `cleanup()` removes every one made. */
export function tempDirs() {
  const made: string[] = [];
  return {
    async make(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'papyra-rotating-'));
      made.push(dir);
      return dir;
    },
    async cleanup(): Promise<void> {
      for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}

export function event(n: number, over: Partial<PersistedEvent> = {}): PersistedEvent {
  return { ...createEvent({ systemId: 'test', actorAddress: `test:${n}`, eventType: 'ActorStarted', payload: { n }, timestamp: 1_700_000_000_000 + n }), ...over };
}

export const audit = (n: number) =>
  createAudit({
    systemId: 'test',
    timestamp: 1_700_000_000_000 + n,
    totalActors: n,
    aliveActors: n,
    stoppingActors: 0,
    restartingActors: 0,
    registrySize: n,
    registryOrphans: [],
    registryDead: [],
    deadLettersCount: 0,
  });

export const deadLetter = (n: number) => createDeadLetter({ systemId: 'test', timestamp: 1_700_000_000_000 + n, target: `test:${n}`, messageType: 'Ping', payload: { n } });

/** The code of the PapyraError `action` rejects with (fails the test if it resolves or throws something else). */
export async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (error) {
    if (PapyraError.isInstance(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** The names in `dir` (sorted) and the total bytes of those that start with `prefix`. */
export async function usage(dir: string, prefix: string): Promise<{ names: string[]; bytes: number }> {
  const names = (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort();
  let bytes = 0;
  for (const name of names) bytes += (await stat(join(dir, name))).size;
  return { names, bytes };
}

/** The pid of a process that has exited: temp files named with it are leftovers. */
export function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return pid!;
}

/** Appends a record of any kind. */
export function write(backend: PersistenceBackend, record: PersistedRecord): Promise<void> {
  if (record.kind === 'event') return backend.recordEvent(record);
  if (record.kind === 'audit') return backend.recordAudit(record);
  return backend.recordDeadLetter(record);
}
