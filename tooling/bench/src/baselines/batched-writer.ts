import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/**
 * The hand-written floor for NDJSON appends: JSON.stringify each object, join every `batch`
 * lines into one string and write it with one writeSync; optionally fsync after each batch.
 */
export function writeBatched(path: string, objects: readonly unknown[], options: { batch: number; fsync: boolean }): void {
  const fd = openSync(path, 'a', 0o600);
  try {
    let lines: string[] = [];
    const flush = () => {
      if (lines.length === 0) return;
      writeSync(fd, lines.join('\n') + '\n');
      if (options.fsync) fsyncSync(fd);
      lines = [];
    };
    for (const object of objects) {
      lines.push(JSON.stringify(object));
      if (lines.length >= options.batch) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
}
