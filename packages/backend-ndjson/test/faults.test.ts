import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeRecord } from '@papyra/persistence-contract';
import { NdjsonBackend } from '../src/index.js';
import { FaultyFs, mulberry32, type Fault } from '../src/testing/faulty-fs.js';
import { codeOf, event, tempDirs } from './helpers.js';

// The fault model (what is and is not modelled) is described in src/testing/faulty-fs.ts and in
// tests/reliability/RELIABILITY.md › Fault model.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const BASE_SEED = Number(process.env['SEED'] ?? Math.floor(Math.random() * 2 ** 32));

/** Event `n` with a payload long enough that lines straddle 512-byte sectors. */
const record = (n: number, random: () => number) => event(n, { payload: { n, pad: 'x'.repeat(Math.floor(random() * 900)) } });

/** The `n` of every valid event in the file (read with the real file system, after the crash). */
async function stored(path: string): Promise<number[]> {
  const reader = new NdjsonBackend({ path });
  const events = await reader.listEvents();
  await reader.close();
  return events.map((e) => e.payload['n'] as number);
}

/** Appends waves of concurrent records until the machine crashes (or crashes it at the end). */
async function appendUntilCrash(backend: NdjsonBackend, fs: FaultyFs, random: () => number, first = 0) {
  const acked = new Set<number>();
  const refused = new Set<number>();
  let n = first;
  for (let wave = 0; wave < 10 && !fs.crashed; wave++) {
    const batch = Array.from({ length: 1 + Math.floor(random() * 6) }, () => record(n++, random));
    await Promise.all(
      batch.map((e) =>
        backend.recordEvent(e).then(
          () => acked.add(e.payload['n'] as number),
          () => refused.add(e.payload['n'] as number),
        ),
      ),
    );
  }
  fs.crash();
  await backend.close().catch(() => {});
  return { acked, refused, sent: n - first };
}

describe("fsync 'always' under a crash that loses the page cache", () => {
  it('loses no acknowledged append at any crash point, whatever happens to the unsynced bytes', async () => {
    const figures = { crashPoints: 0, acknowledged: 0, lost: 0, outcomes: { synced: 0, dropped: 0, torn: 0, zeroed: 0 } };
    for (let i = 0; i < 120; i++) {
      const seed = BASE_SEED + i;
      const random = mulberry32(seed);
      const path = join(await dirs.make(), 'store.ndjson');
      // Every other run starts from a file that already holds records (and the crash may hit its first open).
      if (i % 2 === 1) await writeFile(path, `${encodeRecord(record(-1, random))}\n`);
      const fs = new FaultyFs({ seed, crashAtCall: 1 + Math.floor(random() * 30) });
      const { acked } = await appendUntilCrash(new NdjsonBackend({ path, fsync: 'always', fs }), fs, random);
      const present = new Set(await stored(path));
      const lost = [...acked].filter((n) => !present.has(n));
      if (lost.length > 0) throw new Error(`seed ${seed}: acknowledged records ${lost.join(', ')} lost (outcomes ${fs.outcomes.join(', ')})`);
      figures.crashPoints += 1;
      figures.acknowledged += acked.size;
      for (const o of fs.outcomes) figures.outcomes[o] += 1;
    }
    console.log(`[fault crash append] seed=${BASE_SEED} figures ${JSON.stringify(figures)}`);
    expect(figures.outcomes.torn + figures.outcomes.zeroed).toBeGreaterThan(0);
    expect(figures.acknowledged).toBeGreaterThan(100);
  });
});

describe('injected errors on the append path', () => {
  const cases: { name: string; fault: Fault; code: string }[] = [
    { name: 'fdatasync EIO', fault: { op: 'fsync', nth: 3, code: 'EIO' }, code: 'PAPYRA_IO' },
    { name: 'write ENOSPC', fault: { op: 'write', nth: 3, code: 'ENOSPC' }, code: 'PAPYRA_NO_SPACE' },
    { name: 'write EDQUOT', fault: { op: 'write', nth: 2, code: 'EDQUOT' }, code: 'PAPYRA_NO_SPACE' },
    { name: 'write EIO', fault: { op: 'write', nth: 4, code: 'EIO' }, code: 'PAPYRA_IO' },
    { name: 'open EROFS', fault: { op: 'open', nth: 1, code: 'EROFS' }, code: 'PAPYRA_READ_ONLY' },
  ];
  for (const { name, fault, code } of cases) {
    it(`${name}: the batch rejects with ${code}, is not in the file, and acknowledged records survive a crash`, async () => {
      let hits = 0;
      for (let i = 0; i < 8; i++) {
        const seed = BASE_SEED + 1000 + i;
        const random = mulberry32(seed);
        const path = join(await dirs.make(), 'store.ndjson');
        const fs = new FaultyFs({ seed, faults: [fault] });
        const backend = new NdjsonBackend({ path, fsync: 'always', fs });
        const codes: string[] = [];
        const acked = new Set<number>();
        const refused = new Set<number>();
        for (let n = 0; n < 8; n++) {
          const e = record(n, random);
          await backend.recordEvent(e).then(
            () => acked.add(n),
            (error: { code: string }) => {
              codes.push(error.code);
              refused.add(n);
            },
          );
        }
        expect(new Set(codes)).toEqual(new Set([code]));
        hits += refused.size;
        fs.crash();
        await backend.close().catch(() => {});
        const present = await stored(path);
        expect(present).toEqual([...acked]);
        expect(present.filter((n) => refused.has(n))).toEqual([]);
      }
      expect(hits).toBeGreaterThan(0);
    });
  }
});

describe('compaction and recovery under crashes and faults', () => {
  /** 40 events, then a damaged line: compaction keeps the newest 10, repair drops the damaged line. */
  async function seeded(path: string, random: () => number): Promise<void> {
    const lines = Array.from({ length: 40 }, (_, n) => encodeRecord(record(n, random)));
    lines.splice(20, 0, '{"kind":"event","torn');
    await writeFile(path, `${lines.join('\n')}\n`);
  }
  const all = Array.from({ length: 40 }, (_, n) => n);

  it('a crash at any point leaves the old records or the new ones, and appends acknowledged after the rewrite survive', async () => {
    const figures = { crashPoints: 0, completed: 0, oldFile: 0, newFile: 0, appendsAcknowledged: 0 };
    for (let i = 0; i < 80; i++) {
      const seed = BASE_SEED + 2000 + i;
      const random = mulberry32(seed);
      const path = join(await dirs.make(), 'store.ndjson');
      await seeded(path, random);
      const fs = new FaultyFs({ seed, crashAtCall: 1 + Math.floor(random() * 30) });
      const backend = new NdjsonBackend({ path, fsync: 'always', fs, retention: { maxRecords: 10 } });
      const compacting = i % 2 === 0;
      const done = await (compacting ? backend.compact() : backend.recover({ mode: 'repair' })).then(
        () => true,
        () => false,
      );
      const { acked } = done ? await appendUntilCrash(backend, fs, random, 100) : { acked: new Set<number>() };
      fs.crash();
      await backend.close().catch(() => {});
      const present = await stored(path);
      const kept = compacting ? all.slice(30) : all;
      const before = present.filter((n) => n < 100);
      // The rewrite is atomic: all of the old records, or exactly the kept ones.
      if (!(equal(before, all) || equal(before, kept))) throw new Error(`seed ${seed}: records ${before.join(',')} are neither the old nor the rewritten file`);
      const lost = [...acked].filter((n) => !present.includes(n));
      if (lost.length > 0) throw new Error(`seed ${seed}: acknowledged appends ${lost.join(', ')} after the rewrite lost`);
      figures.crashPoints += 1;
      figures.completed += done ? 1 : 0;
      figures[equal(before, all) && (compacting || !done) ? 'oldFile' : 'newFile'] += 1;
      figures.appendsAcknowledged += acked.size;
    }
    console.log(`[fault crash rewrite] seed=${BASE_SEED} figures ${JSON.stringify(figures)}`);
    expect(figures.completed).toBeGreaterThan(0);
    expect(figures.appendsAcknowledged).toBeGreaterThan(0);
  });

  it('a failing write, fsync or rename rejects the rewrite with a typed error and leaves the old file, without temp files', async () => {
    const faults: [Fault, string][] = [
      [{ op: 'write', nth: 1, code: 'ENOSPC' }, 'PAPYRA_NO_SPACE'],
      [{ op: 'fsync', nth: 1, code: 'EIO' }, 'PAPYRA_IO'],
      [{ op: 'rename', nth: 1, code: 'EIO' }, 'PAPYRA_IO'],
    ];
    for (const [fault, code] of faults) {
      const dir = await dirs.make();
      const path = join(dir, 'store.ndjson');
      await seeded(path, mulberry32(BASE_SEED));
      const original = await readFile(path);
      const backend = new NdjsonBackend({ path, fsync: 'always', fs: new FaultyFs({ seed: BASE_SEED, faults: [fault] }), retention: { maxRecords: 10 } });
      expect(await codeOf(() => backend.compact())).toBe(code);
      expect(await readFile(path)).toEqual(original);
      expect(await readdir(dir)).toEqual(['store.ndjson']);
      await backend.close();
    }
  });
});

function equal(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
