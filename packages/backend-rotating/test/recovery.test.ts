import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { PersistedEvent } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { codeOf, deadPid, event, tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/** Writes `count` events into a set of three files (about four records a file), then closes. */
async function threeFiles(path: string, count = 12): Promise<PersistedEvent[]> {
  const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3, fsync: 'never' });
  const events = Array.from({ length: count }, (_, i) => event(i));
  for (const e of events) await backend.recordEvent(e);
  expect(await backend.files()).toEqual([`${path}.2`, `${path}.1`, path]);
  await backend.close();
  return events;
}

/** The events still in the set (possibly fewer than written: the oldest file may have rotated out). */
async function stored(path: string): Promise<PersistedEvent[]> {
  const reader = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
  const events = await reader.listEvents();
  await reader.close();
  return events;
}

describe('repair and quarantine', () => {
  it('repairs a corrupt line in path.2 and a torn tail in path, keeping every valid record exactly once, in order, byte for byte', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await threeFiles(path);
    const before = await stored(path);
    // A corrupt line in the middle of the oldest file, and a torn write at the end of the active one.
    const oldest = await readFile(`${path}.2`, 'utf8');
    const [first, ...rest] = oldest.split('\n');
    await writeFile(`${path}.2`, [first, '{"kind": broken', ...rest].join('\n'));
    const active = await readFile(path, 'utf8');
    await writeFile(path, `${active}{"kind":"event","id":"to`);
    const middle = await readFile(`${path}.1`, 'utf8');

    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    const scan = await backend.scan();
    expect(scan.anomalies.map(({ type, path: p, line, offset }) => ({ type, p, line, offset }))).toEqual([
      { type: 'CORRUPTED_LINE', p: `${path}.2`, line: 2, offset: Buffer.byteLength(first!) + 1 },
      { type: 'TRUNCATED_LINE', p: path, line: active.split('\n').length, offset: Buffer.byteLength(active) },
    ]);
    expect(await backend.listEvents()).toEqual(before);

    const report = await backend.recover({ mode: 'repair' });
    expect(report.scan).toEqual(scan);
    expect(report.postScan.anomalies).toEqual([]);
    expect(report.repairedFiles).toEqual([`${path}.2`, path]);
    expect(report.droppedRecords).toBe(2);
    expect(report.keptRecords).toBe(before.length);
    const after = await backend.listEvents();
    expect(after).toEqual(before);
    expect(new Set(after.map((e) => e.id)).size).toBe(after.length);
    // Byte for byte: each file holds exactly its valid lines.
    expect(await readFile(`${path}.2`, 'utf8')).toBe(oldest);
    expect(await readFile(`${path}.1`, 'utf8')).toBe(middle);
    expect(await readFile(path, 'utf8')).toBe(active);

    const again = await backend.recover({ mode: 'repair' });
    expect(again.scan.anomalies).toEqual([]);
    expect(again.repairedFiles).toEqual([]);
    expect(await backend.listEvents()).toEqual(before);
    await backend.close();
  });

  it('quarantine moves an orphan path.orphan into the quarantine directory and ends clean', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await threeFiles(path);
    const before = await stored(path);
    const orphanBytes = '{"kind":"event","timestamp":5}\nnot even json\n';
    await writeFile(`${path}.orphan`, orphanBytes);
    const quarantineDir = join(dir, 'quarantine');

    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    const report = await backend.recover({ mode: 'quarantine', quarantineDir });
    expect(report.scan.anomalies).toEqual([expect.objectContaining({ type: 'ORPHANED_ROTATED_FILE', path: `${path}.orphan`, line: null, offset: null })]);
    expect(report.postScan.anomalies).toEqual([]);
    expect(report.repairedFiles).toEqual([]);
    expect(report.quarantinedFiles).toHaveLength(1);
    const [copy] = report.quarantinedFiles;
    expect(relative(quarantineDir, copy!).startsWith('..')).toBe(false);
    expect(await readFile(copy!, 'utf8')).toBe(orphanBytes);
    expect((await readdir(dir)).sort()).toEqual(['quarantine', 'store.ndjson', 'store.ndjson.1', 'store.ndjson.2']);
    expect((await backend.scan()).anomalies).toEqual([]);
    expect(await backend.listEvents()).toEqual(before);
    await backend.close();
  });

  it('quarantine keeps the original of every file it rewrites', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await threeFiles(path);
    const original = `${await readFile(`${path}.1`, 'utf8')}[1, 2, 3]\n`;
    await writeFile(`${path}.1`, original);
    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    const quarantineDir = join(dir, 'q');
    const report = await backend.recover({ mode: 'quarantine', quarantineDir });
    expect(report.scan.anomalies.map((a) => a.type)).toEqual(['INVALID_RECORD']);
    expect(report.repairedFiles).toEqual([`${path}.1`]);
    expect(report.quarantinedFiles).toHaveLength(1);
    expect(await readFile(report.quarantinedFiles[0]!, 'utf8')).toBe(original);
    expect(report.postScan.anomalies).toEqual([]);
    await backend.close();
  });

  it('applies the orphan rule: files named like the set that are not in it; leftovers are UNEXPECTED_FILE', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await threeFiles(path);
    for (const name of ['store.ndjson.7', 'store.ndjson.orphan', 'store.ndjson.1.bak', 'store.ndjson.01', 'other.ndjson', 'store.ndjsonx'])
      await writeFile(join(dir, name), 'x\n');
    await mkdir(join(dir, 'store.ndjson.d'));
    await writeFile(`${path}.lock`, JSON.stringify({ pid: deadPid(), host: hostname(), since: 0 }));
    const leftover = `${path}.1.papyra-tmp-${deadPid()}-abcdef`;
    await writeFile(leftover, 'half a rewrite');

    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    const scan = await backend.scan();
    expect(scan.anomalies.map((a) => [a.type, relative(dir, a.path)])).toEqual([
      ['UNEXPECTED_FILE', relative(dir, leftover)],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.01'],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.1.bak'],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.7'],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.orphan'],
    ]);
    // Repair removes our leftover and (the stale lock taken over) leaves foreign files alone.
    const report = await backend.recover({ mode: 'repair' });
    expect(report.postScan.anomalies.map((a) => a.type)).toEqual(Array(4).fill('ORPHANED_ROTATED_FILE'));
    expect((await readdir(dir)).filter((n) => n.includes('papyra-tmp'))).toEqual([]);
    // The same store read with maxFiles 8 takes store.ndjson.7 in as its oldest file (whose "x" is no record).
    // (Instances on one set in one process share its writer, so they must agree on its shape.)
    expect(() => new RotatingBackend({ path, maxBytes: 800, maxFiles: 8 })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    await backend.close();
    const wider = new RotatingBackend({ path, maxBytes: 800, maxFiles: 8 });
    expect((await wider.scan()).anomalies.map((a) => [a.type, relative(dir, a.path)])).toEqual([
      ['CORRUPTED_LINE', 'store.ndjson.7'],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.01'],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.1.bak'],
      ['ORPHANED_ROTATED_FILE', 'store.ndjson.orphan'],
    ]);
    await wider.close();
  });

  it('instances on one set in one process share its writer: a rewrite by one holds the appends of the other', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const writer = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    await writer.recordEvent(event(1));
    const other = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3, retention: { maxRecords: 0 } });
    // The append accepted before the compaction is written before it.
    const appended = writer.recordEvent(event(2));
    expect((await other.compact()).removedRecords).toBe(2);
    await appended;
    const third = event(3);
    await writer.recordEvent(third);
    expect(await writer.listEvents()).toEqual([third]);
    await writer.close();
    expect(await codeOf(() => writer.listEvents())).toBe('PAPYRA_BACKEND_CLOSED');
    expect(await other.listEvents()).toEqual([]);
    await other.close();
  });
});

describe('Python Papyra 0.1.1 files', () => {
  it('the rotating fixture set (system.ndjson, .1, .2) scans clean and lists all 17 records in order', async () => {
    const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/papyra-py/rotating');
    const dir = await dirs.make();
    await cp(fixtures, dir, { recursive: true });
    const path = join(dir, 'system.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 600, maxFiles: 3 });
    expect((await backend.scan()).anomalies).toEqual([]);
    const events = await backend.listEvents();
    const audits = await backend.listAudits();
    const deadLetters = await backend.listDeadLetters();
    expect([events.length, audits.length, deadLetters.length]).toEqual([10, 2, 5]);
    const all = [...events, ...audits, ...deadLetters];
    // Chronological across the three files: timestamps never go backwards within a kind.
    for (const list of [events, audits, deadLetters]) {
      expect(list.map((r) => r.timestamp)).toEqual([...list.map((r) => r.timestamp)].sort((a, b) => a - b));
    }
    expect(events[0]).toMatchObject({ eventType: 'ActorStarted', actorAddress: 'local:1', id: null });
    expect(all.every((r) => r.systemId === 'local')).toBe(true);
    expect(deadLetters.map((d) => d.target)).toEqual(['local:2', 'local:2', 'local:2', 'local:2', 'local:3']);
    expect(await backend.listEvents({ limit: 3 })).toEqual(events.slice(-3));
    await backend.close();
  });
});
