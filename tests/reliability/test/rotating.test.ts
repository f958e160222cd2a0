// The rotating backend under the same attacks: writers SIGKILLed across rotations (also restarted
// after a simulated power loss), recoveries and compactions of a damaged set SIGKILLed at random
// instants, and the modes of every file it makes.
import { cp, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { parseTempName } from '@papyra/backend-ndjson/segments';
import { RotatingBackend } from '@papyra/backend-rotating';
import { createEvent, decodeRecord, encodeRecord, inspectLine, retainedMask, type PersistedRecord, type RetentionItem } from '@papyra/persistence-contract';
import { sampleRecord, sequenceOf, splitLines } from './stores.js';
import { children, leftovers, prng, reportFigures, seedFor, sleep, tempDirs } from './support.js';

const dirs = tempDirs();
const procs = children();
afterEach(async () => {
  await procs.killAll();
  await dirs.cleanup();
});

/** The members of a set that exist, oldest first: path.<maxFiles-1> … path.1, path. */
async function members(path: string, maxFiles: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = maxFiles - 1; i >= 0; i--) {
    const member = i === 0 ? path : `${path}.${i}`;
    if (
      await stat(member).then(
        () => true,
        () => false,
      )
    )
      out.push(member);
  }
  return out;
}

/** Every line of the set, oldest first, with the unterminated tail of each member. */
async function readSet(path: string, maxFiles: number): Promise<{ lines: Buffer[]; tails: Buffer[]; files: string[] }> {
  const files = await members(path, maxFiles);
  const lines: Buffer[] = [];
  const tails: Buffer[] = [];
  for (const file of files) {
    const split = splitLines(await readFile(file));
    lines.push(...split.lines);
    if (split.tail.length > 0) tails.push(split.tail);
  }
  return { lines, tails, files };
}

const acked = (lines: readonly string[]) => new Set(lines.filter((l) => l.startsWith('a ')).map((l) => Number(l.slice(2))));

describe('SIGKILL of a rotating writer', () => {
  it.each(['always', 'never'] as const)(
    "fsync '%s': across rotations (and deletions of the oldest file) the set holds a contiguous run of writes with every acknowledged one",
    async (fsync) => {
      const test = `rotating crash writer fsync=${fsync}`;
      const rng = prng(seedFor(test));
      const rounds = 6;
      let recordsChecked = 0;
      let rotations = 0;
      let lost = 0;
      for (let round = 0; round < rounds; round++) {
        const path = join(await dirs.make(), 'store.ndjson');
        const maxFiles = rng.pick([3, 64]);
        const maxBytes = rng.pick([8 * 1024, 64 * 1024]);
        const writer = procs.start('rotating-writer.mjs', [path, fsync, '0', String(rng.int(1, 32)), String(maxBytes), String(maxFiles)]);
        await writer.waitFor((lines) => lines.includes('ready'));
        await sleep(rng.int(0, 300));
        await writer.kill();
        const ack = acked(writer.lines);

        const { lines, tails, files } = await readSet(path, maxFiles);
        rotations += Math.max(0, files.length - 1);
        expect(lines.filter((line) => !inspectLine(line).ok)).toEqual([]);
        expect(tails.length).toBeLessThanOrEqual(1);
        const backend = new RotatingBackend({ path, maxBytes, maxFiles });
        // A kill while the lock was being taken leaves its temp file: reported, and removed by repair.
        const anomalies = (await backend.scan()).anomalies.filter(
          (a) => !(a.type === 'UNEXPECTED_FILE' && parseTempName(basename(a.path))?.target.endsWith('.lock') === true),
        );
        expect(anomalies.map((a) => a.type)).toEqual(tails.map(() => 'TRUNCATED_LINE'));
        expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
        await backend.close();
        expect(await leftovers(dirname(path))).toEqual([]);

        const seqs = lines.map((line) => sequenceOf(line).seq);
        const first = seqs[0] ?? 0;
        expect(seqs).toEqual(seqs.map((_, i) => first + i));
        // Only a full set deletes its oldest file, and a kill mid-rotation can leave one slot empty:
        // with two or more slots free nothing was deleted, so the run starts at the first write.
        if (files.length < maxFiles - 1) expect(first).toBe(0);
        // Acknowledged writes before the run went with deleted files (bounded disk); none after it may be missing.
        const missing = [...ack].filter((seq) => seq >= first + seqs.length);
        lost += missing.length;
        expect(missing).toEqual([]);
        recordsChecked += lines.length;
      }
      reportFigures(test, { killsSurvived: rounds, rotatedFilesSeen: rotations, recordsChecked, recordsLost: lost });
    },
    90_000,
  );

  it("restarted after a power loss tore the active file (fsync 'always'), no acknowledged write is lost", async () => {
    const test = 'rotating crash writer restart cycles';
    const rng = prng(seedFor(test));
    const path = join(await dirs.make(), 'store.ndjson');
    const [maxBytes, maxFiles] = [16 * 1024, 1000];
    const acks: Set<number>[] = [];
    let tornTails = 0;
    for (let run = 0; run < 6; run++) {
      const writer = procs.start('rotating-writer.mjs', [path, 'always', String(run), String(rng.int(1, 16)), String(maxBytes), String(maxFiles)]);
      await writer.waitFor((lines) => lines.includes('ready'));
      await sleep(rng.int(20, 200));
      await writer.kill();
      const ack = acked(writer.lines);
      acks.push(ack);
      // Cut the active file at a random byte past its last acknowledged (fsynced) line, and past
      // every line of earlier runs (on the disk before this run started: a run killed before its
      // first acknowledgement must not let the cut reach into them).
      const active = await readFile(path).catch(() => Buffer.alloc(0));
      let frontier = 0;
      let offset = 0;
      const last = Math.max(-1, ...ack);
      for (const line of splitLines(active).lines) {
        offset += line.length + 1;
        if (!inspectLine(line).ok) continue;
        const at = sequenceOf(line);
        if (at.run < run || (at.run === run && at.seq <= last)) frontier = offset;
      }
      if (active.length > 0) await truncate(path, rng.int(frontier, active.length));
      if ((await readFile(path).catch(() => Buffer.alloc(0))).at(-1) !== 10 && active.length > 0) tornTails += 1;
    }
    const backend = new RotatingBackend({ path, maxBytes, maxFiles });
    expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
    await backend.close();
    const present = new Set((await readSet(path, maxFiles)).lines.filter((line) => inspectLine(line).ok).map((line) => JSON.stringify(sequenceOf(line))));
    const lostByRun = acks.map((ack, run) => ({ run, missing: [...ack].filter((seq) => !present.has(JSON.stringify({ run, seq }))) }));
    reportFigures(test, {
      killsSurvived: acks.length,
      simulatedPowerLosses: acks.length,
      tornTails,
      recordsChecked: present.size,
      recordsLost: lostByRun.reduce((n, r) => n + r.missing.length, 0),
    });
    expect(lostByRun).toEqual(acks.map((_, run) => ({ run, missing: [] })));
  }, 60_000);
});

describe('SIGKILL of recoveries and compactions of a damaged rotating set', () => {
  it('killed at random instants (chained, mixed operations): readers see the old or the compacted records; the end result keeps every retained valid line byte for byte, once', async () => {
    const test = 'rotating crash rewrites';
    const rng = prng(seedFor(test));
    const root = await dirs.make();
    const original = join(root, 'original');
    const [maxBytes, maxFiles] = [24 * 1024, 500];
    const retention = { maxRecords: rng.int(300, 1_500) };

    // A set of ~30 files, then damage: garbage lines inside some members, a torn tail on the active one.
    const seedBackend = new RotatingBackend({ path: join(original, 'store.ndjson'), maxBytes, maxFiles, fsync: 'never' });
    const records: PersistedRecord[] = Array.from({ length: 3_000 }, (_, i) => sampleRecord(i, rng));
    await Promise.all(
      records.map((r) => (r.kind === 'event' ? seedBackend.recordEvent(r) : r.kind === 'audit' ? seedBackend.recordAudit(r) : seedBackend.recordDeadLetter(r))),
    );
    await seedBackend.close();
    const files = await members(join(original, 'store.ndjson'), maxFiles);
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      if (rng.next() < 0.5) continue;
      const { lines } = splitLines(await readFile(file));
      lines.splice(rng.int(0, lines.length), 0, Buffer.from(rng.pick(['{"kind": "ev', '[]', '\u0000\u0001', '{"kind": "ghost", "timestamp": 1}'])));
      await writeFile(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    }
    await writeFile(
      join(original, 'store.ndjson'),
      Buffer.concat([await readFile(join(original, 'store.ndjson')), Buffer.from(encodeRecord(records[0]!).slice(0, 30))]),
    );

    // Expected: the valid lines of the set, in order; after compaction, those retention keeps.
    const before = await readSet(join(original, 'store.ndjson'), maxFiles);
    const valid = before.lines.filter((line) => inspectLine(line).ok);
    const items: RetentionItem[] = valid.map((line) => ({ kind: decodeRecord(line).kind, timestamp: decodeRecord(line).timestamp, bytes: line.length + 1 }));
    const mask = retainedMask(items, retention, Date.now());
    const retained = valid.filter((_, i) => mask[i]);
    const idsByKind = (lines: readonly Buffer[]) =>
      JSON.stringify(
        ['event', 'audit', 'dead_letter'].map((k) =>
          lines
            .map(decodeRecord)
            .filter((r) => r.kind === k)
            .map((r) => r.id),
        ),
      );
    const oldView = idsByKind(valid);
    const newView = idsByKind(retained);

    // How long an uninterrupted compaction takes, so the kills spread over it.
    const reference = join(root, 'reference');
    await cp(original, reference, { recursive: true });
    const timing = procs.start('rotating-rewrite.mjs', [
      join(reference, 'store.ndjson'),
      String(maxBytes),
      String(maxFiles),
      `compact:${JSON.stringify(retention)}`,
    ]);
    await timing.waitFor((lines) => lines.includes('start'));
    const began = Date.now();
    await timing.waitFor((lines) => lines.includes('done'));
    const duration = Date.now() - began;

    const rounds = 3;
    let kills = 0;
    const outcomes = { old: 0, new: 0 };
    for (let round = 0; round < rounds; round++) {
      const dir = join(root, `round-${round}`);
      await cp(original, dir, { recursive: true });
      const path = join(dir, 'store.ndjson');
      for (let attempt = rng.int(1, 3); attempt > 0; attempt--) {
        const operation = rng.pick(['repair', `quarantine:${join(root, `q-${round}`)}`, `compact:${JSON.stringify(retention)}`]);
        const child = procs.start('rotating-rewrite.mjs', [path, String(maxBytes), String(maxFiles), operation]);
        await child.waitFor((lines) => lines.includes('start'));
        await sleep(rng.int(0, Math.ceil(duration * 1.3)));
        await child.kill();
        kills += 1;
        const reader = new RotatingBackend({ path, maxBytes, maxFiles });
        const view = JSON.stringify([
          (await reader.listEvents()).map((r) => r.id),
          (await reader.listAudits()).map((r) => r.id),
          (await reader.listDeadLetters()).map((r) => r.id),
        ]);
        await reader.close();
        const outcome = view === oldView ? 'old' : view === newView ? 'new' : 'mixed';
        expect(outcome).not.toBe('mixed');
        outcomes[outcome as 'old' | 'new'] += 1;
      }
      const backend = new RotatingBackend({ path, maxBytes, maxFiles, retention });
      await backend.compact();
      expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
      const again = await backend.recover({ mode: 'repair' });
      expect(again).toMatchObject({ repairedFiles: [], droppedRecords: 0 });
      await backend.close();
      const after = await readSet(path, maxFiles);
      expect(after.tails).toEqual([]);
      expect(Buffer.concat(after.lines.flatMap((l) => [l, Buffer.from('\n')])).equals(Buffer.concat(retained.flatMap((l) => [l, Buffer.from('\n')])))).toBe(
        true,
      );
      expect(await leftovers(dir)).toEqual([]);
      expect((await readdir(dir)).filter((n) => !/^store\.ndjson(\.\d+)?$/.test(n))).toEqual([]);
    }
    reportFigures(test, {
      killsSurvived: kills,
      rounds,
      files: files.length,
      compactionMs: duration,
      outcomes,
      retention,
      recordsChecked: retained.length * rounds,
      recordsLost: 0,
    });
  }, 120_000);
});

describe('rotating file modes', () => {
  it('rotated members are 0600 like the active file', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 2_048, maxFiles: 4, fsync: 'never' });
    for (let i = 0; i < 100; i++)
      await backend.recordEvent(createEvent({ systemId: 'm', actorAddress: `m:${i}`, eventType: 'ActorStarted', payload: { pad: 'x'.repeat(100) } }));
    await backend.close();
    const files = await members(path, 4);
    expect(files).toHaveLength(4);
    for (const file of files) expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
  });
});
