import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { ActorSystem } from '@papyra/core';
import { PapyraError } from '@papyra/persistence-contract';
import { tempDirs } from '@papyra/test-support';
import { createPapyraHandler, type PapyraEndpointsOptions } from '../src/index.js';
import { Counter, deferred, eventually, FaultyBackend, Gated, getJson, listen } from './helpers.js';

/** The period of the simulated kubelet: each fault must show by the second probe after it. */
const PROBE_INTERVAL_MS = 500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const dirs = tempDirs('papyra-http-ready-');
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await dirs.cleanup();
});

async function setup(system: ActorSystem, options: Omit<PapyraEndpointsOptions, 'system'> = {}) {
  cleanups.push(() => system.close());
  const handler = createPapyraHandler({ system, ...options });
  const server = await listen(handler);
  cleanups.push(
    () => handler.close(),
    () => server.close(),
  );
  const probe = () => getJson(`${server.url}/readyz`);
  /** Two probes one interval apart, as a kubelet would send them; returns both answers. */
  const twoProbes = async () => {
    const first = await probe();
    await sleep(PROBE_INTERVAL_MS);
    return [first, await probe()] as const;
  };
  return { probe, twoProbes, url: server.url };
}

describe('/readyz tracks progress, not just liveness', () => {
  it('a backend whose writes hang: 503 persistence_stalled by the second probe (oldest pending record too old), 200 once writes go through', async () => {
    const backend = new FaultyBackend();
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const { probe, twoProbes } = await setup(system, { stalledAfterMs: 300 });
    await eventually(probe, (r) => r.status === 200); // healthy to begin with

    backend.hang();
    system.spawn(Counter); // its ActorStarted record now hangs in the backend
    const [, second] = await twoProbes();
    expect(second.status).toBe(503);
    expect(second.body.reasons).toEqual(['persistence_stalled']);
    expect(second.body.checks.persistence).toMatchObject({ ok: false, pending: 1, oldest_pending_age_ms: expect.any(Number) });
    expect(second.body.checks.persistence.oldest_pending_age_ms).toBeGreaterThanOrEqual(300);
    expect(second.body.checks.backend.ok).toBe(true); // the store answers; it just does not write

    backend.release();
    await eventually(probe, (r) => r.status === 200);
  });

  it('writes that time out (writer moves on, nothing pending for long): 503 persistence_stalled until a write succeeds again', async () => {
    const backend = new FaultyBackend();
    const system = new ActorSystem({ persistence: backend, defaults: { persistence: { writeTimeoutMs: 100 } } });
    await system.start();
    const { probe, twoProbes } = await setup(system, { stalledAfterMs: 60_000 });
    await eventually(probe, (r) => r.status === 200); // healthy to begin with

    backend.hang();
    system.spawn(Counter);
    await eventually(
      async () => system.metrics.snapshot().persistence!.writeTimeouts,
      (n) => n > 0,
    );
    const [, second] = await twoProbes();
    expect(second.status).toBe(503);
    expect(second.body.checks.persistence).toMatchObject({ ok: false, reason: 'persistence_stalled', write_timeouts: 1 });
    // Still stalled while nothing succeeds, however long nothing is pending.
    expect((await probe()).status).toBe(503);

    backend.release();
    system.spawn(Counter); // a write that succeeds
    await eventually(probe, (r) => r.status === 200);
  });

  it('writes that fail fast (e.g. the store locked by another process): 503 persistence_failing until a write succeeds again', async () => {
    const backend = new FaultyBackend();
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const { probe, twoProbes } = await setup(system, { stalledAfterMs: 60_000 });
    await eventually(probe, (r) => r.status === 200); // healthy to begin with

    backend.failWith = new PapyraError('PAPYRA_LOCKED', 'held by process 1234 on host db-7');
    system.spawn(Counter);
    await eventually(
      async () => system.metrics.snapshot().persistence!.writeErrors,
      (n) => n > 0,
    );
    const [, second] = await twoProbes();
    expect(second.status).toBe(503);
    expect(second.body.reasons).toEqual(['persistence_failing']);
    expect(second.body.checks.persistence).toMatchObject({ ok: false, write_errors: 1 });
    expect(JSON.stringify(second.body)).not.toContain('db-7');

    backend.failWith = null;
    system.spawn(Counter);
    await eventually(probe, (r) => r.status === 200);
  });

  it('a store that gains anomalies under fail_on_anomaly: 503 startup_check_failed by the second probe, 200 after a repair', async () => {
    const path = join(await dirs.make(), 'papyra.ndjson');
    const backend = new NdjsonBackend({ path });
    cleanups.push(() => backend.close());
    const system = new ActorSystem({ persistence: backend, startup: { mode: 'fail_on_anomaly' } });
    await system.start();
    system.spawn(Counter);
    const { probe, twoProbes } = await setup(system, { scanTtlMs: 100 });
    const healthy = await eventually(probe, (r) => r.status === 200);
    expect(healthy.body).toMatchObject({ ready: true, checks: { startup: { ok: true, mode: 'fail_on_anomaly', anomaly_count: 0 } } });

    await eventually(
      async () => system.metrics.snapshot().persistence!.pending,
      (n) => n === 0,
    );
    await backend.flush();
    await appendFile(path, '{"kind":"event","torn');
    const [, second] = await twoProbes();
    expect(second.status).toBe(503);
    expect(second.body.reasons).toEqual(['startup_check_failed']);
    expect(second.body.checks.startup).toMatchObject({ ok: false, mode: 'fail_on_anomaly', anomaly_count: 1 });

    await backend.recover({ mode: 'repair' });
    await eventually(probe, (r) => r.status === 200);
  });

  it('anomalies do not fail readiness when the startup mode tolerates them (scan_only)', async () => {
    const backend = new FaultyBackend();
    const system = new ActorSystem({ persistence: backend, startup: { mode: 'scan_only' } });
    await system.start();
    backend.anomalies = [{ type: 'CORRUPTED_LINE', path: 'x', line: 1, offset: 0, detail: 'bad' }];
    const { probe } = await setup(system, { scanTtlMs: 0 });
    expect(await probe()).toMatchObject({ status: 200, body: { checks: { startup: { ok: true, mode: 'scan_only' } } } });
    expect(backend.scansStarted).toBe(1); // the startup check's own scan; readiness did not scan
  });

  it('a mailbox saturated for longer than saturatedForMs: 503 mailboxes_saturated, 200 once it drains', async () => {
    Gated.gate = deferred();
    const system = new ActorSystem({ persistence: new FaultyBackend() });
    await system.start();
    const { probe, twoProbes } = await setup(system, { mailboxSaturation: 1, saturatedForMs: 300 });
    const ref = system.spawn(Gated, { mailbox: { capacity: 4 } });
    for (let i = 0; i < 5; i++) await ref.tell(i); // one in receive, four queued: full
    const [first, second] = await twoProbes();
    expect(first.status).toBe(200); // saturated just now: not yet for long
    expect(second.status).toBe(503);
    expect(second.body.reasons).toEqual(['mailboxes_saturated']);
    expect(second.body.checks.mailboxes).toMatchObject({ ok: false, max_fill: 1, saturation: 1 });
    Gated.gate.open();
    await eventually(probe, (r) => r.status === 200);
  });

  it('never 503 during a 100k-message run on a healthy backend (default thresholds)', async () => {
    const backend = new NdjsonBackend({ path: join(await dirs.make(), 'papyra.ndjson') });
    cleanups.push(() => backend.close());
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const { probe } = await setup(system);
    const answers: number[] = [];
    let running = true;
    const prober = (async () => {
      while (running) {
        answers.push((await probe()).status);
        await sleep(20);
      }
    })();

    const workers = Array.from({ length: 10 }, (_, i) => system.spawn(Counter, { name: `w${i}` }));
    for (let n = 0; n < 100_000; n++) {
      await workers[n % 10]!.tell(1);
      if (n % 1000 === 0) {
        const temp = system.spawn(Counter); // lifecycle records for the writer
        await system.stop(temp);
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await Promise.all(workers.map((w) => w.ask(0)));
    answers.push((await probe()).status);
    running = false;
    await prober;

    expect(system.metrics.snapshot().messagesProcessed).toBeGreaterThanOrEqual(100_000);
    expect(backend.metrics.snapshot().recordsWritten).toBeGreaterThan(200);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.filter((s) => s !== 200)).toEqual([]);
  });

  it('a probe that ignores its timeout and never answers: 503 backend_probe_timeout at our own deadline', async () => {
    const backend = new FaultyBackend();
    let hang = false;
    backend.probe = () => (hang ? new Promise<void>(() => {}) : Promise.resolve());
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const { probe } = await setup(system, { probeTimeoutMs: 200 });
    expect((await probe()).status).toBe(200);
    hang = true;
    const answer = await probe();
    expect(answer).toMatchObject({ status: 503, body: { reasons: ['backend_probe_timeout'], checks: { backend: { ok: false, timeout_ms: 200 } } } });
    hang = false;
    expect((await probe()).status).toBe(200);
  });

  it('a backend that gives up at its own deadline: timeout when nothing answered, failure when it says why (no address shown)', async () => {
    const backend = new FaultyBackend();
    const given: { cause?: Error } = {};
    backend.probe = async (options) => {
      await sleep(options?.timeoutMs ?? 0);
      throw new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', 'Redis is unavailable at 10.9.8.7:6379', given);
    };
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const { probe } = await setup(system, { probeTimeoutMs: 150 });
    expect((await probe()).body.checks.backend).toEqual({ ok: false, reason: 'backend_probe_timeout', backend: 'memory', timeout_ms: 150 });
    given.cause = Object.assign(new Error('connect ECONNREFUSED 10.9.8.7:6379'), { code: 'ECONNREFUSED' });
    const refused = await probe();
    expect(refused.body.checks.backend).toEqual({
      ok: false,
      reason: 'backend_probe_failed',
      backend: 'memory',
      error: 'PAPYRA_BACKEND_UNAVAILABLE',
      cause: 'ECONNREFUSED',
    });
    expect(JSON.stringify(refused.body)).not.toContain('10.9.8.7');
  });

  it('concurrent probes share one backend probe', async () => {
    const backend = new FaultyBackend();
    let probes = 0;
    backend.probe = async () => {
      probes += 1;
      await sleep(50);
    };
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const { url } = await setup(system);
    const statuses = await Promise.all(Array.from({ length: 100 }, () => fetch(`${url}/readyz`).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(probes).toBeLessThan(100);
  });
});
