import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import {
  createAudit,
  createEvent,
  encodeRecord,
  readRecords,
  storeStats,
  type KindStats,
  type PersistedEvent,
  type PersistedRecord,
  type ReadOptions,
  type StoredRecord,
} from '@papyra/persistence-contract';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { REDIS_URL, connect, deleteKeys, describeWithRedis, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('read');
let redis: Redis;
let backends: RedisBackend[] = [];
let n = 0;

function make(options: RedisBackendOptions = {}): RedisBackend {
  const backend = new RedisBackend({ url: REDIS_URL, prefix: `${prefix}:${++n}`, ...options });
  backends.push(backend);
  return backend;
}

const NOW = 1_700_000_100_000;
const event = (i: number, timestamp: number, text = '') =>
  createEvent({ systemId: 'local', actorAddress: `local:${i % 3}`, eventType: 'ActorStarted', payload: { i, text }, timestamp });

async function collect(backend: RedisBackend, options?: ReadOptions): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const r of backend.records(options)) out.push(r);
  return out;
}

/** What the lists show, tallied the way `stats()` reports it. */
function tally(records: PersistedRecord[]): KindStats {
  const ts = records.map((r) => r.timestamp);
  return {
    records: records.length,
    bytes: records.reduce((sum, r) => sum + Buffer.byteLength(encodeRecord(r)) + 1, 0),
    oldest: ts.length === 0 ? null : Math.min(...ts),
    newest: ts.length === 0 ? null : Math.max(...ts),
  };
}

describeWithRedis('records() and stats()', () => {
  beforeAll(async () => {
    redis = connect();
    await redis.connect();
  });
  afterEach(async () => {
    await Promise.allSettled(backends.map((b) => b.close()));
    backends = [];
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('show what lists show: age retention, one copy per id, damaged and oversized entries skipped; stats tally the lists', async () => {
    const b = make({ retention: { maxAgeMs: 60_000 }, clock: () => NOW, maxEntryBytes: 2_000 });
    // Odd records are older than maxAgeMs, interleaved with young ones (entry order is not time order).
    const events = Array.from({ length: 10 }, (_, i) => event(i, i % 2 === 1 ? NOW - 120_000 + i : NOW - 50_000 + i * 1000));
    for (const e of events) await b.recordEvent(e);
    await b.recordAudit(
      createAudit({
        systemId: 'local',
        totalActors: 0,
        aliveActors: 0,
        stoppingActors: 0,
        restartingActors: 0,
        registrySize: 0,
        registryOrphans: [],
        registryDead: [],
        deadLettersCount: 0,
        timestamp: NOW - 1_000,
      }),
    );
    await b.flush();
    // A resent batch (a second copy of record 4, newer), and entries no list shows.
    await redis.xadd(b.keys.event, '*', 'data', encodeRecord(events[4]!));
    await redis.xadd(b.keys.event, '*', 'data', '{"kind": "spaceship", "timestamp": 1}');
    await redis.xadd(b.keys.event, '*', 'data', '{"kind": "event", "timest');
    await redis.xadd(b.keys.event, '*', 'data', encodeRecord(event(99, NOW, 'x'.repeat(3_000))));

    const lists = { event: await b.listEvents(), audit: await b.listAudits(), dead_letter: await b.listDeadLetters() };
    expect(lists.event.map((e) => e.payload['i'])).toEqual([0, 2, 6, 8, 4]);
    const read = await collect(b);
    expect(read.map((r) => r.record)).toEqual([...lists.event, ...lists.audit, ...lists.dead_letter]);
    expect(read.map((r) => r.line)).toEqual(read.map((r) => encodeRecord(r.record)));

    const stats = await b.stats();
    expect(stats).toEqual({
      backend: 'redis',
      kinds: { event: tally(lists.event), audit: tally(lists.audit), dead_letter: tally([]) },
      total: tally([...lists.event, ...lists.audit]),
    });
    expect(await storeStats(b)).toEqual(stats);
    expect(await redis.xlen(b.keys.event)).toBe(14); // what XLEN would have said

    // The window: kinds, since <= timestamp < until.
    const window = await collect(b, { kinds: ['event'], since: NOW - 50_000 + 2_000, until: NOW - 50_000 + 8_000 });
    expect(window.map((r) => (r.record as PersistedEvent).payload)).toEqual([
      { i: 2, text: '' },
      { i: 6, text: '' },
      { i: 4, text: '' },
    ]);
    expect((await collect(b, { kinds: ['audit', 'dead_letter'] })).map((r) => r.record.kind)).toEqual(['audit']);
    expect((await readRecords(b, { kinds: ['event'] }).next()).value).toEqual(read[0]);
  });

  it('with count retention, duplicates among the newest entries do not use up the count', async () => {
    const b = make({ retention: { maxRecords: 3 }, trimOnWrite: false });
    const events = Array.from({ length: 6 }, (_, i) => event(i, NOW + i));
    for (const e of events) await b.recordEvent(e);
    await b.flush();
    await redis.xadd(b.keys.event, '*', 'data', encodeRecord(events[5]!));
    await redis.xadd(b.keys.event, '*', 'data', encodeRecord(events[4]!));
    const listed = await b.listEvents();
    expect(listed.map((e) => e.payload['i'])).toEqual([3, 5, 4]);
    expect((await collect(b)).map((r) => r.record)).toEqual(listed);
    expect((await b.stats()).kinds.event).toEqual(tally(listed));
  });

  it('streams 50,000 entries with bounded memory, oldest first, and counts them exactly', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const b = make();
    // Written inside Redis from one encoded record (encoding and sending 50,000 from here would
    // dominate the test's time); each entry gets its own id, index and timestamp.
    const [head, tail] = encodeRecord(event(0, NOW, 'y'.repeat(300)))
      .replace(/"id":"[^"]+"/, '"id":"r-@"')
      .replace('"i":0', '"i":@')
      .replace(/"timestamp":[0-9.]+/, '"timestamp":@')
      .split('"id":"r-@"');
    const line = (j: number) =>
      `${head}"id":"r-${j}"${tail}`.replace('"i":@', `"i":${j}`).replace('"timestamp":@', `"timestamp":${((NOW + j) / 1000).toFixed(3)}`);
    const script = `for j = tonumber(ARGV[1]), tonumber(ARGV[2]) do
      local ts = string.format('%.3f', (tonumber(ARGV[5]) + j) / 1000)
      local data = string.gsub(string.gsub(ARGV[3] .. '"id":"r-' .. j .. '"' .. ARGV[4], '"i":@', '"i":' .. j), '"timestamp":@', '"timestamp":' .. ts)
      redis.call('XADD', KEYS[1], '*', 'data', data)
    end`;
    for (let i = 0; i < 50_000; i += 10_000) await redis.eval(script, 1, b.keys.event, i, i + 9_999, head!, tail!, NOW);
    let bytes = 0;
    for (let j = 0; j < 50_000; j++) bytes += Buffer.byteLength(line(j)) + 1;
    expect((await redis.xrange(b.keys.event, '-', '+', 'COUNT', 2)).map(([, fields]) => fields[1])).toEqual([line(0), line(1)]);
    gc();
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    let growth = 0;
    let ordered = true;
    for await (const { record } of b.records()) {
      if (record.kind !== 'event' || record.payload['i'] !== count) ordered = false;
      count += 1;
      if (count === 25_000) {
        gc();
        growth = process.memoryUsage().heapUsed - before;
      }
    }
    expect({ count, ordered }).toEqual({ count: 50_000, ordered: true });
    // Held at once, the records would take about 60 MB (their lines alone are 22 MB).
    expect(growth).toBeLessThan(20 * 1024 * 1024);
    expect((await b.stats()).kinds.event).toEqual({ records: 50_000, bytes, oldest: NOW, newest: NOW + 49_999 });
  }, 60_000);
});
