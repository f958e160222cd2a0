import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { NdjsonBackend, type FsyncMode } from '@papyra/backend-ndjson';
import { PostgresBackend } from '@papyra/backend-postgres';
import { RedisBackend } from '@papyra/backend-redis';
import { Actor, ActorSystem } from '@papyra/core';
import { RECORD_KINDS, type PersistedEvent, type PersistenceBackend } from '@papyra/persistence-contract';
import { readableLines } from '../files.js';
import { interleaved, percentile, perSecond, timed, verify, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';
import { DATABASE_URL, REDIS_URL } from '../services.js';
import { deleteKeys } from './redis.js';

/** One store for one run: the backend, and how many records can be read back from it afterwards. */
interface Store {
  backend: PersistenceBackend | undefined;
  readable(): Promise<number>;
  dispose(): Promise<void>;
}

type Arm = { label: string; open: () => Promise<Store> };

class Worker extends Actor<string> {
  override receive(): void {}
}

interface LifecycleRun {
  actorsPerSecond: number;
  facts: number;
  dropped: number;
}

/**
 * The workload: spawn 1,000 actors, send each one message, stop them all; repeat. Each actor
 * leaves two lifecycle facts (ActorStarted, ActorStopped). Timed until `close()` has flushed the
 * backend, and counted as actors stopped, messages processed and records read back afterwards.
 */
async function lifecycle(store: Store, actors: number): Promise<LifecycleRun> {
  const system = new ActorSystem({ systemId: 'bench', ...(store.backend && { persistence: store.backend }) });
  await system.start();
  const ms = await timed(async () => {
    for (let spawned = 0; spawned < actors;) {
      const batch = Array.from({ length: Math.min(1000, actors - spawned) }, () => system.spawn(Worker));
      await Promise.all(batch.map((ref) => ref.tell('work')));
      await Promise.all(batch.map(async (ref) => (await system.stop(ref), await ref.terminated)));
      spawned += batch.length;
    }
    await system.close();
  });
  const snapshot = system.metrics.snapshot();
  verify('actors stopped', actors, snapshot.actorsStopped);
  verify('messages processed', actors, snapshot.messagesProcessed);
  // The system flushed the backend but does not own it.
  await store.backend?.close();
  const facts = await store.readable();
  const persistence = snapshot.persistence;
  if (persistence) {
    verify('records read back = records the writer confirmed', persistence.written, facts);
    verify('records queued = confirmed + failed', persistence.queued, persistence.written + persistence.writeErrors);
  }
  await store.dispose();
  return { actorsPerSecond: perSecond(actors, ms), facts, dropped: (persistence?.dropped ?? 0) + (persistence?.writeErrors ?? 0) };
}

function ndjsonArm(dir: string, fsync: FsyncMode): Arm {
  return {
    label: `ndjson, fsync ${fsync}`,
    open: async () => {
      const path = join(dir, `lifecycle-${fsync}-${Math.random().toString(36).slice(2)}.ndjson`);
      const backend = new NdjsonBackend({ path, fsync });
      return { backend, readable: async () => readableLines(path, true), dispose: async () => rmSync(path, { force: true }) };
    },
  };
}

function redisArm(redis: Redis, prefix: string): Arm {
  return {
    label: 'redis',
    open: async () => {
      const p = `${prefix}-${Math.random().toString(36).slice(2)}`;
      const backend = new RedisBackend({ url: REDIS_URL, prefix: p, systemId: 'bench' });
      return {
        backend,
        readable: async () => {
          let n = 0;
          for (const kind of RECORD_KINDS) n += await redis.xlen(backend.keys[kind]);
          return n;
        },
        dispose: async () => deleteKeys(redis, p),
      };
    },
  };
}

function postgresArm(admin: pg.Client, schema: string): Arm {
  return {
    label: 'postgres',
    open: async () => {
      const table = `lifecycle_${Math.random().toString(36).slice(2)}`;
      const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema, table });
      await backend.ensureSchema();
      return {
        backend,
        readable: async () => Number((await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}"."${table}"`)).rows[0]!.n),
        dispose: async () => void (await admin.query(`DROP TABLE IF EXISTS "${schema}"."${table}" CASCADE`)),
      };
    },
  };
}

const none: Arm = { label: 'no persistence', open: async () => ({ backend: undefined, readable: async () => 0, dispose: async () => {} }) };

/**
 * Crash → restart → fact stored: a named actor throws, supervision restarts it, and the clock stops
 * when the backend has confirmed the ActorRestarted write (its promise resolved; with `always`,
 * after the fdatasync). Returns the latencies in ms.
 */
async function crashToStored(dir: string, fsync: FsyncMode, crashes: number): Promise<number[]> {
  const path = join(dir, `crash-${fsync}-${Math.random().toString(36).slice(2)}.ndjson`);
  const backend = new NdjsonBackend({ path, fsync });
  let stored: (() => void) | null = null;
  // Sees every write the runtime makes and nothing else changes: all other members go to the backend.
  const observed = new Proxy(backend, {
    get(target, key) {
      if (key === 'recordEvent') {
        return (event: PersistedEvent) => {
          const written = target.recordEvent(event);
          if (event.eventType === 'ActorRestarted') void written.then(() => stored?.());
          return written;
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const system = new ActorSystem({ systemId: 'bench', persistence: observed });
  await system.start();
  class Fragile extends Actor<string> {
    override receive(): void {
      throw new Error('benchmark crash');
    }
  }
  const ref = system.spawn(Fragile, { name: 'fragile', supervision: { strategy: 'restart', maxRestarts: crashes + 1, withinMs: 3_600_000 } });
  const times: number[] = [];
  for (let i = 0; i < crashes; i++) {
    const restarted = new Promise<void>((resolve) => (stored = resolve));
    const start = performance.now();
    await ref.tell('crash');
    await restarted;
    times.push(performance.now() - start);
  }
  stored = null;
  const restarts = system.metrics.snapshot().restarts;
  await system.close();
  await backend.close();
  const reader = new NdjsonBackend({ path });
  const onDisk = (await reader.listEvents({ eventType: 'ActorRestarted' })).length;
  await reader.close();
  rmSync(path, { force: true });
  verify('restarts', crashes, restarts);
  verify('ActorRestarted facts read back', crashes, onDisk);
  return times;
}

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

export async function persistedSection(scale: Scale): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'papyra-bench-persisted-'));
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
  const admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  const prefix = `papyra-bench-life-${process.pid}-${Date.now()}`;
  const schema = `papyra_bench_life_${process.pid}_${Date.now()}`;
  const redisUp = await reachable(() => redis.connect());
  const postgresUp = await reachable(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  });
  try {
    const arms: Arm[] = [none, ndjsonArm(dir, 'never'), ndjsonArm(dir, 'interval'), ndjsonArm(dir, 'always')];
    if (redisUp) arms.push(redisArm(redis, prefix));
    if (postgresUp) arms.push(postgresArm(admin, schema));
    const runs = await interleaved(
      scale.runs,
      arms.map((arm) => async () => lifecycle(await arm.open(), scale.lifecycleActors)),
    );
    const actors = scale.lifecycleActors.toLocaleString('en-US');
    const figures: Figure[] = arms.slice(1).map((arm, i) => {
      const own = runs[i + 1]!;
      const dropped = own.reduce((sum, r) => sum + r.dropped, 0);
      const facts = own.map((r) => r.facts);
      const stored =
        Math.min(...facts) === Math.max(...facts)
          ? facts[0]!.toLocaleString('en-US')
          : `${Math.min(...facts).toLocaleString('en-US')}–${Math.max(...facts).toLocaleString('en-US')}`;
      return {
        id: `persisted.lifecycle.${arm.label.replace(/\W+/g, '-')}`,
        section: 'persisted',
        name: `spawn → 1 message → stop, ${actors} actors, lifecycle facts to ${arm.label}`,
        subject: { label: arm.label, unit: 'actors/s', values: own.map((r) => r.actorsPerSecond) },
        baseline: { label: 'no persistence', unit: 'actors/s', values: runs[0]!.map((r) => r.actorsPerSecond) },
        note: `timed until close() flushed; of ${(2 * scale.lifecycleActors).toLocaleString('en-US')} facts per run, ${stored} read back${dropped ? ` and ${dropped.toLocaleString('en-US')} over all runs dropped or failed (counted by the runtime's writer: its queue was full)` : ', none dropped'}; no SPEC target`,
      };
    });
    if (!redisUp || !postgresUp)
      process.stderr.write(`bench: persisted: ${[!redisUp && 'redis', !postgresUp && 'postgres'].filter(Boolean).join(' and ')} unreachable, rows skipped\n`);

    const [always, never] = await interleaved(scale.runs, [
      () => crashToStored(dir, 'always', scale.crashes),
      () => crashToStored(dir, 'never', scale.crashes),
    ]);
    const crashes = scale.crashes.toLocaleString('en-US');
    figures.push(
      {
        id: 'persisted.crash-restart.p50',
        section: 'persisted',
        name: `crash → restart → ActorRestarted stored, p50 of ${crashes} crashes (ndjson)`,
        subject: { label: 'fsync always', unit: 'ms', values: always!.map((t) => percentile(t, 50)) },
        baseline: { label: 'fsync never', unit: 'ms', values: never!.map((t) => percentile(t, 50)) },
        note: 'from the tell of the crashing message to the write promise of the fact resolving; lower is better; no SPEC target',
      },
      {
        id: 'persisted.crash-restart.p99',
        section: 'persisted',
        name: 'crash → restart → ActorRestarted stored, p99',
        subject: { label: 'fsync always', unit: 'ms', values: always!.map((t) => percentile(t, 99)) },
        baseline: { label: 'fsync never', unit: 'ms', values: never!.map((t) => percentile(t, 99)) },
      },
    );
    return figures;
  } finally {
    if (redisUp) await deleteKeys(redis, prefix);
    redis.disconnect();
    if (postgresUp) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
