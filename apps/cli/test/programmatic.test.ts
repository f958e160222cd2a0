import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { T0, tempDir, writeStore } from './helpers.js';

// Imported per test, so that each test fails on its own where an export is missing.
const entry = () => import('../src/index.js');

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('the package entry, for programmatic use', () => {
  it('resolveStore + openStore open the store the CLI options name', async () => {
    const { envLayer, flagLayer, openStore, resolveStore } = await entry();
    await writeStore(`${dir}/store.ndjson`);
    const spec = resolveStore([flagLayer({}, dir), envLayer({ PAPYRA_PATH: 'store.ndjson', PAPYRA_MAX_RECORDS: '2' }, dir)]);
    expect(spec).toEqual({ backend: 'ndjson', path: `${dir}/store.ndjson`, retention: { maxRecords: 2 } });
    const backend = await openStore(spec);
    try {
      expect(backend.name).toBe('ndjson');
      expect(backend.retention).toEqual({ maxRecords: 2 });
      expect((await backend.listEvents()).map((e) => e.timestamp)).toEqual([T0 + 3 * 60_000, T0 + 5 * 60_000]);
    } finally {
      await backend.close();
    }
  });

  it('one module per backend lists its options, and descriptions hold no credentials', async () => {
    const { BACKENDS, STORES, describeStore } = await entry();
    expect(BACKENDS).toEqual(['memory', 'ndjson', 'rotating', 'redis', 'postgres']);
    expect(STORES.redis.options.map((o) => o.key)).toEqual(expect.arrayContaining(['redisUrl', 'redisCluster', 'redisNodes']));
    expect(describeStore({ backend: 'redis', url: 'redis://u:s3cret-pw@h:6379', cluster: true, retention: {} })).toEqual({
      backend: 'redis',
      url: 'redis://u:***@h:6379',
      cluster: true,
      prefix: 'papyra',
      systemId: 'local',
    });
    expect(JSON.stringify(describeStore({ backend: 'postgres', connectionString: 'postgres://u:s3cret-pw@h/db', retention: {} }))).not.toContain('s3cret-pw');
  });

  it('Redis Cluster options reach the backend as cluster mode (keys carry the system as a hash tag)', async () => {
    const { flagLayer, envLayer, openStore, resolveStore } = await entry();
    for (const spec of [
      resolveStore([flagLayer({ redisUrl: 'redis://127.0.0.1:1', redisCluster: true }, dir)]),
      resolveStore([envLayer({ PAPYRA_REDIS_NODES: '127.0.0.1:1,127.0.0.1:2', PAPYRA_SYSTEM_ID: 'shop' }, dir)]),
    ]) {
      const backend = (await openStore(spec)) as Awaited<ReturnType<typeof openStore>> & { keys: { event: string } };
      try {
        expect(backend.keys.event.startsWith(`papyra:{${spec.backend === 'redis' ? (spec.systemId ?? 'local') : ''}}:`)).toBe(true);
      } finally {
        await backend.close().catch(() => undefined);
      }
    }
  });
});
