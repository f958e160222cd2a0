import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { ActorSystem } from '@papyra/core';
import { tempDirs } from '@papyra/test-support';
import { createPapyraHandler } from '../src/index.js';
import { Counter, FaultyBackend, getJson, listen } from './helpers.js';

const dirs = tempDirs('papyra-http-');
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await dirs.cleanup();
});

async function serveSystem(options: Parameters<typeof createPapyraHandler>[0] & object) {
  const handler = createPapyraHandler(options);
  const server = await listen(handler);
  cleanups.push(
    () => handler.close(),
    () => server.close(),
  );
  return server;
}

async function runningSystem(backend = new FaultyBackend(), options: ConstructorParameters<typeof ActorSystem>[0] = {}) {
  const system = new ActorSystem({ systemId: 'svc', persistence: backend, ...options });
  cleanups.push(() => system.close());
  await system.start();
  return { system, backend };
}

/** A store whose last line holds a secret-looking payload and is torn: a TRUNCATED_LINE anomaly. */
async function corruptStore(): Promise<{ path: string; backend: NdjsonBackend }> {
  const path = join(await dirs.make(), 'papyra.ndjson');
  const backend = new NdjsonBackend({ path });
  cleanups.push(() => backend.close());
  const system = new ActorSystem({ systemId: 'svc', persistence: backend });
  await system.start();
  system.spawn(Counter);
  await system.close();
  await appendFile(path, '{"kind":"event","payload":{"password":"hunter2-payload"');
  return { path, backend };
}

describe('the four endpoints over node:http', () => {
  it('/livez: alive from creation until the system is closed, with no I/O', async () => {
    const backend = new FaultyBackend();
    const system = new ActorSystem({ persistence: backend });
    const { url } = await serveSystem({ system });
    expect(await getJson(`${url}/livez`)).toMatchObject({ status: 200, body: { status: 'alive', state: 'new' } });
    await system.start();
    const live = await getJson(`${url}/livez`);
    expect(live).toMatchObject({ status: 200, body: { status: 'alive', state: 'running' } });
    expect(live.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(live.headers.get('cache-control')).toBe('no-store');
    expect(backend.scansStarted).toBe(0);
    await system.close();
    expect(await getJson(`${url}/livez`)).toMatchObject({ status: 503, body: { status: 'dead', reasons: ['system_closed'], state: 'closed' } });
  });

  it('/readyz: 200 with every check passing on a healthy system, 503 system_not_running before start and after close', async () => {
    const backend = new FaultyBackend();
    const system = new ActorSystem({ persistence: backend });
    const { url } = await serveSystem({ system });
    const before = await getJson(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(before.body).toMatchObject({ status: 'not_ready', ready: false, reasons: ['system_not_running'], checks: { system: { state: 'new' } } });
    await system.start();
    system.spawn(Counter);
    const ready = await getJson(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ready',
      ready: true,
      reasons: [],
      checks: {
        system: { ok: true, state: 'running' },
        startup: { ok: true },
        backend: { ok: true, backend: 'memory' },
        persistence: { ok: true },
        mailboxes: { ok: true, max_fill: 0 },
      },
    });
    await system.close();
    expect((await getJson(`${url}/readyz`)).body.reasons).toContain('system_not_running');
  });

  it('/healthz from a scan: Python-compatible payload, string anomaly types, no payload bytes, and a GET changes nothing', async () => {
    const { path, backend } = await corruptStore();
    const system = new ActorSystem({ systemId: 'svc', persistence: backend });
    const { url } = await serveSystem({ system, scanTtlMs: 0 });
    const before = await readFile(path);
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ ok: false, mode: 'scan', backend: 'ndjson', scan_supported: true, anomaly_count: 1 });
    expect(health.body.anomalies).toEqual([{ type: 'TRUNCATED_LINE', path, line: expect.any(Number), offset: expect.any(Number) }]);
    for (const route of ['livez', 'readyz', 'healthz', 'metrics', 'metrics?format=json']) {
      const res = await fetch(`${url}/${route}`);
      expect(await res.text()).not.toContain('hunter2');
    }
    expect(await readFile(path)).toEqual(before);
    expect(backend.metrics.snapshot().recoveries).toBe(0);
  });

  it('/healthz from a clean scan is 200; a backend that cannot scan says scan_supported: false', async () => {
    const { system } = await runningSystem();
    const { url } = await serveSystem({ system });
    expect(await getJson(`${url}/healthz`)).toMatchObject({
      status: 200,
      body: { ok: true, mode: 'scan', backend: 'memory', scan_supported: true, anomalies: [], anomaly_count: 0, checked_at: expect.any(String) },
    });
    const blind = new FaultyBackend();
    Object.defineProperty(blind, 'capabilities', { value: { ...blind.capabilities, scan: false } });
    const other = await serveSystem({ system, backend: blind });
    expect(await getJson(`${other.url}/healthz`)).toMatchObject({ status: 200, body: { ok: true, scan_supported: false, anomalies: [] } });
    expect(blind.scansStarted).toBe(0);
  });

  it('/healthz from the startup check reports what the check found, without scanning again', async () => {
    const { backend } = await corruptStore();
    const system = new ActorSystem({ systemId: 'svc', persistence: backend, startup: { mode: 'scan_only' } });
    cleanups.push(() => system.close());
    await system.start();
    const scans = backend.metrics.snapshot().scans;
    const { url } = await serveSystem({ system, healthSource: 'startup_check' });
    const health = await getJson(`${url}/healthz`);
    expect(health).toMatchObject({ status: 200, body: { ok: true, mode: 'startup_check', backend: 'ndjson', startup_mode: 'scan_only', anomaly_count: 1 } });
    expect(health.body.anomalies[0].type).toBe('TRUNCATED_LINE');
    expect(backend.metrics.snapshot().scans).toBe(scans);
  });

  it('1,000 concurrent /healthz requests run at most one scan at a time (single flight), and a fresh result is reused', async () => {
    const backend = new FaultyBackend();
    backend.scanDelayMs = 20;
    const { system } = await runningSystem(backend);
    const { url } = await serveSystem({ system, scanTtlMs: 0 });
    const answers = await Promise.all(Array.from({ length: 1000 }, () => fetch(`${url}/healthz`).then((r) => r.status)));
    expect(answers.filter((s) => s === 200)).toHaveLength(1000);
    expect(backend.maxScansRunning).toBe(1);
    expect(backend.scansStarted).toBeLessThan(1000);

    const cached = new FaultyBackend();
    const other = await serveSystem({ system, backend: cached, scanTtlMs: 60_000 });
    await Promise.all(Array.from({ length: 200 }, () => fetch(`${other.url}/healthz`).then((r) => r.text())));
    expect(cached.scansStarted).toBe(1);
  });

  it('404 for other paths, 405 with Allow for other methods, HEAD like GET without a body', async () => {
    const { system } = await runningSystem();
    const { url } = await serveSystem({ system });
    expect(await getJson(`${url}/nope`)).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await getJson(`${url}/readyz/extra`)).toMatchObject({ status: 404 });
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await getJson(`${url}/healthz`, { method });
      expect(res).toMatchObject({ status: 405, body: { error: 'method_not_allowed' } });
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
    const get = await fetch(`${url}/readyz`);
    const head = await fetch(`${url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(get.status);
    expect(await head.text()).toBe('');
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
  });

  it('an error becomes a JSON 500 that names the error code, never its message', async () => {
    const { system } = await runningSystem();
    let failing = false;
    const broken = {
      systemId: 'svc',
      get state() {
        return system.state;
      },
      startupCheck: null,
      persistence: undefined,
      metrics: {
        snapshot() {
          if (!failing) return system.metrics.snapshot();
          throw Object.assign(new Error('cannot reach redis://admin:s3cret@10.1.2.3:6379'), { code: 'PAPYRA_BACKEND_UNAVAILABLE' });
        },
      },
    };
    const { url } = await serveSystem({ system: broken as unknown as ActorSystem });
    failing = true;
    for (const route of ['readyz', 'metrics', 'metrics?format=json']) {
      const res = await fetch(`${url}/${route}`);
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(JSON.parse(text)).toEqual({ error: 'internal_error', code: 'PAPYRA_BACKEND_UNAVAILABLE' });
      expect(text).not.toMatch(/s3cret|10\.1\.2\.3|admin/);
    }
  });

  it('a failing probe is reported by code: no message, address or credential of the other system', async () => {
    const backend = new FaultyBackend();
    backend.probe = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED postgres://app:pa55word@db.internal:5432/prod'), { code: 'PAPYRA_BACKEND_UNAVAILABLE' });
    };
    const { system } = await runningSystem(backend);
    const { url } = await serveSystem({ system });
    const res = await fetch(`${url}/readyz`);
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({ reasons: ['backend_probe_failed'], checks: { backend: { ok: false, error: 'PAPYRA_BACKEND_UNAVAILABLE' } } });
    expect(text).not.toMatch(/pa55word|db\.internal|5432|ECONNREFUSED/);
  });

  it('rejects bad options with PAPYRA_INVALID_CONFIG', async () => {
    const { system } = await runningSystem();
    for (const bad of [{ probeTimeoutMs: 0 }, { stalledAfterMs: -1 }, { mailboxSaturation: Number.NaN }, { healthSource: 'ping' }]) {
      expect(() => createPapyraHandler({ system, ...(bad as object) })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    }
    expect(() => createPapyraHandler({} as never)).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });
});
