import { readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeRecord, type PersistedRecord } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { audit, deadPid, event, tempDirs, write } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const lines = (records: readonly PersistedRecord[]) => records.map((r) => `${encodeRecord(r)}\n`).join('');

/** Events 0..11 in three files of four (maxBytes fits four lines), written and closed. */
async function threeFiles(dir: string) {
  const path = join(dir, 'store.ndjson');
  // Numbers 101..112: every line has the same length.
  const events = Array.from({ length: 12 }, (_, i) => event(101 + i));
  const lineBytes = Buffer.byteLength(lines([events[0]!]));
  const options = { path, maxBytes: 4 * lineBytes + 2, maxFiles: 3 };
  const backend = new RotatingBackend(options);
  for (const e of events) await backend.recordEvent(e);
  await backend.close();
  expect(await readFile(`${path}.2`, 'utf8')).toBe(lines(events.slice(0, 4)));
  return { path, events, options };
}

describe('compaction across the set', () => {
  it('applies retention per kind over every file, deletes emptied files, and later rotations fill the gap', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const records: PersistedRecord[] = [];
    for (let i = 0; i < 30; i++) records.push(i % 10 === 0 ? audit(i) : event(i));
    const backend = new RotatingBackend({ path, maxBytes: 1000, maxFiles: 20, retention: { maxRecords: 5 } });
    for (const r of records) await write(backend, r);
    const filesBefore = await backend.files();
    expect(filesBefore.length).toBeGreaterThan(4);
    const listed = [await backend.listEvents(), await backend.listAudits()];

    const report = await backend.compact();
    const newestEvents: PersistedRecord[] = records.filter((r) => r.kind === 'event').slice(-5);
    const kept = records.filter((r) => r.kind === 'audit' || newestEvents.includes(r));
    expect(report).toMatchObject({ backend: 'rotating', beforeRecords: 30, afterRecords: kept.length, removedRecords: 30 - kept.length });
    expect(report.beforeBytes).toBe(Buffer.byteLength(lines(records)));
    expect(report.afterBytes).toBe(Buffer.byteLength(lines(kept)));
    expect([await backend.listEvents(), await backend.listAudits()]).toEqual(listed);
    // On disk exactly the kept records, in order, across fewer files.
    const after = await backend.files();
    expect(after.length).toBeLessThan(filesBefore.length);
    expect((await Promise.all(after.map((f) => readFile(f, 'utf8')))).join('')).toBe(lines(kept));
    expect((await readdir(dir)).filter((n) => n.includes('papyra-tmp') || n.includes('journal'))).toEqual([]);

    // Appends after compaction rotate into the free slots: nothing is deleted or dropped.
    const more = Array.from({ length: 20 }, (_, i) => event(100 + i));
    for (const e of more) await backend.recordEvent(e);
    expect(backend.metrics.snapshot().recordsDropped).toBe(0);
    await backend.close();
    const reader = new RotatingBackend({ path, maxBytes: 1000, maxFiles: 20 });
    expect(await reader.listEvents()).toEqual([...kept.filter((r) => r.kind === 'event'), ...more]);
    await reader.close();
  });

  it('a committed journal left by a crash is the new set for readers, reported by scan, and completed by recovery', async () => {
    const dir = await dirs.make();
    const { path, events, options } = await threeFiles(dir);
    // What a compaction with maxRecords 6 commits: path.2 goes, path.1 keeps its last two records.
    const pid = deadPid();
    const staged = `store.ndjson.1.papyra-tmp-${pid}-0a1b2c`;
    await writeFile(join(dir, staged), lines(events.slice(6, 8)));
    const steps = [
      { target: 'store.ndjson.2', staged: null },
      { target: 'store.ndjson.1', staged },
    ];
    await writeFile(`${path}.compact-journal`, JSON.stringify({ version: 1, steps }));
    const onDisk = async () => Object.fromEntries(await Promise.all((await readdir(dir)).sort().map(async (n) => [n, await readFile(join(dir, n), 'utf8')])));
    const before = await onDisk();

    const backend = new RotatingBackend(options);
    expect(await backend.listEvents()).toEqual(events.slice(6));
    expect(await backend.listEvents({ limit: 3 })).toEqual(events.slice(9));
    const scan = await backend.scan();
    expect(scan.anomalies.map((a) => [a.type, basename(a.path)])).toEqual([['UNEXPECTED_FILE', 'store.ndjson.compact-journal']]);
    expect(await onDisk()).toEqual(before);

    const report = await backend.recover({ mode: 'repair' });
    expect(report.postScan.anomalies).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['store.ndjson', 'store.ndjson.1']);
    expect(await readFile(`${path}.1`, 'utf8')).toBe(lines(events.slice(6, 8)));
    expect(await backend.listEvents()).toEqual(events.slice(6));
    await backend.close();
  });

  it('a partly completed journal is completed by the next write before anything is appended', async () => {
    const dir = await dirs.make();
    const { path, events, options } = await threeFiles(dir);
    // The crash came after path.2 was deleted and before the staged path (active) was renamed.
    const staged = `store.ndjson.papyra-tmp-${deadPid()}-00ff00`;
    await writeFile(join(dir, staged), lines(events.slice(10)));
    await writeFile(
      `${path}.compact-journal`,
      JSON.stringify({
        version: 1,
        steps: [
          { target: 'store.ndjson.2', staged: null },
          { target: 'store.ndjson', staged },
        ],
      }),
    );
    await unlink(`${path}.2`);

    const backend = new RotatingBackend(options);
    expect(await backend.listEvents()).toEqual([...events.slice(4, 8), ...events.slice(10)]);
    const next = event(50);
    await backend.recordEvent(next);
    expect(await readFile(path, 'utf8')).toBe(lines([...events.slice(10), next]));
    expect(await backend.listEvents()).toEqual([...events.slice(4, 8), ...events.slice(10), next]);
    expect((await backend.scan()).anomalies).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['.store.ndjson.lock', 'store.ndjson', 'store.ndjson.1']);
    await backend.close();
  });

  it('staged files without a committed journal are leftovers: the old set stands and repair removes them', async () => {
    const dir = await dirs.make();
    const { path, events, options } = await threeFiles(dir);
    const staged = join(dir, `store.ndjson.1.papyra-tmp-${deadPid()}-123456`);
    await writeFile(staged, lines(events.slice(6, 8)));
    await writeFile(`${path}.compact-journal.papyra-tmp-${deadPid()}-abcdef`, '{"version":1,"ste');
    const backend = new RotatingBackend(options);
    expect(await backend.listEvents()).toEqual(events);
    expect((await backend.scan()).anomalies.map((a) => [a.type, basename(a.path)])).toEqual([
      ['UNEXPECTED_FILE', basename(staged)],
      ['UNEXPECTED_FILE', expect.stringMatching(/^store\.ndjson\.compact-journal\.papyra-tmp-/)],
    ]);
    const report = await backend.recover({ mode: 'repair' });
    expect(report.postScan.anomalies).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['store.ndjson', 'store.ndjson.1', 'store.ndjson.2']);
    expect(await backend.listEvents()).toEqual(events);
    await backend.close();
  });

  it('an unreadable journal is not followed: reported, and quarantined by recovery', async () => {
    const dir = await dirs.make();
    const { path, events, options } = await threeFiles(dir);
    // A journal naming a file outside the set must never be acted on.
    await writeFile(`${path}.compact-journal`, JSON.stringify({ version: 1, steps: [{ target: '../../etc/passwd', staged: null }] }));
    const backend = new RotatingBackend(options);
    expect(await backend.listEvents()).toEqual(events);
    expect((await backend.scan()).anomalies).toEqual([expect.objectContaining({ type: 'UNEXPECTED_FILE', path: `${path}.compact-journal` })]);
    const report = await backend.recover({ mode: 'quarantine', quarantineDir: join(dir, 'q') });
    expect(report.quarantinedFiles).toHaveLength(1);
    expect(report.postScan.anomalies).toEqual([]);
    expect(await backend.listEvents()).toEqual(events);
    await backend.close();
  });
});
