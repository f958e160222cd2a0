// Several processes on one NDJSON file: writers contending for it (some killed), rewrites racing
// each other and a live writer. Whatever the interleaving, no line is torn or interleaved, and a
// refused operation is refused with PAPYRA_LOCKED, never half done.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { lockPathFor } from '@papyra/backend-ndjson/segments';
import { createEvent, inspectLine } from '@papyra/persistence-contract';
import { buildStore, repairedBytes, sequenceOf, splitLines } from './stores.js';
import { children, codeOf, prng, reportFigures, seedFor, sleep, tempDirs, type Child } from './support.js';

const dirs = tempDirs();
const procs = children();
afterEach(async () => {
  await procs.killAll();
  await dirs.cleanup();
});

const bin = fileURLToPath(new URL('../../../apps/cli/bin/papyra.js', import.meta.url));

/** The pid in the lock file beside `path`, or null. */
async function lockHolder(path: string): Promise<number | null> {
  try {
    return (JSON.parse(await readFile(lockPathFor(path), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

async function until(condition: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Runs the real `papyra` binary; resolves with its exit code. */
async function papyra(...args: string[]): Promise<number> {
  try {
    await promisify(execFile)(process.execPath, [bin, ...args]);
    return 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe('processes writing one NDJSON file', () => {
  it('contending writers (some SIGKILLed while holding the file) never interleave or tear a line', async () => {
    const test = 'concurrency writers';
    const rng = prng(seedFor(test));
    const rounds = 6;
    let refusals = 0;
    let kills = 0;
    let recordsChecked = 0;
    for (let round = 0; round < rounds; round++) {
      const path = join(await dirs.make(), 'store.ndjson');
      const fsync = rng.pick(['never', 'interval', 'always'] as const);
      const writers: Child[] = [];
      for (let run = 0; run < rng.int(2, 4); run++) writers.push(procs.start('contend.mjs', [path, fsync, String(run), String(rng.int(200, 1500))]));
      // In odd rounds, kill whoever holds the file at a random instant: a waiter takes it over.
      if (round % 2 === 1) {
        await until(async () => (await lockHolder(path)) !== null, 'a writer to hold the file');
        await sleep(rng.int(0, 60));
        const holder = await lockHolder(path);
        const target = writers.find((w) => w.proc.pid === holder);
        if (target) {
          await target.kill();
          kills += 1;
        }
      }
      await Promise.all(writers.map((w) => w.exited));

      const bytes = await readFile(path);
      const { lines, tail } = splitLines(bytes);
      expect(tail.length).toBe(0);
      expect(lines.filter((line) => !inspectLine(line).ok)).toEqual([]);
      // One writing process at a time: each run's records form one contiguous block, in order, none twice.
      const blocks: number[] = [];
      const next = new Map<number, number>();
      for (const line of lines) {
        const { run, seq } = sequenceOf(line);
        if (blocks.at(-1) !== run) blocks.push(run);
        expect(seq).toBe(next.get(run) ?? 0);
        next.set(run, seq + 1);
      }
      expect(new Set(blocks).size).toBe(blocks.length);
      writers.forEach((w, run) => {
        const acked = w.lines.filter((l) => l.startsWith('a ')).length;
        // Every acknowledged write is there; a killed writer may have written a batch it never acknowledged.
        expect(next.get(run) ?? 0).toBeGreaterThanOrEqual(acked);
        const done = w.lines.find((l) => l.startsWith('done'));
        if (done) {
          expect(next.get(run)).toBe(acked);
          refusals += Number(done.split(' ')[1]);
        }
      });
      recordsChecked += lines.length;
    }
    expect(refusals).toBeGreaterThan(0);
    reportFigures(test, { rounds, writersKilled: kills, lockedRefusals: refusals, recordsChecked, tornOrInterleavedLines: 0 });
  }, 90_000);

  it('compaction and recovery are refused (PAPYRA_LOCKED, CLI exit 75) while another process is writing, and change nothing', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const writer = procs.start('writer.mjs', [path, 'never', '0', '8']);
    await writer.waitFor((lines) => lines.filter((l) => l.startsWith('a ')).length > 200);
    const backend = new NdjsonBackend({ path, retention: { maxRecords: 1 } });
    expect(await codeOf(() => backend.compact())).toBe('PAPYRA_LOCKED');
    expect(await codeOf(() => backend.recover({ mode: 'repair' }))).toBe('PAPYRA_LOCKED');
    expect(await papyra('persistence', 'compact', '--path', path, '--max-records', '1', '--json')).toBe(75);
    expect(await papyra('persistence', 'recover', '--mode', 'repair', '--path', path, '--json')).toBe(75);
    const compactor = procs.start('compact.mjs', [path, '{"maxRecords":1}']);
    await compactor.exited;
    expect(compactor.lines).toContain('error PAPYRA_LOCKED');
    await backend.close();
    await writer.kill();
    // The writer was never disturbed: every line is whole and the records are a prefix.
    const { lines, tail } = splitLines(await readFile(path));
    expect(lines.filter((line) => !inspectLine(line).ok)).toEqual([]);
    expect(lines.map((line) => sequenceOf(line).seq)).toEqual(lines.map((_, i) => i));
    expect(lines.length + (tail.length > 0 ? 1 : 0)).toBeGreaterThanOrEqual(writer.lines.filter((l) => l.startsWith('a ')).length);
  }, 60_000);
});

describe('rewrites racing each other', () => {
  it('a recovery frozen mid-way holds off every other recovery and compaction; killed, its lock is taken over', async () => {
    const rng = prng(seedFor('concurrency frozen recovery'));
    const root = await dirs.make();
    const store = buildStore(rng, { records: 30_000, corruptEvery: 100, tornTail: true });
    const expected = repairedBytes(store.lines);
    for (const ending of ['resume', 'kill'] as const) {
      const path = join(root, `${ending}.ndjson`);
      await writeFile(path, store.bytes);
      const first = procs.start('recover.mjs', [path, 'repair', '-']);
      await until(async () => (await lockHolder(path)) === first.proc.pid, 'the first recovery to take the lock');
      first.proc.kill('SIGSTOP');
      try {
        const backend = new NdjsonBackend({ path, retention: { maxRecords: 5 } });
        expect(await codeOf(() => backend.recover({ mode: 'repair' }))).toBe('PAPYRA_LOCKED');
        expect(await codeOf(() => backend.compact())).toBe('PAPYRA_LOCKED');
        expect(await codeOf(() => backend.recordEvent(createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' })))).toBe('PAPYRA_LOCKED');
        await backend.close();
        expect(await papyra('persistence', 'recover', '--mode', 'quarantine', '--quarantine-dir', join(root, 'q'), '--path', path, '--json')).toBe(75);
        const second = procs.start('recover.mjs', [path, 'repair', '-']);
        await second.exited;
        expect(second.lines).toContain('error PAPYRA_LOCKED');
        expect((await readFile(path)).equals(store.bytes)).toBe(true);
      } finally {
        if (ending === 'kill') await first.kill();
        first.proc.kill('SIGCONT');
      }
      if (ending === 'resume') {
        await first.exited;
        expect(first.lines.some((l) => l.startsWith('done'))).toBe(true);
      } else {
        const takeover = new NdjsonBackend({ path });
        expect((await takeover.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
        await takeover.close();
      }
      expect((await readFile(path)).equals(expected)).toBe(true);
    }
  }, 60_000);

  it('recoveries and compactions started at the same instant: each finishes or is refused, and the file is the old or the repaired one', async () => {
    const test = 'concurrency racing rewrites';
    const rng = prng(seedFor(test));
    const root = await dirs.make();
    const store = buildStore(rng, { records: 8_000, corruptEvery: 50, tornTail: true });
    const expected = repairedBytes(store.lines);
    const rounds = 6;
    const tally = { done: 0, locked: 0 };
    for (let round = 0; round < rounds; round++) {
      const path = join(root, `race-${round}.ndjson`);
      await writeFile(path, store.bytes);
      const racers = [
        procs.start('recover.mjs', [path, 'repair', '-']),
        procs.start('recover.mjs', [path, 'quarantine', join(root, `q-${round}`)]),
        procs.start('recover.mjs', [path, 'repair', '-']),
        procs.start('compact.mjs', [path, '{}']),
      ];
      await Promise.all(racers.map((r) => r.exited));
      const results = racers.map((r) => r.lines.find((l) => l.startsWith('done') || l.startsWith('error')) ?? `none: ${r.stderr()}`);
      for (const result of results) {
        expect(result).toMatch(/^(done|error PAPYRA_LOCKED$)/);
        if (result.startsWith('done')) tally.done += 1;
        else tally.locked += 1;
      }
      const now = await readFile(path);
      const recovered = results.slice(0, 3).some((r) => r.startsWith('done'));
      expect(now.equals(recovered ? expected : store.bytes)).toBe(true);
    }
    reportFigures(test, { rounds, processes: rounds * 4, finished: tally.done, refusedLocked: tally.locked });
  }, 60_000);
});
