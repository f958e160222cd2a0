/**
 * A real 3-master Redis Cluster on loopback (ports 17040–17042, bus ports 17090–17092), started
 * here: the conformance suite, isolation of two systems, configuration, and a master killed and
 * restarted while two systems write.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Cluster } from 'ioredis';
import { runBackendConformance, type ConformanceContext } from '@papyra/persistence-contract/conformance';
import { Actor, ActorSystem } from '@papyra/core';
import type { PersistedRecord } from '@papyra/persistence-contract';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { event, prefixFor, settlesWithin, storedIds, waitFor, writeMany } from './support/records.js';
import { admin, sleep, startCluster, type TestCluster } from './support/servers.js';

// Started at load time: the conformance suite probes a backend while it registers its tests.
const cluster: TestCluster = await startCluster([17040, 17041, 17042], 50);
const client = new Cluster(
  cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(new URL(n).port) })),
  { lazyConnect: false },
);
client.on('error', () => undefined);
const options = new WeakMap<RedisBackend, RedisBackendOptions>();
const open: RedisBackend[] = [];

function make(opts: RedisBackendOptions): RedisBackend {
  const backend = new RedisBackend({ nodes: cluster.nodes, cluster: true, flushTimeoutMs: 8_000, ...opts });
  options.set(backend, opts);
  open.push(backend);
  return backend;
}

/** Deletes every key under `prefix` on every master (SCAN + DEL; never FLUSHALL). */
async function deleteEverywhere(prefix: string): Promise<void> {
  for (const master of cluster.masters) {
    const node = admin(master.port);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        for (const key of keys) await node.del(key);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
}

afterAll(async () => {
  await Promise.allSettled(open.map((b) => b.close()));
  client.disconnect();
  await cluster.stop();
}, 30_000);

const prefixOf = (ctx: ConformanceContext) => `papyra-cluster-cf:${ctx.namespace}`;

await runBackendConformance(
  { describe: (name, fn) => describe(`[cluster] ${name}`, fn), it, beforeEach, afterEach },
  {
    name: 'redis-cluster',
    async make(ctx) {
      return make({
        prefix: prefixOf(ctx),
        systemId: ctx.namespace.replace(/[{}]/g, '_'),
        ...(ctx.retention && { retention: ctx.retention }),
        ...(ctx.clock && { clock: ctx.clock }),
      });
    },
    async reopen(backend) {
      return make(options.get(backend)!);
    },
    corruptions: ['corrupt_line', 'invalid_record'],
    async corrupt(backend, kind) {
      const data = kind === 'corrupt_line' ? '{"kind": "event", "timest' : '{"kind": "spaceship", "timestamp": 1}';
      await client.xadd(backend.keys.event, '*', 'data', data);
    },
    async cleanup(ctx) {
      await deleteEverywhere(prefixOf(ctx));
    },
  },
);

describe('Redis Cluster', () => {
  it('{ url, cluster: true } treats the url as a seed node and stores every write', async () => {
    const backend = new RedisBackend({ url: cluster.nodes[1], cluster: true, prefix: prefixFor('seed') });
    open.push(backend);
    const records = Array.from({ length: 10 }, (_, i) => event(i));
    for (const r of records) await backend.recordEvent(r);
    await expect(backend.flush()).resolves.toBeUndefined();
    expect((await backend.listEvents()).map((e) => e.id)).toEqual(records.map((r) => r.id));
  });

  it('a Cluster client without cluster: true, and a cluster node reached without cluster mode, are PAPYRA_INVALID_CONFIG', async () => {
    expect(() => new RedisBackend({ client: client as never })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    // A standalone client at a node that does not own the key's slot gets MOVED.
    const prefix = prefixFor('moved');
    let systemId = 'a';
    for (let i = 0; (await cluster.masterOf(`${prefix}:${systemId}:events`)).port === cluster.masters[0]!.port; i++) systemId = `s${i}`;
    const standalone = new RedisBackend({ url: cluster.nodes[0], prefix, systemId, readyTimeoutMs: 2_000 });
    open.push(standalone);
    await standalone.recordEvent(event(1, systemId));
    const flushed = await settlesWithin(standalone.flush(), 10_000);
    expect(flushed).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_INVALID_CONFIG', details: { dropped: 1 } } });
    expect(String((flushed as PromiseRejectedResult).reason.message)).toMatch(/cluster mode/);
    await expect(standalone.listEvents()).rejects.toMatchObject({ code: 'PAPYRA_INVALID_CONFIG' });
    expect(standalone.metrics.snapshot().recordsDropped).toBe(1);
  });

  it('an application Cluster client with cluster: true', async () => {
    const backend = new RedisBackend({ client, cluster: true, prefix: prefixFor('app-client') });
    open.push(backend);
    await backend.recordEvent(event(1));
    await backend.flush();
    expect(await backend.listEvents()).toHaveLength(1);
    await backend.close();
    expect(client.status).toBe('ready');
  });

  it('two systems on one cluster each see, retain and compact only their own records', async () => {
    const prefix = prefixFor('two');
    const a = make({ prefix, systemId: 'alpha', retention: { maxRecords: 5 } });
    const b = make({ prefix, systemId: 'beta' });
    const ofA = Array.from({ length: 8 }, (_, i) => event(i, 'alpha'));
    const ofB = Array.from({ length: 8 }, (_, i) => event(i, 'beta'));
    for (let i = 0; i < 8; i++) {
      await a.recordEvent(ofA[i]!);
      await b.recordEvent(ofB[i]!);
    }
    await Promise.all([a.flush(), b.flush()]);
    expect((await a.listEvents()).map((e) => e.id)).toEqual(ofA.slice(3).map((e) => e.id));
    expect((await b.listEvents()).map((e) => e.id)).toEqual(ofB.map((e) => e.id));
    const report = await a.compact();
    expect(report).toMatchObject({ beforeRecords: 8, removedRecords: 3, afterRecords: 5 });
    expect((await b.compact()).removedRecords).toBe(0);
    expect(await storedIds(client as never, b.keys.event)).toEqual(ofB.map((e) => e.id));
    expect((await b.scan()).anomalies).toEqual([]);
  });

  it('a master killed and restarted while two systems write: stored + dropped = accepted, no duplicate, nothing pending past its bound', async () => {
    const prefix = prefixFor('kill');
    // Two systems whose streams live on different masters; the victim is alpha's.
    let beta = 'beta';
    const alphaMaster = await cluster.masterOf(`${prefix}:{alpha}:events`);
    for (let i = 0; (await cluster.masterOf(`${prefix}:{${beta}}:events`)) === alphaMaster; i++) beta = `beta${i}`;
    const systems = [
      { backend: make({ prefix, systemId: 'alpha', bufferLimit: 100, commandTimeoutMs: 1_000 }), accepted: [] as ReturnType<typeof event>[], refused: 0 },
      { backend: make({ prefix, systemId: beta, bufferLimit: 100_000, commandTimeoutMs: 1_000 }), accepted: [] as ReturnType<typeof event>[], refused: 0 },
    ];
    let n = 0;
    const writeRound = async () => {
      await Promise.all(
        systems.map(async (s) => {
          const { accepted, refused } = await writeMany(
            s.backend,
            Array.from({ length: 10 }, () => event(n++)),
            5_000,
          );
          s.accepted.push(...accepted);
          s.refused += refused;
        }),
      );
    };
    for (let i = 0; i < 5; i++) await writeRound();
    await alphaMaster.kill();
    const killedAt = Date.now();
    while (Date.now() - killedAt < 3_000) {
      await writeRound();
      await sleep(50);
    }
    await alphaMaster.restart();
    await cluster.waitOk();
    for (let i = 0; i < 5; i++) await writeRound();
    for (const { backend, accepted, refused } of systems) {
      await waitFor(async () => (await settlesWithin(backend.flush(), 10_000)).status === 'fulfilled', 20_000);
      expect((await backend.listEvents()).map((e) => e.id)).toEqual(accepted.map((r) => r.id));
      const raw = await storedIds(client as never, backend.keys.event);
      expect(new Set(raw)).toEqual(new Set(accepted.map((r) => r.id)));
      expect(backend.metrics.snapshot()).toMatchObject({ recordsWritten: accepted.length, recordsDropped: refused });
    }
    // The bound held for alpha: beyond 100 buffered records, writes were refused, not left pending.
    expect(systems[0]!.refused).toBeGreaterThan(0);
  }, 60_000);

  it('an ActorSystem keeps running and accounts for every lifecycle fact while its master is killed and restarted', async () => {
    const prefix = prefixFor('system');
    const backend = make({ prefix, systemId: 'shop', bufferLimit: 200, commandTimeoutMs: 1_000 });
    const master = await cluster.masterOf(`${prefix}:{shop}:events`);
    // No write timeout at the system: each record is then either stored or counted as failed, never both.
    const system = new ActorSystem({ systemId: 'shop', persistence: backend, defaults: { persistence: { writeTimeoutMs: 120_000 } } });
    const emitted: PersistedRecord[] = [];
    system.subscribe((record) => void (record.kind === 'event' && emitted.push(record)));
    await system.start();
    class Worker extends Actor<string, string> {
      receive(message: string): string {
        return message;
      }
    }
    const churn = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        const refs = Array.from({ length: 10 }, () => system.spawn(Worker));
        await Promise.all(refs.map((ref) => ref.ask('ping')));
        await Promise.all(refs.map((ref) => system.stop(ref)));
        await Promise.all(refs.map((ref) => ref.terminated));
        await sleep(20);
      }
    };
    await churn(5);
    await master.kill();
    await churn(40); // the system goes on spawning and stopping actors while its master is down
    await master.restart();
    await cluster.waitOk();
    await churn(5);
    await system.close();
    await waitFor(async () => (await settlesWithin(backend.flush(), 10_000)).status === 'fulfilled', 30_000);

    const writer = system.metrics.snapshot().persistence!;
    const stored = (await backend.listEvents()).map((e) => e.id);
    expect(new Set(stored).size).toBe(stored.length); // no duplicate visible
    const ids = new Set(emitted.map((e) => e.id));
    expect(stored.every((id) => ids.has(id))).toBe(true);
    // stored + dropped (counted) = accepted, nothing pending.
    expect({ pending: writer.pending, accounted: stored.length + writer.dropped + writer.writeErrors }).toEqual({ pending: 0, accounted: emitted.length });
    expect(writer.writeErrors + writer.dropped).toBeGreaterThan(0); // the outage bound was reached, and counted
    expect(stored.length).toBeGreaterThan(200);
  }, 90_000);
});
