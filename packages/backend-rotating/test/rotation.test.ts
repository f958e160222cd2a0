import { appendFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodeRecord } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { audit, codeOf, deadLetter, event, tempDirs, usage, write } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('rotation', () => {
  it('10,000 records with maxBytes 4 KiB and maxFiles 4 never take more than 4 files and 16 KiB; the newest stay readable in order', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 4096, maxFiles: 4, fsync: 'never' });
    const written = Array.from({ length: 10_000 }, (_, i) => event(i));
    let peakFiles = 0;
    let peakBytes = 0;
    for (let i = 0; i < written.length; i += 250) {
      // Concurrent appends inside a chunk: group commit rotates between two lines of one batch.
      await Promise.all(written.slice(i, i + 250).map((e) => backend.recordEvent(e)));
      const { names, bytes } = await usage(dir, 'store.ndjson');
      const set = names.filter((n) => n !== '.store.ndjson.lock');
      peakFiles = Math.max(peakFiles, set.length);
      peakBytes = Math.max(peakBytes, bytes);
      expect(set.every((n) => /^store\.ndjson(\.[1-3])?$/.test(n))).toBe(true);
    }
    await backend.flush();
    expect(peakFiles).toBe(4);
    // The lock file (a few dozen bytes) is counted too.
    expect(peakBytes).toBeLessThanOrEqual(4 * 4096 + 100);
    for (const file of await backend.files()) expect((await stat(file)).size).toBeLessThanOrEqual(4096);

    const listed = await backend.listEvents();
    // At least three full rotated files' worth survive.
    const lineBytes = Buffer.byteLength(encodeRecord(written[9_999]!)) + 1;
    expect(listed.length).toBeGreaterThanOrEqual(3 * (Math.floor(4096 / lineBytes) - 1));
    // A contiguous run of the newest records, in order, ending with the last one written.
    expect(listed).toEqual(written.slice(-listed.length));
    expect(await backend.listEvents({ limit: 10 })).toEqual(written.slice(-10));
    const m = backend.metrics.snapshot();
    expect(m.recordsWritten).toBe(10_000);
    expect(m.recordsDropped).toBe(10_000 - listed.length);
    expect((await backend.scan()).anomalies).toEqual([]);
    await backend.close();
    expect((await usage(dir, 'store.ndjson')).names.length).toBeLessThanOrEqual(4);
  }, 60_000);

  it('rotates before a record would overflow the active file; a record larger than maxBytes gets a file of its own', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'log.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 400, maxFiles: 10, fsync: 'always' });
    const small = [event(1), event(2)];
    const huge = event(3, { payload: { text: 'x'.repeat(1000) } });
    const after = event(4);
    for (const e of [...small, huge, after]) await backend.recordEvent(e);
    const line = (e: ReturnType<typeof event>) => `${encodeRecord(e)}\n`;
    expect(await readFile(`${path}.2`, 'utf8')).toBe(small.map(line).join(''));
    expect(await readFile(`${path}.1`, 'utf8')).toBe(line(huge));
    expect(await readFile(path, 'utf8')).toBe(line(after));
    expect(await backend.files()).toEqual([`${path}.2`, `${path}.1`, path]);
    expect(await backend.listEvents()).toEqual([...small, huge, after]);
    expect(await backend.listEvents({ limit: 2, order: 'desc' })).toEqual([after, huge]);
    await backend.close();
  });

  it('reads the set in chronological order with retention per kind across every file', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'mixed.ndjson');
    const records = Array.from({ length: 60 }, (_, i) => [event, audit, deadLetter][i % 3]!(i));
    const writer = new RotatingBackend({ path, maxBytes: 700, maxFiles: 50, fsync: 'never' });
    for (const r of records) await write(writer, r);
    expect((await writer.files()).length).toBeGreaterThan(5);
    await writer.close();

    const reader = new RotatingBackend({ path, maxBytes: 700, maxFiles: 50, retention: { maxRecords: 4 } });
    const ofKind = (kind: string) => records.filter((r) => r.kind === kind);
    expect(await reader.listEvents()).toEqual(ofKind('event').slice(-4));
    expect(await reader.listAudits({ limit: 2 })).toEqual(ofKind('audit').slice(-2));
    expect(await reader.listDeadLetters({ order: 'desc' })).toEqual(ofKind('dead_letter').slice(-4).reverse());
    await reader.close();
  });

  it('lists taken while appends rotate the set see an in-order prefix of what was written, never a repeat or a gap', async () => {
    const dir = await dirs.make();
    const backend = new RotatingBackend({ path: join(dir, 'busy.ndjson'), maxBytes: 1024, maxFiles: 10_000, fsync: 'never' });
    const written = Array.from({ length: 1500 }, (_, i) => event(i, { payload: { n: i, pad: 'p'.repeat(i % 50) } }));
    const ids = written.map((e) => e.id);
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < written.length; i += 20) await Promise.all(written.slice(i, i + 20).map((e) => backend.recordEvent(e)));
      writing = false;
    })();
    let lists = 0;
    while (writing) {
      const listed = (await backend.listEvents()).map((e) => e.id);
      expect(listed).toEqual(ids.slice(0, listed.length));
      const newest = (await backend.listEvents({ limit: 30 })).map((e) => e.id);
      const start = ids.indexOf(newest[0]!);
      expect(newest).toEqual(ids.slice(start, start + newest.length));
      lists += 1;
    }
    await writes;
    expect(lists).toBeGreaterThan(0);
    expect(await backend.listEvents()).toEqual(written);
    await backend.close();
  }, 60_000);

  it('a torn active file left by a crash is sealed before the next append, so repair keeps every record', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const first = event(1);
    const crashed = new RotatingBackend({ path, maxBytes: 4096, maxFiles: 3, fsync: 'always' });
    await crashed.recordEvent(first);
    await crashed.close();
    await appendFile(path, '{"kind":"event","id":"torn","times');

    const backend = new RotatingBackend({ path, maxBytes: 4096, maxFiles: 3, fsync: 'always' });
    const second = event(2);
    await backend.recordEvent(second);
    expect((await backend.listEvents()).map((e) => e.id)).toEqual([first.id, second.id]);
    expect((await backend.scan()).anomalies.map((a) => [a.type, a.path, a.line])).toEqual([['CORRUPTED_LINE', path, 2]]);
    const report = await backend.recover({ mode: 'repair' });
    expect(report).toMatchObject({ keptRecords: 2, droppedRecords: 1, postScan: { anomalies: [] } });
    expect((await backend.listEvents()).map((e) => e.id)).toEqual([first.id, second.id]);
    await backend.close();
  });

  it('with maxFiles 1 the full active file is deleted and counted as dropped', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'one.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 200, maxFiles: 1, fsync: 'never' });
    const events = Array.from({ length: 5 }, (_, i) => event(i));
    for (const e of events) await backend.recordEvent(e);
    const listed = await backend.listEvents();
    expect(listed).toEqual(events.slice(-listed.length));
    expect(backend.metrics.snapshot().recordsDropped).toBe(5 - listed.length);
    expect((await readdir(dir)).sort()).toEqual(['.one.ndjson.lock', 'one.ndjson']);
    await backend.close();
  });

  it('a missing set is an empty store; a directory in its place is a typed error', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'not', 'yet', 'there.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 1000, maxFiles: 3, retention: { maxRecords: 1 } });
    expect(await backend.listEvents()).toEqual([]);
    expect((await backend.scan()).anomalies).toEqual([]);
    expect((await backend.recover({ mode: 'quarantine', quarantineDir: join(dir, 'q') })).postScan.anomalies).toEqual([]);
    expect((await backend.compact()).beforeRecords).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    await backend.close();

    const blocked = join(dir, 'blocked.ndjson');
    await mkdir(blocked);
    const broken = new RotatingBackend({ path: blocked, maxBytes: 1000, maxFiles: 3 });
    expect(await codeOf(() => broken.listEvents())).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => broken.scan())).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => broken.recordEvent(event(1)))).toBe('PAPYRA_NOT_A_FILE');
    await broken.close();
  });

  it('refuses bad options with PAPYRA_INVALID_CONFIG', () => {
    const code = (options: object) => {
      try {
        new RotatingBackend(options as never);
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'constructed';
    };
    expect(code({ path: 'x', maxBytes: 0, maxFiles: 3 })).toBe('PAPYRA_INVALID_CONFIG');
    expect(code({ path: 'x', maxBytes: 100, maxFiles: 2.5 })).toBe('PAPYRA_INVALID_CONFIG');
    expect(code({ path: 'x', maxFiles: 3 })).toBe('PAPYRA_INVALID_CONFIG');
    expect(code({ path: '', maxBytes: 100, maxFiles: 3 })).toBe('PAPYRA_INVALID_CONFIG');
    expect(code({ path: 'x', maxBytes: 100, maxFiles: 3, fsync: 'sometimes' })).toBe('PAPYRA_INVALID_CONFIG');
    expect(code({ path: 'x', maxBytes: 100, maxFiles: 3, retention: { maxRecords: -1 } })).toBe('PAPYRA_INVALID_CONFIG');
  });
});
