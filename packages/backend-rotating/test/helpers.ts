import { spawnSync } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PersistedRecord, PersistenceBackend } from '@papyra/persistence-contract';
import { tempDirs as tempDirsWith } from '@papyra/test-support';

export { audit, codeOf, deadLetter, event } from '@papyra/test-support';

/** A fresh temp directory per test; `cleanup()` removes every one made. */
export const tempDirs = () => tempDirsWith('papyra-rotating-');

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
