import { Redis } from 'ioredis';
import { RedisBackend } from '@papyra/backend-redis';
import { encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { makeEvents } from '../files.js';
import { perSecond, sideBySide, timed, verify, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';
import { REDIS_URL } from '../services.js';

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

async function papyraWrites(redis: Redis, events: readonly PersistedEvent[], prefix: string): Promise<number> {
  const backend = new RedisBackend({ url: REDIS_URL, prefix, systemId: 'bench' });
  const ms = await timed(async () => {
    for (let i = 0; i < events.length; i += 10_000) await Promise.all(events.slice(i, i + 10_000).map((e) => backend.recordEvent(e)));
    await backend.flush();
  });
  const stored = await redis.xlen(backend.keys.event);
  await backend.close();
  verify('RedisBackend stream entries', events.length, stored);
  return perSecond(events.length, ms);
}

/** The floor: raw ioredis pipelines of XADD with the same encoded payloads, 1,000 per pipeline. */
async function rawWrites(redis: Redis, events: readonly PersistedEvent[], prefix: string): Promise<number> {
  const key = `${prefix}:bench:events`;
  const ms = await timed(async () => {
    for (let i = 0; i < events.length; i += 1000) {
      const pipeline = redis.pipeline();
      for (const e of events.slice(i, i + 1000)) pipeline.xadd(key, '*', 'data', encodeRecord(e));
      await pipeline.exec();
    }
  });
  verify('raw XADD stream entries', events.length, await redis.xlen(key));
  return perSecond(events.length, ms);
}

export async function redisSection(scale: Scale): Promise<Figure[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  await redis.connect();
  const prefix = `papyra-bench-${process.pid}-${Date.now()}`;
  try {
    const events = makeEvents(scale.redisRecords);
    const [papyra, raw] = await sideBySide(
      scale.runs,
      async () => {
        const p = `${prefix}-p${Math.random().toString(36).slice(2)}`;
        const rate = await papyraWrites(redis, events, p);
        await deleteKeys(redis, p);
        return rate;
      },
      async () => {
        const p = `${prefix}-r${Math.random().toString(36).slice(2)}`;
        const rate = await rawWrites(redis, events, p);
        await deleteKeys(redis, p);
        return rate;
      },
    );
    return [
      {
        id: 'redis.pipelined',
        section: 'redis',
        name: `pipelined writes, ${events.length.toLocaleString('en-US')} records`,
        subject: { label: 'RedisBackend', unit: 'rec/s', values: papyra },
        baseline: { label: 'raw ioredis pipelined XADD', unit: 'rec/s', values: raw },
        target: { kind: 'min-ratio', value: 0.8 },
        note: 'both counted as stream entries (XLEN) afterwards',
      },
    ];
  } finally {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}
