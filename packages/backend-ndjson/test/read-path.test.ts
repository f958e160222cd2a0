import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  applyListQuery,
  encodeRecord,
  hasRetention,
  normalizeListQuery,
  retainedMask,
  type PersistedRecord,
  type RecordKind,
  type RetentionPolicy,
} from '@papyra/persistence-contract';
import { listRecords, type ListRecordsOptions } from '../src/segments/list.js';
import type { OpenSegment } from '../src/segments/lines.js';
import { scanSegment } from '../src/segments/scanner.js';
import { audit, deadLetter, event, tempDirs } from './helpers.js';

// Issue 16, items 8–10: the read path gives every line one verdict, hands out only formattable
// timestamps, and serves `limit` with a time cutoff from the end of the file.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const CHUNKS = [1, 2, 3, 5, 7, 16, 61, undefined];
const MAX = 16 * 1024 * 1024;

const lineOf = (record: PersistedRecord) => Buffer.from(`${encodeRecord(record)}\n`);
const options = (chunkBytes?: number, extra: Partial<ListRecordsOptions> = {}): ListRecordsOptions => ({
  retention: {},
  now: 1_700_000_000_000,
  maxLineBytes: MAX,
  ...(chunkBytes !== undefined && { chunkBytes }),
  ...extra,
});
const ns = (records: readonly PersistedRecord[]) => records.map((r) => (r.kind === 'event' ? (r.payload as { n: number }).n : r.timestamp));

async function fileOf(parts: Buffer[]): Promise<string> {
  const path = join(await dirs.make(), 'store.ndjson');
  await writeFile(path, Buffer.concat(parts));
  return path;
}

describe('a line that starts with a UTF-8 byte-order mark', () => {
  it('is a CORRUPTED_LINE to scan and absent from every list, whatever the chunk boundaries', async () => {
    // At the start of the file (as editors write it) and in the middle.
    const path = await fileOf([BOM, lineOf(event(1)), lineOf(event(2)), BOM, lineOf(event(3)), lineOf(event(4))]);
    for (const chunkBytes of CHUNKS) {
      const scan = await scanSegment(path, { maxLineBytes: MAX, ...(chunkBytes !== undefined && { chunkBytes }) });
      expect(scan.anomalies.map((a) => [a.type, a.line, a.offset])).toEqual([
        ['CORRUPTED_LINE', 1, 0],
        ['CORRUPTED_LINE', 3, lineOf(event(1)).length + 3 + lineOf(event(2)).length],
      ]);
      expect(scan.records).toBe(2);
      expect(ns(await listRecords([path], 'event', normalizeListQuery({}), options(chunkBytes)))).toEqual([2, 4]);
      expect(ns(await listRecords([path], 'event', normalizeListQuery({ limit: 10 }), options(chunkBytes)))).toEqual([2, 4]);
      expect(ns(await listRecords([path], 'event', normalizeListQuery({ limit: 1 }), options(chunkBytes)))).toEqual([4]);
    }
  });
});

describe('timestamps outside the range a Date can format', () => {
  it('are INVALID_RECORD anomalies to scan and never reach a list', async () => {
    const huge = Buffer.from('{"kind": "event", "id": "x", "system_id": "test", "timestamp": 9e15, "event_type": "ActorStarted", "payload": {"n": 99}}\n');
    const negative = Buffer.from('{"kind": "audit", "timestamp": -9e15}\n');
    const path = await fileOf([lineOf(event(1)), huge, negative, lineOf(event(2)), huge]);
    const scan = await scanSegment(path, { maxLineBytes: MAX });
    expect(scan.anomalies.map((a) => [a.type, a.line])).toEqual([
      ['INVALID_RECORD', 2],
      ['INVALID_RECORD', 3],
      ['INVALID_RECORD', 5],
    ]);
    for (const q of [{}, { limit: 5 }, { limit: 5, since: 0 }]) {
      for (const kind of ['event', 'audit'] as const) {
        const listed = await listRecords([path], kind, normalizeListQuery(q), options(undefined, { retention: { maxAgeMs: 10 ** 15 } }));
        for (const r of listed) expect(() => new Date(r.timestamp).toISOString()).not.toThrow();
        expect(ns(listed)).toEqual(kind === 'event' ? [1, 2] : []);
      }
    }
  });
});

/** The answer of the contract helpers over the whole decoded log: what every list must equal. */
function reference(records: readonly PersistedRecord[], kind: RecordKind, query: object, retention: RetentionPolicy, now: number): PersistedRecord[] {
  let kept = [...records];
  if (hasRetention(retention)) {
    const mask = retainedMask(
      records.map((r) => ({ kind: r.kind, timestamp: r.timestamp, bytes: lineOf(r).length })),
      retention,
      now,
    );
    kept = records.filter((_, i) => mask[i]);
  }
  return applyListQuery(
    kept.filter((r) => r.kind === kind),
    query,
  );
}

/** A FileHandle that counts the bytes read through it. */
async function countingSegment(path: string): Promise<{ segment: OpenSegment; read: () => number; close: () => Promise<void> }> {
  const handle = await open(path, 'r');
  const size = (await handle.stat()).size;
  let read = 0;
  const counting = {
    read: async (buf: Buffer, offset: number, length: number, position: number) => {
      const result = await handle.read(buf, offset, length, position);
      read += result.bytesRead;
      return result;
    },
    close: () => handle.close(),
  };
  return { segment: { path, handle: counting as unknown as OpenSegment['handle'], size }, read: () => read, close: () => handle.close() };
}

describe('lists with a time cutoff and retention', () => {
  const now = 1_700_000_100_000;
  // Mixed kinds in roughly increasing time, with some records stamped up to 40 ms out of order.
  const records: PersistedRecord[] = Array.from({ length: 3000 }, (_, i) => {
    const skew = i % 13 === 0 ? -40 : 0;
    const n = i * 10 + skew;
    return i % 7 === 0 ? { ...audit(n) } : i % 11 === 0 ? { ...deadLetter(n) } : event(i, { timestamp: 1_700_000_000_000 + n });
  });

  it('gives the same answer as the whole log when skew stays inside the window', async () => {
    const path = await fileOf(records.map(lineOf));
    const since = 1_700_000_000_000 + 25_000;
    const cases: [object, RetentionPolicy][] = [
      [{ limit: 50, since }, {}],
      [{ limit: 5000, since }, {}],
      [{ limit: 50, since: since + 10 ** 6 }, {}],
      [{ limit: 10, since, order: 'desc' }, {}],
      [{ limit: 100 }, { maxAgeMs: now - since }],
      [
        { limit: 100, since },
        { maxAgeMs: now - since + 3000, maxRecords: 40 },
      ],
      [{ limit: 100, since }, { maxTotalBytes: 20_000 }],
      // Unlimited lists decide retention while streaming too.
      [{ since }, { maxRecords: 40 }],
      [{}, { maxTotalBytes: 20_000 }],
      [{ order: 'desc' }, { maxAgeMs: now - since, maxRecords: 400, maxTotalBytes: 90_000 }],
      [{ since: since + 3000 }, { maxAgeMs: now - since }],
    ];
    for (const [query, retention] of cases) {
      for (const kind of ['event', 'audit', 'dead_letter'] as const) {
        const listed = await listRecords([path], kind, normalizeListQuery(query), options(509, { retention, now, staleWindow: 100 }));
        expect({ query, retention, kind, listed: listed.map((r) => r.id) }).toEqual({
          query,
          retention,
          kind,
          listed: reference(records, kind, query, retention, now).map((r) => r.id),
        });
      }
    }
  });

  it('stops after a window of records older than the cutoff, holding no more than the answer', async () => {
    const old = records.map((r) => ({ ...r, timestamp: r.timestamp - 10 ** 7 }));
    // One recent record far back (clock skew): a limit read never sees it, an unlimited list does.
    const path = await fileOf([lineOf(event(-1, { timestamp: now })), ...old.map(lineOf)]);
    const size = Buffer.concat(old.map(lineOf)).length;
    const { segment, read, close } = await countingSegment(path);
    try {
      const listed = await listRecords([segment], 'event', normalizeListQuery({ limit: 50, since: now - 1000 }), options(4096, { now, staleWindow: 200 }));
      expect(listed).toEqual([]);
      // 200 records of about 220 bytes, plus one chunk: a small part of the file.
      expect(read()).toBeLessThan(200 * 300 + 4096);
      expect(read()).toBeLessThan(size / 5);
    } finally {
      await close();
    }
    expect(ns(await listRecords([path], 'event', normalizeListQuery({ since: now - 1000 }), options(undefined, { now })))).toEqual([-1]);
    // Age retention with a limit is served the same way.
    const { segment: again, read: readAgain, close: closeAgain } = await countingSegment(path);
    try {
      expect(
        await listRecords([again], 'audit', normalizeListQuery({ limit: 5 }), options(4096, { now, staleWindow: 200, retention: { maxAgeMs: 1000 } })),
      ).toEqual([]);
      expect(readAgain()).toBeLessThan(size / 5);
    } finally {
      await closeAgain();
    }
  });
});
