import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe } from '@jest/globals';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test file (or run) uses. */
export function uniquePrefix(file: string): string {
  return `papyra-test:${file}:${randomUUID().slice(0, 8)}`;
}

export function connect(url = REDIS_URL): Redis {
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null });
}

async function reachable(): Promise<boolean> {
  const client = connect();
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Whether Redis answers at REDIS_URL. */
export const redisUp = await reachable();

/**
 * `describe` when Redis answers at REDIS_URL. Otherwise the suite fails under CI=true and is
 * skipped, loudly, elsewhere.
 */
export function describeWithRedis(name: string, fn: () => void): void {
  if (redisUp) return describe(name, fn);
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      fn();
      throw new Error(`Redis is not reachable at ${REDIS_URL} (CI=true: Redis tests must run)`);
    });
    return;
  }
  console.warn(`\n!!! SKIPPING "${name}": Redis is not reachable at ${REDIS_URL}. Set REDIS_URL or start redis-server. !!!\n`);
  describe.skip(name, fn);
}

/** Deletes every key under `prefix` (SCAN + DEL; never FLUSHALL). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
