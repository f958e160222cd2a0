import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresBackend } from '@papyra/backend-postgres';
import { RedisBackend } from '@papyra/backend-redis';
import { ActorSystem } from '@papyra/core';
import { createPapyraHandler } from '../src/index.js';
import { Counter, eventually, getJson, listen } from './helpers.js';
import { databaseReachable, DATABASE_URL, freePortInRange, lockTable, psql, ThrowawayRedis, uniqueSchema } from './servers.js';

/** The period of the simulated kubelet: each fault must show by the second probe after it. */
const PROBE_INTERVAL_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function serveReadiness(system: ActorSystem, options: { probeTimeoutMs?: number; stalledAfterMs?: number } = {}) {
  const handler = createPapyraHandler({ system, ...options });
  const server = await listen(handler);
  const probe = () => getJson(`${server.url}/readyz`);
  return {
    probe,
    /** Two probes one interval apart, as a kubelet sends them. */
    async twoProbes() {
      const first = await probe();
      await sleep(PROBE_INTERVAL_MS);
      return [first, await probe()] as const;
    },
    async close() {
      handler.close();
      await server.close();
    },
  };
}

describe('readiness against a real Redis (our own redis-server)', () => {
  let redis: ThrowawayRedis;
  let backend: RedisBackend;
  let system: ActorSystem;
  let ready: Awaited<ReturnType<typeof serveReadiness>>;

  beforeAll(async () => {
    redis = new ThrowawayRedis(await freePortInRange());
    await redis.start();
    backend = new RedisBackend({ url: redis.url, prefix: 'papyra-http-test', connectTimeoutMs: 300, commandTimeoutMs: 1_000, flushTimeoutMs: 1_000 });
    system = new ActorSystem({ persistence: backend });
    await system.start();
    ready = await serveReadiness(system, { probeTimeoutMs: 300 });
  });

  afterAll(async () => {
    redis.thaw();
    await ready?.close();
    await system?.close();
    await backend?.close().catch(() => undefined);
    await redis?.stop();
  });

  it('frozen (SIGSTOP): 503 backend_probe_timeout by the second probe; 200 again after SIGCONT', async () => {
    system.spawn(Counter);
    await eventually(ready.probe, (r) => r.status === 200); // healthy to begin with
    redis.freeze();
    const [, second] = await ready.twoProbes();
    expect(second.status).toBe(503);
    expect(second.body.reasons).toContain('backend_probe_timeout');
    expect(second.body.checks.backend).toMatchObject({ ok: false, reason: 'backend_probe_timeout', backend: 'redis', timeout_ms: 300 });
    redis.thaw();
    await eventually(ready.probe, (r) => r.status === 200);
  });

  it('killed: 503 by the second probe, reason backend_probe_* (no address in the body); 200 again once it is back', async () => {
    await redis.kill();
    const [, second] = await ready.twoProbes();
    expect(second.status).toBe(503);
    // The Redis backend's probe rejects with the refused connection as its cause (→ failed) or,
    // when its "no answer" timer fires first while reconnecting, with no cause (→ timeout).
    expect(second.body.reasons).toHaveLength(1);
    expect(['backend_probe_failed', 'backend_probe_timeout']).toContain(second.body.reasons[0]);
    expect(second.body.checks.backend.ok).toBe(false);
    expect(JSON.stringify(second.body)).not.toContain(String(redis.port));
    // The actor system keeps running meanwhile: writes go to the backend's outage buffer.
    system.spawn(Counter);
    await redis.start();
    await eventually(ready.probe, (r) => r.status === 200);
  });
});

(databaseReachable ? describe : describe.skip)('readiness against PostgreSQL (shared server, own schema)', () => {
  const schema = uniqueSchema('http');
  let backend: PostgresBackend;
  let system: ActorSystem;
  let ready: Awaited<ReturnType<typeof serveReadiness>>;

  beforeAll(async () => {
    backend = new PostgresBackend({ connectionString: DATABASE_URL, schema, table: 'records', lockTimeoutMs: 30_000 });
    system = new ActorSystem({ persistence: backend });
    await system.start();
    system.spawn(Counter); // the first write creates the table
    await eventually(
      async () => system.metrics.snapshot().persistence!.pending,
      (n) => n === 0,
    );
    ready = await serveReadiness(system, { stalledAfterMs: 300 });
  });

  afterAll(async () => {
    await ready?.close();
    await system?.close();
    await backend?.close();
    psql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  it('a table lock that blocks writes: 503 by the second probe (probe PAPYRA_LOCKED, writes stalled); 200 after it is released', async () => {
    await eventually(ready.probe, (r) => r.status === 200); // healthy to begin with
    const lock = await lockTable(`"${schema}".records`);
    try {
      system.spawn(Counter); // its record waits for the lock
      const [, second] = await ready.twoProbes();
      expect(second.status).toBe(503);
      expect(second.body.reasons).toEqual(['backend_probe_failed', 'persistence_stalled']);
      expect(second.body.checks.backend).toMatchObject({ ok: false, error: 'PAPYRA_LOCKED' });
      expect(second.body.checks.persistence).toMatchObject({ ok: false, reason: 'persistence_stalled' });
      expect(second.body.checks.persistence.pending).toBeGreaterThan(0);
    } finally {
      await lock.release();
    }
    await eventually(ready.probe, (r) => r.status === 200);
    expect(system.metrics.snapshot().persistence).toMatchObject({ pending: 0, writeErrors: 0 });
  });
});
