import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { Actor, ActorSystem } from '@papyra/core';
import { createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import { RedisBackend } from '../src/index.js';
import { describeWithRedis } from './helpers.js';

let dir: string;
let port: number;
let server: ChildProcess | undefined;

async function startServer(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

function killServer(): Promise<void> {
  const child = server!;
  server = undefined;
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Settles within `ms` or fails the test: nothing may hang. */
function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<PromiseSettledResult<T>> {
  return Promise.race([
    Promise.allSettled([promise]).then(([r]) => r!),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms).unref()),
  ]);
}

const event = (i: number): PersistedEvent => createEvent({ systemId: 'local', actorAddress: `local:${i}`, eventType: 'ActorStarted', payload: { i } });

// Uses its own throw-away redis-server; the shared one only decides whether Redis tests run here.
describeWithRedis('outage of the Redis server', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'papyra-redis-outage-'));
    port = 17010; // our assigned range, 17000–17099
    await startServer();
  });
  afterAll(async () => {
    if (server) await killServer();
    await rm(dir, { recursive: true, force: true });
  });

  it('buffers writes up to the bound, drops and counts the rest, and flushes the buffer in order on reconnect', async () => {
    const backend = new RedisBackend({ url: `redis://127.0.0.1:${port}`, bufferLimit: 50, flushTimeoutMs: 1_000, readyTimeoutMs: 1_000 });
    try {
      for (let i = 0; i < 10; i++) await backend.recordEvent(event(i));
      await backend.flush();
      expect(await backend.listEvents()).toHaveLength(10);

      const killed = killServer();
      const during = Array.from({ length: 100 }, (_, i) => event(100 + i));
      const results = await Promise.all(during.map((e) => settlesWithin(backend.recordEvent(e), 5_000)));
      await killed;
      const accepted = during.filter((_, i) => results[i]!.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(accepted).toEqual(during.slice(0, 50));
      expect(refused).toHaveLength(50);
      expect(refused[0]!.reason).toMatchObject({ code: 'PAPYRA_BACKEND_UNAVAILABLE', details: { dropped: true } });

      // While Redis is away nothing hangs: more writes are refused, flush and reads fail in bounded time.
      expect((await settlesWithin(backend.recordEvent(event(999)), 5_000)).status).toBe('rejected');
      const flush = await settlesWithin(backend.flush(), 5_000);
      expect(flush).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_BACKEND_UNAVAILABLE' } });
      const list = await settlesWithin(backend.listEvents(), 5_000);
      expect(list).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_BACKEND_UNAVAILABLE' } });
      expect(backend.metrics.snapshot().recordsDropped).toBe(51);

      await startServer();
      await waitFor(async () => (await settlesWithin(backend.flush(), 5_000)).status === 'fulfilled');
      // Reads have a connection of their own, which reconnects on its own (jittered) schedule.
      await waitFor(async () => (await settlesWithin(backend.listEvents({ limit: 1 }), 5_000)).status === 'fulfilled');
      // The new server started empty: what it holds is exactly the buffer, in order.
      expect(await backend.listEvents()).toEqual(accepted);
      expect(backend.metrics.snapshot()).toMatchObject({ recordsWritten: 60, recordsDropped: 51 });

      await backend.recordEvent(event(1_000));
      await backend.flush();
      expect((await backend.listEvents({ limit: 1 }))[0]!.payload).toEqual({ i: 1_000 });
    } finally {
      await backend.close();
    }
  }, 60_000);

  it('an actor system keeps running through the outage; its lifecycle events arrive after reconnect', async () => {
    class Counter extends Actor<'inc', number> {
      count = 0;
      receive(): number {
        return ++this.count;
      }
    }
    const backend = new RedisBackend({ url: `redis://127.0.0.1:${port}`, flushTimeoutMs: 1_000, readyTimeoutMs: 1_000 });
    const system = new ActorSystem({ systemId: 'outage', persistence: backend });
    try {
      await system.start();
      await killServer();
      const refs = [system.spawn(Counter), system.spawn(Counter)];
      for (const ref of refs) expect(await ref.ask('inc', { timeoutMs: 2_000 })).toBe(1);
      for (const ref of refs) {
        await system.stop(ref);
        await ref.terminated;
      }
      await startServer();
      await waitFor(async () => (await settlesWithin(backend.flush(), 5_000)).status === 'fulfilled');
      // Reads have a connection of their own, which reconnects on its own (jittered) schedule.
      await waitFor(async () => (await settlesWithin(backend.listEvents({ limit: 1 }), 5_000)).status === 'fulfilled');
      await system.close();
      const events = await backend.listEvents();
      for (const ref of refs) {
        expect(events.filter((e) => e.actorAddress === ref.address).map((e) => e.eventType)).toEqual(['ActorStarted', 'ActorStopped']);
      }
    } finally {
      await system.close();
      await backend.close();
    }
  }, 60_000);

  it('close during an outage settles, and counts what it could not send', async () => {
    const backend = new RedisBackend({ url: `redis://127.0.0.1:${port}`, flushTimeoutMs: 500, readyTimeoutMs: 500 });
    await backend.recordEvent(event(1));
    await backend.flush();
    await killServer();
    await backend.recordEvent(event(2));
    const closed = await settlesWithin(backend.close(), 5_000);
    expect(closed).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_BACKEND_UNAVAILABLE', details: { dropped: 1 } } });
    expect(backend.metrics.snapshot().recordsDropped).toBe(1);
    await startServer();
  }, 30_000);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
