import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '../src/index.js';
import { lockPathFor } from '../src/segments/index.js';
import { audit, codeOf, event, tempDirs } from './helpers.js';

// The children run the built package (dist/): build it first (`npx tsc -b`).
const child = (name: string) => fileURLToPath(new URL(`./children/${name}`, import.meta.url));
const dirs = tempDirs();
const running = new Set<ChildProcess>();
afterEach(async () => {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
  await dirs.cleanup();
});

/** Starts a child; `lines` collects its stdout lines, `waitFor` resolves when a line appears. */
function start(script: string, args: string[]) {
  const proc = spawn(process.execPath, [child(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  const listeners: (() => void)[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const l of listeners) l();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => proc.on('close', () => resolve()));
  const waitFor = (predicate: (lines: string[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => predicate(lines) && resolve();
      listeners.push(check);
      proc.on('close', () => (predicate(lines) ? resolve() : reject(new Error(`child ${script} ended early: ${stderr}`))));
      check();
    });
  const kill = async () => {
    proc.kill('SIGKILL');
    await exited;
    running.delete(proc);
  };
  return { proc, lines, waitFor, kill, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('crash safety with SIGKILL', () => {
  it("loses no write whose promise resolved under fsync 'always'; repair then leaves a clean file", async () => {
    for (let round = 0; round < 3; round++) {
      const path = join(await dirs.make(), 'store.ndjson');
      const writer = start('writer.mjs', [path]);
      await writer.waitFor((lines) => lines.length >= 20);
      await sleep(50 + Math.random() * 400);
      await writer.kill();
      const reported = writer.lines.filter(Boolean);
      expect(reported.length).toBeGreaterThan(20);

      const backend = new NdjsonBackend({ path });
      const stored = new Set((await backend.listEvents()).map((e) => e.id));
      expect(reported.filter((id) => !stored.has(id))).toEqual([]);
      // At most one torn tail; the dead writer's lock is taken over by the repair.
      const scan = await backend.scan();
      expect(scan.anomalies.every((a) => a.type === 'TRUNCATED_LINE')).toBe(true);
      expect(scan.anomalies.length).toBeLessThanOrEqual(1);
      const repair = await backend.recover({ mode: 'repair' });
      expect(repair.postScan.anomalies).toEqual([]);
      expect(new Set((await backend.listEvents()).map((e) => e.id))).toEqual(stored);
      await backend.close();
    }
  }, 120_000);

  it('a compaction killed at any moment leaves the old or the new file, never a mix', async () => {
    const dir = await dirs.make();
    const original = join(dir, 'original.ndjson');
    const seed = new NdjsonBackend({ path: original, fsync: 'never' });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 60_000; i++)
      writes.push(i % 4 === 0 ? seed.recordAudit(audit(i)) : seed.recordEvent(event(i, { payload: { n: i, pad: 'z'.repeat(i % 200) } })));
    await Promise.all(writes);
    await seed.close();
    const before = await readFile(original);

    // The new file, made by an uninterrupted compaction in a child, which also tells how long one takes.
    const expectedPath = join(dir, 'expected.ndjson');
    await copyFile(original, expectedPath);
    const reference = start('compact.mjs', [expectedPath, '5000']);
    await reference.waitFor((lines) => lines.includes('start'));
    const began = Date.now();
    await reference.waitFor((lines) => lines.includes('done'));
    const duration = Date.now() - began;
    const after = await readFile(expectedPath);
    expect(after.length).toBeLessThan(before.length);

    const outcomes: string[] = [];
    // Kills spread over the compaction, and one after it finished.
    for (const fraction of [0, 0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.05, null]) {
      const path = join(dir, `store-${outcomes.length}.ndjson`);
      await copyFile(original, path);
      const compaction = start('compact.mjs', [path, '5000']);
      await compaction.waitFor((lines) => lines.includes('start'));
      if (fraction === null) await compaction.waitFor((lines) => lines.includes('done'));
      else await sleep(fraction * duration);
      await compaction.kill();
      const now = await readFile(path);
      const outcome = now.equals(before) ? 'old' : now.equals(after) ? 'new' : 'mixed';
      outcomes.push(outcome);
      expect({ fraction, outcome }).not.toEqual({ fraction, outcome: 'mixed' });
      // Whatever happened, a repair leaves a clean store holding every retained record exactly once.
      const backend = new NdjsonBackend({ path, retention: { maxRecords: 5_000 } });
      expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
      const events = await backend.listEvents();
      expect(events).toHaveLength(5_000);
      expect(new Set(events.map((e) => e.id)).size).toBe(5_000);
      await backend.close();
    }
    expect(outcomes[0]).toBe('old');
    expect(outcomes.at(-1)).toBe('new');
    expect((await readdir(dir)).filter((name) => name.includes('papyra-tmp'))).toEqual([]);
  }, 180_000);
});

describe('the lock across processes', () => {
  it('refuses recovery, compaction and writes while a live process writes; takes over once it died', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const holder = start('hold.mjs', [path]);
    await holder.waitFor((lines) => lines.includes('ready'));
    const backend = new NdjsonBackend({ path, retention: { maxRecords: 1 } });
    expect(await codeOf(() => backend.recover({ mode: 'repair' }))).toBe('PAPYRA_LOCKED');
    expect(await codeOf(() => backend.compact())).toBe('PAPYRA_LOCKED');
    expect(await codeOf(() => backend.recordEvent(event(1)))).toBe('PAPYRA_LOCKED');
    const locked = JSON.parse(await readFile(lockPathFor(path), 'utf8'));
    expect(locked.pid).toBe(holder.proc.pid);
    // Reads and scans need no lock.
    expect(await backend.listEvents()).toHaveLength(1);
    expect((await backend.scan()).anomalies).toEqual([]);

    await holder.kill();
    await backend.recordEvent(event(2));
    expect(JSON.parse(await readFile(lockPathFor(path), 'utf8')).pid).toBe(process.pid);
    expect(await backend.compact()).toMatchObject({ beforeRecords: 2, afterRecords: 1 });
    await backend.close();
    expect(await readdir(join(path, '..'))).toEqual(['store.ndjson']);
  }, 60_000);
});
