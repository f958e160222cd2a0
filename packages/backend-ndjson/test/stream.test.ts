import { appendFile, copyFile, open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  RECORD_KINDS,
  applyListQuery,
  encodeRecord,
  normalizeListQuery,
  storeStats,
  type ListQuery,
  type PersistedEvent,
  type PersistedRecord,
  type RecordKind,
  type StoredRecord,
} from '@papyra/persistence-contract';
import { NdjsonBackend } from '../src/index.js';
import { listRecords, visibleRecords } from '../src/segments/list.js';
import { audit, codeOf, deadLetter, event, tempDirs } from './helpers.js';

// Issue 17, items 1–3: records are validated at write, list filters are applied while streaming
// (before `limit`, also on the backward read), and `records()` / `stats()` stream the visible store.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const MAX = 16 * 1024 * 1024;
const NOW = 1_700_000_000_000 + 10_000_000;
const fixture = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/papyra-py/system.ndjson');

/** Event `n` of actor `actor` stamped `timestamp`. */
const ev = (n: number, actor: string, timestamp: number, eventType = 'ActorStarted'): PersistedEvent => event(n, { actorAddress: actor, timestamp, eventType });
const ns = (records: readonly PersistedRecord[]) => records.map((r) => (r as PersistedEvent).payload['n']);

/** Writes the records as one file (encoded in blocks, so a large file costs little memory). */
async function fileOf(count: number, make: (i: number) => PersistedRecord, extra = ''): Promise<string> {
  const path = join(await dirs.make(), 'store.ndjson');
  await writeFile(path, '');
  for (let start = 0; start < count; start += 10_000) {
    let block = '';
    for (let i = start; i < Math.min(count, start + 10_000); i++) block += `${encodeRecord(make(i))}\n`;
    await appendFile(path, block);
  }
  if (extra) await appendFile(path, extra);
  return path;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function allOf(path: string): Promise<PersistedRecord[]> {
  return collect(new NdjsonBackend({ path }).records()).then((rs) => rs.map((r) => r.record));
}

describe('writes', () => {
  it('refuse a record that would read back as INVALID_RECORD, and count the refusal as a failed write', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const backend = new NdjsonBackend({ path, fsync: 'never' });
    for (const timestamp of [Number.NaN, Infinity, 9e15]) {
      await expect(backend.recordEvent(event(1, { timestamp }))).rejects.toMatchObject({ code: 'PAPYRA_INVALID_RECORD' });
    }
    await expect(backend.recordEvent({ ...event(1), systemId: 5 } as never)).rejects.toMatchObject({ code: 'PAPYRA_INVALID_RECORD' });
    await backend.recordEvent(event(2));
    await backend.flush();
    expect(backend.metrics.snapshot().writeErrors).toBe(4);
    expect((await backend.scan()).anomalies).toEqual([]);
    expect(ns(await backend.listEvents())).toEqual([2]);
    await backend.close();
  });
});

describe('list filters', () => {
  // 30,000 events of 100 actors, two event types; actor 'test:rare' only near the start and the end.
  const T0 = 1_700_000_000_000;
  const make = (i: number) =>
    i === 3 || i === 29_990 || i === 29_995
      ? ev(i, 'test:rare', T0 + i, 'ActorCrashed')
      : ev(i, `a:${i % 100}`, T0 + i, i % 2 ? 'ActorCrashed' : 'ActorStarted');
  const queries: ListQuery[] = [
    { actor: 'test:rare', limit: 2 },
    { actor: 'test:rare', limit: 5 },
    { actor: 'test:rare', limit: 2, order: 'desc' },
    { actor: 'a:7', limit: 4 },
    { actor: 'a:7', eventType: 'ActorCrashed', limit: 3 },
    { actor: 'a:8', eventType: 'ActorStarted', limit: 3 },
    { eventType: 'ActorCrashed', limit: 3, since: T0 + 29_000 },
    { actor: 'test:rare' },
    { actor: 'a:7', since: T0 + 29_000 },
  ];

  it('apply before limit, on the backward read of a large file as on the forward one', async () => {
    const path = await fileOf(30_000, make, '{broken\n');
    const all = await allOf(path);
    expect(all).toHaveLength(30_000);
    const backend = new NdjsonBackend({ path });
    for (const query of queries) {
      const expected = applyListQuery(all as PersistedEvent[], query);
      expect(expected.length).toBeGreaterThan(0);
      expect([query, ns(await backend.listEvents(query))]).toEqual([query, ns(expected)]);
    }
    expect(await backend.listAudits({ actor: 'test:rare', limit: 1 })).toEqual([]);
    expect(await backend.listEvents({ target: 'a:7', limit: 3 })).toEqual([]);
    await expect(backend.listEvents({ eventType: 1 as never })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_ARGUMENT' });
    await backend.close();
  });

  it('do not change where a limit read with a time cutoff stops: every record, filtered or not, counts for the stale window', async () => {
    const since = T0 + 1_000_000;
    // A recent 'x', then 20,000 recent records of others (they reset the window, never count towards
    // the limit), then 'x' again, then 5,000 old records (skew) after which the read gives up.
    const path = await fileOf(25_002, (i) => (i === 0 || i === 20_001 ? ev(i, 'test:x', since + i) : ev(i, 'test:y', i <= 20_001 ? since + i : T0)));
    const q = (query: ListQuery, staleWindow = 1000) =>
      listRecords<PersistedEvent>([path], 'event', normalizeListQuery(query), { retention: {}, now: NOW, maxLineBytes: MAX, staleWindow });
    // 5,000 stale records > window: neither 'x' is seen by a limit read (the documented skew rule)…
    expect(ns(await q({ actor: 'test:x', since, limit: 2 }))).toEqual([]);
    // …and the unlimited list still returns both.
    expect(ns(await q({ actor: 'test:x', since }))).toEqual([0, 20_001]);
    // With a window wider than the stale run, the 20,000 recent records of 'y' between the two
    // do not stop the read (they are not stale) nor count towards the limit (they are filtered out).
    expect(ns(await q({ actor: 'test:x', since, limit: 2 }, 6000))).toEqual([0, 20_001]);
  }, 60_000);
});

describe('records()', () => {
  it('streams what lists show, oldest first per kind, kinds in order, with each line as stored', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await copyFile(fixture, path);
    await appendFile(path, '{"kind": "event", "id": "x", "system_id": "t", "timestamp": 9e15}\n\ufeff{}\nnot json\n');
    for (const retention of [{}, { maxRecords: 3 }, { maxTotalBytes: 900 }]) {
      const backend = new NdjsonBackend({ path, retention });
      const streamed = await collect(backend.records());
      const lists: Record<RecordKind, PersistedRecord[]> = {
        event: await backend.listEvents(),
        audit: await backend.listAudits(),
        dead_letter: await backend.listDeadLetters(),
      };
      expect(streamed.map((s) => s.record)).toEqual(RECORD_KINDS.flatMap((k) => lists[k]));
      const text = await readFile(path, 'utf8');
      for (const { line } of streamed) expect(text.split('\n')).toContain(line);
      // The window: kinds, since <= timestamp < until.
      const some = lists.event.concat(lists.dead_letter);
      if (some.length > 1) {
        const since = Math.min(...some.map((r) => r.timestamp)) + 1;
        const until = Math.max(...some.map((r) => r.timestamp));
        const windowed = await collect(backend.records({ kinds: ['dead_letter', 'event'], since, until }));
        const inWindow = (r: PersistedRecord) => r.timestamp >= since && r.timestamp < until;
        expect(windowed.map((s) => s.record)).toEqual([...lists.event.filter(inWindow), ...lists.dead_letter.filter(inWindow)]);
      }
      await backend.close();
    }
  });

  it('holds a bounded number of records however large the file: the read stays within a chunk and a batch of the consumer', async () => {
    const path = await fileOf(100_000, (i) => ev(i, `a:${i % 10}`, 1_700_000_000_000 + i));
    const handle = await open(path, 'r');
    let read = 0;
    // The file as an open segment whose reads are counted.
    const counted = new Proxy(handle, {
      get(target, key) {
        if (key === 'read') return (...args: Parameters<FileHandle['read']>) => target.read(...args).then((r) => ((read += r.bytesRead), r));
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const size = (await handle.stat()).size;
    let consumed = 0;
    let longest = 0;
    let ahead = 0;
    let count = 0;
    // A count limit that hides nothing: a counting pass, then the listing pass that must not run ahead.
    for await (const { line } of visibleRecords(
      [{ path, handle: counted, size }],
      { kinds: ['event'] },
      { retention: { maxRecords: 100_000 }, now: NOW, maxLineBytes: MAX },
    )) {
      const bytes = Buffer.byteLength(line) + 1;
      consumed += bytes;
      longest = Math.max(longest, bytes);
      if (++count % 1000 === 0) ahead = Math.max(ahead, read - size - consumed);
    }
    await handle.close();
    console.log('[records memory] figures', JSON.stringify({ records: count, fileBytes: size, maxBytesReadAhead: ahead }));
    expect(count).toBe(100_000);
    expect(read).toBe(2 * size);
    // One 1 MiB chunk plus one batch of 256 lines at most.
    expect(ahead).toBeLessThanOrEqual(2 ** 20 + 257 * longest);
  }, 120_000);

  it('stops reading when the consumer stops, and answers PAPYRA_BACKEND_CLOSED after close()', async () => {
    const path = await fileOf(5_000, (i) => ev(i, 'a', 1_700_000_000_000 + i));
    const backend = new NdjsonBackend({ path });
    const first: StoredRecord[] = [];
    for await (const item of backend.records()) {
      first.push(item);
      if (first.length === 3) break;
    }
    expect(ns(first.map((f) => f.record))).toEqual([0, 1, 2]);
    await backend.close();
    expect(await codeOf(() => collect(backend.records()))).toBe('PAPYRA_BACKEND_CLOSED');
    expect(await codeOf(() => backend.stats())).toBe('PAPYRA_BACKEND_CLOSED');
  });
});

describe('stats()', () => {
  it('equals a tally of the lists (retention applied, damaged lines skipped), bytes as stored', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await copyFile(fixture, path);
    const backend = new NdjsonBackend({ path, retention: { maxRecords: 4 } });
    for (let i = 0; i < 6; i++) {
      await backend.recordEvent(event(i));
      await backend.recordAudit(audit(i));
      await backend.recordDeadLetter(deadLetter(i));
    }
    await backend.flush();
    await appendFile(path, 'garbage\n');
    const stats = await backend.stats();
    const tally = (records: readonly StoredRecord[]) => ({
      records: records.length,
      bytes: records.reduce((sum, r) => sum + Buffer.byteLength(r.line) + 1, 0),
      oldest: records.length ? Math.min(...records.map((r) => r.record.timestamp)) : null,
      newest: records.length ? Math.max(...records.map((r) => r.record.timestamp)) : null,
    });
    const listed = { event: await backend.listEvents(), audit: await backend.listAudits(), dead_letter: await backend.listDeadLetters() };
    for (const kind of RECORD_KINDS) {
      const streamed = await collect(backend.records({ kinds: [kind] }));
      expect(streamed.map((s) => s.record)).toEqual(listed[kind]);
      expect(stats.kinds[kind]).toEqual(tally(streamed));
      expect(stats.kinds[kind].records).toBe(4);
    }
    expect(stats.total.records).toBe(12);
    expect(await storeStats(backend)).toEqual(stats);
    await backend.close();
  });
});
