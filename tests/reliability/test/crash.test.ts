// SIGKILL at random instants: writers (every fsync mode, restarts without repair), recoveries and
// compactions, each killed in a child process running the built dist of @papyra/backend-ndjson.
import { copyFile, readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { parseTempName } from '@papyra/backend-ndjson/segments';
import { inspectLine, retainedMask, decodeRecord, type RetentionItem } from '@papyra/persistence-contract';
import { buildStore, repairedBytes, sequenceOf, splitLines } from './stores.js';
import { children, leftovers, prng, reportFigures, seedFor, sleep, tempDirs } from './support.js';

const dirs = tempDirs();
const procs = children();
afterEach(async () => {
  await procs.killAll();
  await dirs.cleanup();
});

const acked = (lines: readonly string[]) => new Set(lines.filter((l) => l.startsWith('a ')).map((l) => Number(l.slice(2))));

/** Starts a writer, lets it run for `ms` after it is ready, kills it; returns the acknowledged sequence numbers. */
async function writeAndKill(path: string, fsync: string, run: number, workers: number, ms: number): Promise<Set<number>> {
  const writer = procs.start('writer.mjs', [path, fsync, String(run), String(workers)]);
  await writer.waitFor((lines) => lines.includes('ready'));
  await sleep(ms);
  await writer.kill();
  return acked(writer.lines);
}

/** Runs a child script to the end on a copy of `original`; resolves the copy and how long its work took. */
async function uninterrupted(root: string, original: string, script: string, args: (path: string) => string[]): Promise<{ path: string; duration: number }> {
  const path = join(root, 'reference.ndjson');
  await copyFile(original, path);
  const child = procs.start(script, args(path));
  await child.waitFor((lines) => lines.includes('start'));
  const began = Date.now();
  await child.waitFor((lines) => lines.some((l) => l.startsWith('done')));
  return { path, duration: Date.now() - began };
}

/** Asserts that the records of each run, in file order, are exactly 0..k-1: a prefix, none torn, none twice. */
function expectPrefixes(lines: readonly Buffer[]): Map<number, number> {
  const counts = new Map<number, number>();
  const problems: string[] = [];
  for (const line of lines) {
    const { run, seq } = sequenceOf(line);
    const expected = counts.get(run) ?? 0;
    if (seq !== expected) problems.push(`run ${run}: seq ${seq} where ${expected} was due`);
    counts.set(run, Math.max(expected, seq + 1));
  }
  expect(problems.slice(0, 5)).toEqual([]);
  return counts;
}

describe('SIGKILL of a writer', () => {
  it.each(['always', 'interval', 'never'] as const)(
    "fsync '%s': the file holds a prefix of the writes, at most one torn tail, and every acknowledged write",
    async (fsync) => {
      const test = `crash writer fsync=${fsync}`;
      const rng = prng(seedFor(test));
      const rounds = 12;
      let recordsChecked = 0;
      let ackedTotal = 0;
      let tornTails = 0;
      let lockLeftovers = 0;
      let lost = 0;
      for (let round = 0; round < rounds; round++) {
        const dir = await dirs.make();
        const path = join(dir, 'store.ndjson');
        const ack = await writeAndKill(path, fsync, 0, rng.int(1, 32), rng.int(0, 250));
        const before = await readFile(path).catch(() => Buffer.alloc(0));
        const { lines, tail } = splitLines(before);
        // Every complete line is a record: nothing torn or interleaved before the tail.
        expect(lines.filter((line) => !inspectLine(line).ok)).toEqual([]);

        const backend = new NdjsonBackend({ path });
        const scan = await backend.scan();
        // A kill while the lock was being taken leaves its temp file: reported, and removed by repair.
        const lockTemps = scan.anomalies.filter((a) => a.type === 'UNEXPECTED_FILE' && parseTempName(basename(a.path))?.target.endsWith('.lock') === true);
        lockLeftovers += lockTemps.length;
        expect(scan.anomalies.filter((a) => !lockTemps.includes(a)).map((a) => a.type)).toEqual(tail.length > 0 ? ['TRUNCATED_LINE'] : []);
        if (tail.length > 0) tornTails += 1;
        // The dead writer's lock is taken over; repair cuts exactly the torn tail.
        const report = await backend.recover({ mode: 'repair' });
        expect(report.postScan.anomalies).toEqual([]);
        await backend.close();
        expect(await leftovers(dir)).toEqual([]);
        const after = await readFile(path).catch(() => Buffer.alloc(0));
        expect(after.equals(before.subarray(0, before.length - tail.length))).toBe(true);

        const count = expectPrefixes(lines).get(0) ?? 0;
        const missing = [...ack].filter((seq) => seq >= count);
        lost += missing.length;
        expect(missing).toEqual([]);
        recordsChecked += lines.length;
        ackedTotal += ack.size;
      }
      reportFigures(test, { killsSurvived: rounds, recordsChecked, acknowledgedWrites: ackedTotal, tornTails, lockLeftovers, recordsLost: lost });
    },
    90_000,
  );

  it("restarted after a power loss tore its tail, without a repair in between (fsync 'always'), it still loses no acknowledged write", async () => {
    // SIGKILL alone never tears a line here (the kernel finishes a write before the kill lands), so
    // a power loss is simulated: the file is cut at a random byte past the end of the last
    // acknowledged (fsynced) line, and the next writer starts on it, as a restarted service would.
    const test = 'crash writer restart cycles';
    const rng = prng(seedFor(test));
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const cycles = 8;
    const acks: Set<number>[] = [];
    let tornTails = 0;
    // What the disk held before the run: a run killed before its first acknowledgement (likely on a
    // loaded machine) must not let the cut reach into earlier runs.
    let held = 0;
    for (let run = 0; run < cycles; run++) {
      const ack = await writeAndKill(path, 'always', run, rng.int(1, 16), rng.int(20, 200));
      acks.push(ack);
      const bytes = await readFile(path);
      const frontier = Math.max(held, durableEnd(bytes, run, Math.max(-1, ...ack)));
      held = rng.int(frontier, bytes.length);
      await truncate(path, held);
      if ((await readFile(path)).at(-1) !== 10) tornTails += 1;
    }

    const backend = new NdjsonBackend({ path });
    expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
    await backend.close();
    const { lines } = splitLines(await readFile(path));
    const present = new Set(lines.map((line) => JSON.stringify(sequenceOf(line))));
    const lostByRun = acks.map((ack, run) => [...ack].filter((seq) => !present.has(JSON.stringify({ run, seq }))));
    const lost = lostByRun.flat().length;
    reportFigures(test, {
      killsSurvived: cycles,
      simulatedPowerLosses: cycles,
      tornTails,
      recordsChecked: lines.length,
      acknowledgedWrites: acks.reduce((n, a) => n + a.size, 0),
      recordsLost: lost,
    });
    expect(lostByRun.map((missing, run) => ({ run, missing }))).toEqual(acks.map((_, run) => ({ run, missing: [] })));
  }, 60_000);
});

/** The byte offset just past the line of `run`'s record `seq` (0 when seq is -1): what fsync made durable. */
function durableEnd(bytes: Buffer, run: number, seq: number): number {
  if (seq < 0) return 0;
  let end = 0;
  for (const line of splitLines(bytes).lines) {
    end += line.length + 1;
    if (inspectLine(line).ok) {
      const at = sequenceOf(line);
      if (at.run === run && at.seq === seq) return end;
    }
  }
  throw new Error(`acknowledged record ${run}/${seq} is not in the file`);
}

describe('SIGKILL of a recovery', () => {
  it('killed at random instants (repeatedly), it leaves the old or the repaired file; quarantine always keeps the original', async () => {
    const test = 'crash recovery';
    const rng = prng(seedFor(test));
    const root = await dirs.make();
    const store = buildStore(rng, { records: 20_000, corruptEvery: 150, tornTail: true });
    const original = join(root, 'original.ndjson');
    await writeFile(original, store.bytes, { mode: 0o600 });
    const expected = repairedBytes(store.lines);

    // How long an uninterrupted recovery takes, so the kills spread over it.
    const reference = await uninterrupted(root, original, 'recover.mjs', (path) => [path, 'repair', '-']);
    const duration = reference.duration;
    expect((await readFile(reference.path)).equals(expected)).toBe(true);

    const rounds = 8;
    let kills = 0;
    const outcomes = { old: 0, repaired: 0 };
    for (let round = 0; round < rounds; round++) {
      const dir = await dirs.make();
      const path = join(dir, 'store.ndjson');
      const quarantineDir = join(dir, 'quarantine');
      const mode = round % 2 === 0 ? 'repair' : 'quarantine';
      await copyFile(original, path);
      for (let attempt = rng.int(1, 3); attempt > 0; attempt--) {
        const child = procs.start('recover.mjs', [path, mode, mode === 'quarantine' ? quarantineDir : '-']);
        await child.waitFor((lines) => lines.includes('start'));
        await sleep(rng.int(0, Math.ceil(duration * 1.2)));
        await child.kill();
        kills += 1;
        const now = await readFile(path);
        const state = now.equals(store.bytes) ? 'old' : now.equals(expected) ? 'repaired' : 'mixed';
        expect(state).not.toBe('mixed');
        outcomes[state as 'old' | 'repaired'] += 1;
        if (state === 'repaired' && mode === 'quarantine') {
          const copies = await Promise.all((await readdir(quarantineDir)).map((name) => readFile(join(quarantineDir, name))));
          expect(copies.some((copy) => copy.equals(store.bytes))).toBe(true);
        }
      }
      // A recovery run to the end then repairs, clears the killed runs' leftovers, and is idempotent.
      const backend = new NdjsonBackend({ path });
      const report = await backend.recover({ mode, ...(mode === 'quarantine' && { quarantineDir }) });
      expect(report.postScan.anomalies).toEqual([]);
      expect((await readFile(path)).equals(expected)).toBe(true);
      expect(await leftovers(dir)).toEqual([]);
      const again = await backend.recover({ mode, ...(mode === 'quarantine' && { quarantineDir }) });
      expect(again).toMatchObject({ repairedFiles: [], quarantinedFiles: [], droppedRecords: 0 });
      await backend.close();
      if (mode === 'quarantine') {
        const copies = await Promise.all((await readdir(quarantineDir)).map((name) => readFile(join(quarantineDir, name))));
        expect(copies.some((copy) => copy.equals(store.bytes))).toBe(true);
      }
    }
    const validRecords = store.lines.filter((l) => l.valid).length;
    reportFigures(test, { killsSurvived: kills, rounds, recoveryMs: duration, outcomes, recordsChecked: validRecords * rounds, recordsLost: 0 });
  }, 120_000);
});

describe('SIGKILL of a compaction', () => {
  it('killed at random instants (repeatedly, with corrupt lines and leftovers around), no retained record is lost or duplicated', async () => {
    const test = 'crash compaction';
    const rng = prng(seedFor(test));
    const root = await dirs.make();
    const store = buildStore(rng, { records: 25_000, corruptEvery: 2_000, tornTail: false });
    const retention = { maxRecords: rng.int(1_000, 5_000), ...(rng.next() < 0.5 && { maxTotalBytes: rng.int(200_000, 1_500_000) }) };
    const original = join(root, 'original.ndjson');
    await writeFile(original, store.bytes, { mode: 0o600 });

    // The expected result from the contract's retention oracle: retained records and every non-record line, in order.
    const items: RetentionItem[] = [];
    for (const line of store.lines)
      if (line.valid) items.push({ kind: decodeRecord(line.bytes).kind, timestamp: decodeRecord(line.bytes).timestamp, bytes: line.bytes.length + 1 });
    const mask = retainedMask(items, retention, Date.now());
    let r = 0;
    const kept = store.lines.filter((line) => !line.valid || mask[r++]);
    const expected = Buffer.concat(kept.flatMap((line) => [line.bytes, Buffer.from('\n')]));
    const retainedIds = kept.filter((l) => l.valid).map((l) => decodeRecord(l.bytes).id);
    expect(retainedIds.length).toBeLessThan(items.length);

    const reference = await uninterrupted(root, original, 'compact.mjs', (path) => [path, JSON.stringify(retention)]);
    const duration = reference.duration;
    expect((await readFile(reference.path)).equals(expected)).toBe(true);

    const rounds = 8;
    let kills = 0;
    const outcomes = { old: 0, new: 0 };
    for (let round = 0; round < rounds; round++) {
      const dir = await dirs.make();
      const path = join(dir, 'store.ndjson');
      await copyFile(original, path);
      for (let attempt = rng.int(1, 3); attempt > 0; attempt--) {
        const child = procs.start('compact.mjs', [path, JSON.stringify(retention)]);
        await child.waitFor((lines) => lines.includes('start'));
        await sleep(rng.int(0, Math.ceil(duration * 1.2)));
        await child.kill();
        kills += 1;
        const now = await readFile(path);
        const state = now.equals(store.bytes) ? 'old' : now.equals(expected) ? 'new' : 'mixed';
        expect(state).not.toBe('mixed');
        outcomes[state as 'old' | 'new'] += 1;
      }
      const backend = new NdjsonBackend({ path, retention });
      await backend.compact();
      expect((await readFile(path)).equals(expected)).toBe(true);
      // Repair drops the corrupt lines and the killed runs' temp files; every retained record is there once.
      expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
      expect(await leftovers(dir)).toEqual([]);
      await backend.close();
      const ids = splitLines(await readFile(path)).lines.map((line) => decodeRecord(line).id);
      expect(ids).toEqual(retainedIds);
    }
    reportFigures(test, {
      killsSurvived: kills,
      rounds,
      compactionMs: duration,
      outcomes,
      retention,
      recordsChecked: retainedIds.length * rounds,
      recordsLost: 0,
    });
  }, 120_000);
});
