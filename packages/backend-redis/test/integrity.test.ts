/**
 * What readers see of a stream that holds more than clean records — duplicates left by a resend,
 * entries retention hides, oversized entries — and how trimming and compaction treat them.
 * Own redis-server on port 17005 (compaction counts commands with INFO commandstats).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { encodeRecord } from '@papyra/persistence-contract';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { event, prefixFor, storedIds, waitFor } from './support/records.js';
import { RedisServer, admin } from './support/servers.js';

let server: RedisServer;
let a: Redis;
const open: RedisBackend[] = [];
const DAY = 86_400_000;

function backend(name: string, options: RedisBackendOptions = {}): RedisBackend {
  const b = new RedisBackend({ url: server.url, prefix: prefixFor(name), ...options });
  open.push(b);
  return b;
}

async function commandCalls(command: string): Promise<number> {
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await a.info('commandstats'));
  return match ? Number(match[1]) : 0;
}

beforeAll(async () => {
  server = await RedisServer.start(17005);
  a = admin(17005);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(open.map((b) => b.close()));
  a?.disconnect();
  await server?.stop();
}, 30_000);

describe('de-duplication by record id', () => {
  it('a record stored twice (a resend after a dead connection) is listed once, counted once by retention and limit, and compacted away', async () => {
    const b = backend('dedup', { retention: { maxRecords: 4 }, trimOnWrite: false });
    const records = Array.from({ length: 6 }, (_, i) => event(i));
    // As a resend leaves them: 0 1 2 3 [4 5 applied, reply lost] 4 5.
    for (const r of [...records, records[4]!, records[5]!]) await a.xadd(b.keys.event, '*', 'data', encodeRecord(r));
    const ids = (list: { id: string | null }[]) => list.map((e) => e.id);
    expect(ids(await b.listEvents())).toEqual(ids(records.slice(2)));
    expect(ids(await b.listEvents({ limit: 3 }))).toEqual(ids(records.slice(3)));
    expect(ids(await b.listEvents({ limit: 2, order: 'desc' }))).toEqual(ids([records[5]!, records[4]!]));
    const report = await b.compact();
    expect(report).toMatchObject({ beforeRecords: 8, removedRecords: 4, afterRecords: 4 });
    expect(await storedIds(a, b.keys.event)).toEqual(ids(records.slice(2)));
    expect(ids(await b.listEvents())).toEqual(ids(records.slice(2)));
  });
});

describe('trim-on-write', () => {
  it('never removes a record a list still shows, even when retention hides the newest entries', async () => {
    const b = backend('trim', { retention: { maxRecords: 100, maxAgeMs: DAY } });
    const visible = Array.from({ length: 100 }, (_, i) => event(i));
    for (const r of visible) await b.recordEvent(r);
    await b.flush();
    // Python Papyra entries: monotonic-clock timestamps, read as 1970, hidden by age retention.
    const pipeline = a.pipeline();
    for (let i = 0; i < 150; i++)
      pipeline.xadd(
        b.keys.event,
        '*',
        'data',
        JSON.stringify({ kind: 'event', system_id: 'local', timestamp: 1_000 + i, actor_address: null, event_type: 'ActorStarted', payload: {} }),
      );
    await pipeline.exec();
    const one = event(1_000);
    await b.recordEvent(one);
    await b.flush();
    expect((await b.listEvents()).map((e) => e.id)).toEqual([...visible.slice(1), one].map((e) => e.id));
    // Enough new records to make a trim worthwhile: what goes is only what lists no longer show.
    const more = Array.from({ length: 120 }, (_, i) => event(2_000 + i));
    for (const r of more) await b.recordEvent(r);
    await b.flush();
    await waitFor(async () => (await a.xlen(b.keys.event)) === 100);
    expect((await b.listEvents()).map((e) => e.id)).toEqual(more.slice(20).map((e) => e.id));
  });
});

describe('oversized entries', () => {
  it('are anomalies that lists skip without reading them; repair removes them', async () => {
    const b = backend('oversized', { maxEntryBytes: 64 * 1024 });
    const before = event(1);
    await b.recordEvent(before);
    await b.flush();
    // Valid records, only too big: without the limit a list would return (and hold) them.
    for (let i = 0; i < 3; i++) await a.xadd(b.keys.event, '*', 'data', encodeRecord({ ...event(10 + i), payload: { blob: 'x'.repeat(1024 * 1024) } }));
    const after = event(3);
    await b.recordEvent(after);
    await b.flush();
    expect((await b.listEvents()).map((e) => e.id)).toEqual([before.id, after.id]);
    expect((await b.listEvents({ limit: 2 })).map((e) => e.id)).toEqual([before.id, after.id]);
    const { anomalies } = await b.scan();
    expect(anomalies).toHaveLength(3);
    expect(anomalies[0]).toMatchObject({ type: 'CORRUPTED_ENTRY', path: b.keys.event });
    expect(anomalies[0]!.detail).toMatch(/over the 65536-byte limit/);
    await expect(b.recordEvent({ ...event(4), payload: { blob: 'y'.repeat(100_000) } })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_RECORD' });
    const repaired = await b.recover({ mode: 'repair' });
    expect(repaired).toMatchObject({ droppedRecords: 3, postScan: { anomalies: [] } });
    expect(await a.xlen(b.keys.event)).toBe(2);
  });
});

describe('compaction', () => {
  it('trims the tail with one exact XTRIM MINID, no XDEL', async () => {
    const b = backend('compact-tail', { retention: { maxRecords: 100 }, trimOnWrite: false, batchSize: 5_000 });
    const records = Array.from({ length: 5_000 }, (_, i) => event(i));
    for (const r of records) await b.recordEvent(r);
    await b.flush();
    await a.config('RESETSTAT');
    const report = await b.compact();
    expect(report).toMatchObject({ beforeRecords: 5_000, removedRecords: 4_900, afterRecords: 100 });
    expect(await commandCalls('xdel')).toBe(0);
    expect(await commandCalls('xtrim')).toBe(1);
    expect(await storedIds(a, b.keys.event)).toEqual(records.slice(4_900).map((r) => r.id));
  });

  it('deletes a long run of hidden records between kept ones by id, with bounded memory', async () => {
    const b = backend('compact-run', { retention: { maxAgeMs: DAY }, trimOnWrite: false, batchSize: 5_000, pageSize: 500 });
    const young = (i: number) => event(i);
    const old = (i: number) => event(i, 'local', Date.now() - 30 * DAY);
    const records = [
      ...Array.from({ length: 10 }, (_, i) => young(i)),
      ...Array.from({ length: 2_500 }, (_, i) => old(100 + i)),
      ...Array.from({ length: 10 }, (_, i) => young(5_000 + i)),
    ];
    for (const r of records) await b.recordEvent(r);
    await b.flush();
    const kept = records.filter((r) => r.timestamp > Date.now() - DAY).map((r) => r.id);
    const report = await b.compact();
    expect(report).toMatchObject({ beforeRecords: 2_520, removedRecords: 2_500, afterRecords: 20 });
    expect(await storedIds(a, b.keys.event)).toEqual(kept);
    expect((await b.listEvents()).map((e) => e.id)).toEqual(kept);
  });
});
