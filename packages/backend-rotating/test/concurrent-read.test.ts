import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { PapyraError, type PersistedEvent } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { codeOf, event, tempDirs } from './helpers.js';

// Issue 16, item 4. Fault model: another process appends and rotates the set continuously (every
// few milliseconds a file is renamed and the oldest deleted) while this one lists. Not modelled:
// compaction or repair by another process (they take the lock; a reader sees their journal commit
// like a rotation), a writer that rewrites a member in place (no Papyra writer does).
const dirs = tempDirs();
const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.once('exit', killAll);
afterEach(() => dirs.cleanup());
afterAll(killAll);

const script = fileURLToPath(new URL('./children/rotate.mjs', import.meta.url));
const MAX_BYTES = 2000;
const MAX_FILES = 4;

function startRotator(path: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, path, String(MAX_BYTES), String(MAX_FILES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the rotating child exited (${code}) before it was ready`)));
  });
}

const numbers = (events: readonly PersistedEvent[]) => events.map((e) => (e.payload as { n: number }).n);

/** A snapshot of the child's log: consecutive numbers, no gap, no duplicate. */
function expectConsecutive(ns: readonly number[]): void {
  for (let i = 1; i < ns.length; i++)
    if (ns[i] !== ns[i - 1]! + 1) throw new Error(`not consecutive at ${i}: … ${ns.slice(Math.max(0, i - 2), i + 2).join(', ')} …`);
}

describe('reading a set that another process rotates', () => {
  it('returns a consistent snapshot or PAPYRA_CONCURRENT_MODIFICATION, never a wrong answer', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const child = await startRotator(path);
    const reader = new RotatingBackend({ path, maxBytes: MAX_BYTES, maxFiles: MAX_FILES });
    let newest = -1;
    let answered = 0;
    let refused = 0;
    let rotations = 0;
    try {
      for (let round = 0; round < 80; round++) {
        const limit = round % 2 === 0 ? undefined : 1 + (round % 7) * 3;
        let listed: PersistedEvent[];
        try {
          listed = await reader.listEvents(limit === undefined ? {} : { limit });
        } catch (error) {
          if (PapyraError.isInstance(error) && error.code === 'PAPYRA_CONCURRENT_MODIFICATION') {
            refused += 1;
            continue;
          }
          throw error;
        }
        const ns = numbers(listed);
        expectConsecutive(ns);
        if (limit !== undefined) expect(ns.length).toBeLessThanOrEqual(limit);
        // About 10 records a file, at most 4 files: never more than the set holds.
        expect(ns.length).toBeLessThanOrEqual((MAX_FILES * MAX_BYTES) / 150);
        // Never older than an earlier answer.
        const last = ns.at(-1) ?? -1;
        expect(last).toBeGreaterThanOrEqual(newest);
        if (ns[0] !== undefined && ns[0] > 0) rotations += 1;
        newest = last;
        answered += 1;
      }
      const scan = await reader.scan().catch((error: unknown) => {
        if (PapyraError.isInstance(error) && error.code === 'PAPYRA_CONCURRENT_MODIFICATION') return null;
        throw error;
      });
      if (scan) expect(scan.anomalies.filter((a) => a.type !== 'TRUNCATED_LINE')).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await reader.close();
    }
    // The child did rotate under the reads, and reads were answered (a refusal is allowed, not a wrong answer).
    expect(rotations).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    expect(answered + refused).toBe(80);
  });

  it('gives up with PAPYRA_CONCURRENT_MODIFICATION when the set never stands still', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const writer = new RotatingBackend({ path, maxBytes: 2000, maxFiles: 3 });
    for (let n = 0; n < 30; n++) await writer.recordEvent(event(n));
    await writer.close();
    const reader = new RotatingBackend({ path, maxBytes: 2000, maxFiles: 3, readAttempts: 3 });
    // Every turn of the event loop the active file is replaced by a new one (a new inode).
    let replacing = true;
    const replace = () => {
      if (!replacing) return;
      writeFileSync(`${path}.next`, '');
      renameSync(`${path}.next`, path);
      setImmediate(replace);
    };
    replace();
    try {
      expect(await codeOf(() => reader.listEvents())).toBe('PAPYRA_CONCURRENT_MODIFICATION');
      expect(await codeOf(() => reader.listEvents({ limit: 3 }))).toBe('PAPYRA_CONCURRENT_MODIFICATION');
      expect(await codeOf(() => reader.scan())).toBe('PAPYRA_CONCURRENT_MODIFICATION');
    } finally {
      replacing = false;
    }
    // Once it stands still, the same read is answered.
    expect(await reader.listEvents({ limit: 3 })).toHaveLength(3);
    await reader.close();
  });
});
