// Opens a store from a plain description, so a child (or the round-trip script) and the test
// name the same store: {ndjson: path} | {rotating: path} | {postgres: schema} | {redis: prefix} |
// {archive: dir} (an archive is a source, not a backend).
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { PostgresBackend } from '@papyra/backend-postgres';
import { RedisBackend } from '@papyra/backend-redis';
import { RotatingBackend } from '@papyra/backend-rotating';

export const POSTGRES_URL = process.env.PAPYRA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PAPYRA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function openStore(spec) {
  if (spec.archive) return spec;
  if (spec.ndjson) return new NdjsonBackend({ path: spec.ndjson, fsync: 'never' });
  if (spec.rotating) return new RotatingBackend({ path: spec.rotating, fsync: 'never', maxBytes: spec.maxBytes ?? 4 * 1024 * 1024, maxFiles: spec.maxFiles ?? 1000 });
  if (spec.postgres) return new PostgresBackend({ connectionString: POSTGRES_URL, schema: spec.postgres, applicationName: spec.postgres });
  if (spec.redis) return new RedisBackend({ url: REDIS_URL, prefix: spec.redis });
  throw new Error(`unknown store ${JSON.stringify(spec)}`);
}

export async function closeStore(store) {
  if (typeof store.close === 'function') await store.close();
}
