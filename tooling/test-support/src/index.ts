import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PapyraError, createAudit, createDeadLetter, createEvent, type PersistedEvent } from '@papyra/persistence-contract';

/** Fresh temp directories (`make()`), all removed by `cleanup()` (call it in afterEach). */
export function tempDirs(prefix: string) {
  const made: string[] = [];
  return {
    async make(): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    async cleanup(): Promise<void> {
      for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}

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

const BASE = 1_700_000_000_000;

/** Sample event number `n` (timestamp BASE + n), with overrides. */
export function event(n: number, over: Partial<PersistedEvent> = {}): PersistedEvent {
  return { ...createEvent({ systemId: 'test', actorAddress: `test:${n}`, eventType: 'ActorStarted', payload: { n }, timestamp: BASE + n }), ...over };
}

export const audit = (n: number) =>
  createAudit({
    systemId: 'test',
    timestamp: BASE + n,
    totalActors: n,
    aliveActors: n,
    stoppingActors: 0,
    restartingActors: 0,
    registrySize: n,
    registryOrphans: [],
    registryDead: [],
    deadLettersCount: 0,
  });

export const deadLetter = (n: number) => createDeadLetter({ systemId: 'test', timestamp: BASE + n, target: `test:${n}`, messageType: 'Ping', payload: { n } });
