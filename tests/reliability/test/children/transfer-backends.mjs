// Opens a store from a plain description, so a child (or the round-trip script) and the test
// name the same store: {ndjson: path} | {rotating: path} | {postgres: schema} | {redis: prefix} |
// {archive: dir} (an archive is a source, not a backend). Backends are imported on demand: a
// child that is killed and restarted many times should not pay for drivers it does not use.

export const POSTGRES_URL = process.env.PAPYRA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PAPYRA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function openStore(spec) {
  if (spec.archive) return spec;
  if (spec.ndjson) {
    const { NdjsonBackend } = await import('@papyra/backend-ndjson');
    return new NdjsonBackend({ path: spec.ndjson, fsync: 'never' });
  }
  if (spec.rotating) {
    const { RotatingBackend } = await import('@papyra/backend-rotating');
    return new RotatingBackend({ path: spec.rotating, fsync: 'never', maxBytes: spec.maxBytes ?? 4 * 1024 * 1024, maxFiles: spec.maxFiles ?? 1000 });
  }
  if (spec.postgres) {
    const { PostgresBackend } = await import('@papyra/backend-postgres');
    return new PostgresBackend({ connectionString: POSTGRES_URL, schema: spec.postgres, applicationName: spec.postgres });
  }
  if (spec.redis) {
    const { RedisBackend } = await import('@papyra/backend-redis');
    return new RedisBackend({ url: REDIS_URL, prefix: spec.redis });
  }
  throw new Error(`unknown store ${JSON.stringify(spec)}`);
}

export async function closeStore(store) {
  if (typeof store.close === 'function') await store.close();
}
