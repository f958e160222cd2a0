import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createEvent, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { RedisBackend } from '../src/index.js';
import { REDIS_URL, connect, deleteKeys, describeWithRedis, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('large');
const TOTAL = 120_000;
let redis: Redis;
let backend: RedisBackend;
let firstBad: string;
let lastBad: string;
const newest: PersistedEvent[] = [];

describeWithRedis('a stream of 120,000 entries', () => {
  beforeAll(async () => {
    redis = connect();
    await redis.connect();
    backend = new RedisBackend({ url: REDIS_URL, prefix });
    const key = backend.keys.event;
    firstBad = (await redis.xadd(key, '*', 'data', '{"kind": "event", "timestamp": ')) as string;
    for (let start = 0; start < TOTAL; start += 10_000) {
      const pipeline = redis.pipeline();
      for (let i = start; i < start + 10_000; i++) {
        const e = createEvent({ systemId: 'local', actorAddress: `local:${i}`, eventType: 'ActorStarted', payload: { i }, timestamp: 1_700_000_000_000 + i });
        if (i >= TOTAL - 50) newest.push(e);
        pipeline.xadd(key, '*', 'data', encodeRecord(e));
      }
      await pipeline.exec();
    }
    lastBad = (await redis.xadd(key, '*', 'nodata', 'x')) as string;
  }, 120_000);

  afterAll(async () => {
    await backend.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('lists the newest 50 records', async () => {
    expect(await redis.xlen(backend.keys.event)).toBe(TOTAL + 2);
    expect(await backend.listEvents({ limit: 50 })).toEqual(newest);
    expect(await backend.listEvents({ limit: 50, order: 'desc' })).toEqual([...newest].reverse());
  });

  it('scan pages through the whole stream and finds the first and the last entry', async () => {
    const progress: number[] = [];
    const report = await backend.scan({ onProgress: (p) => progress.push(p.processed) });
    expect(report.anomalies.map((a) => a.type)).toEqual(['CORRUPTED_ENTRY', 'CORRUPTED_ENTRY']);
    expect(report.anomalies[0]!.detail).toContain(firstBad);
    expect(report.anomalies[1]!.detail).toContain(lastBad);
    expect(progress[progress.length - 1]).toBe(TOTAL + 2);
    expect(progress.length).toBeGreaterThan(100);
  }, 120_000);

  it('repair removes both and keeps every record', async () => {
    const report = await backend.recover({ mode: 'repair' });
    expect(report).toMatchObject({ droppedRecords: 2, keptRecords: TOTAL });
    expect(report.postScan.anomalies).toEqual([]);
    expect(await redis.xlen(backend.keys.event)).toBe(TOTAL);
  }, 120_000);
});
