import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { runBackendConformance, type ConformanceContext } from '@papyra/persistence-contract/conformance';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { REDIS_URL, connect, deleteKeys, describeWithRedis, redisUp } from './helpers.js';

const redis: Redis = connect();
const options = new WeakMap<RedisBackend, RedisBackendOptions>();
const prefixOf = (ctx: ConformanceContext) => `papyra-test:cf:${ctx.namespace}`;

function open(opts: RedisBackendOptions): RedisBackend {
  const backend = new RedisBackend(opts);
  options.set(backend, opts);
  return backend;
}

afterAll(() => redis.disconnect());

// Without Redis this fails under CI=true and is skipped loudly elsewhere; the suite needs a server.
describeWithRedis('RedisBackend conformance prerequisites', () => {
  it('Redis answers at REDIS_URL', async () => {
    if (redis.status === 'wait') await redis.connect();
    expect(await redis.ping()).toBe('PONG');
  });
});

if (redisUp)
  await runBackendConformance(
    { describe, it, beforeEach, afterEach },
    {
      name: 'redis',
      async make(ctx) {
        return open({ url: REDIS_URL, prefix: prefixOf(ctx), ...(ctx.retention && { retention: ctx.retention }), ...(ctx.clock && { clock: ctx.clock }) });
      },
      async reopen(backend) {
        return open(options.get(backend)!);
      },
      corruptions: ['corrupt_line', 'invalid_record'],
      async corrupt(backend, kind) {
        if (redis.status === 'wait') await redis.connect();
        const data = kind === 'corrupt_line' ? '{"kind": "event", "timest' : '{"kind": "spaceship", "timestamp": 1}';
        await redis.xadd(backend.keys.event, '*', 'data', data);
      },
      async cleanup(ctx) {
        if (redis.status === 'wait') await redis.connect();
        await deleteKeys(redis, prefixOf(ctx));
      },
    },
  );
