import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { ActorSystem } from '@papyra/core';
import { tempDirs } from '@papyra/test-support';
import { ExitCode, PapyraService, runService, serve, type RunServiceOptions } from '../src/index.js';
import { Counter, deferred, eventually, FaultyBackend, getJson, listen } from './helpers.js';

const dirs = tempDirs('papyra-http-service-');
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  await dirs.cleanup();
});

/** runService with injected signals and exit: nothing here touches the real process. */
function harness(options: Omit<RunServiceOptions, 'signalSource' | 'exit'>) {
  const signals = new EventEmitter();
  const exits: number[] = [];
  let exited!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (exited = resolve));
  const running = runService({
    port: 0,
    host: '127.0.0.1',
    ...options,
    signalSource: signals,
    exit: (code) => {
      exits.push(code);
      exited(code);
    },
  });
  cleanups.push(async () => (await running).shutdown());
  return { signals, exits, exitCode, running };
}

describe('service lifecycle', () => {
  it('serve() + await using: endpoints and the app answer; leaving the scope closes server and system', async () => {
    const system = new ActorSystem({ persistence: new FaultyBackend() });
    let server: PapyraService['server'];
    {
      await using service = await serve({
        system,
        port: 0,
        host: '127.0.0.1',
        app: (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('app');
        },
      });
      server = service.server;
      expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await getJson(`${service.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready' } });
      expect(await (await fetch(`${service.url}/anything`)).text()).toBe('app');
      system.spawn(Counter);
    }
    expect(server.listening).toBe(false);
    expect(system.state).toBe('closed');
  });

  it('SIGTERM: readiness fails (shutting_down) while draining, then the system closes and the process exits 0', async () => {
    const system = new ActorSystem({ persistence: new FaultyBackend() });
    const { signals, exitCode, running } = harness({ system, drainDelayMs: 400 });
    const service = await running;
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    expect(signals.listenerCount('SIGINT')).toBe(1);
    expect((await getJson(`${service.url}/readyz`)).status).toBe(200);

    signals.emit('SIGTERM', 'SIGTERM');
    const draining = await getJson(`${service.url}/readyz`);
    expect(draining.status).toBe(503);
    expect(draining.body.reasons).toContain('shutting_down');
    expect((await getJson(`${service.url}/livez`)).status).toBe(200); // alive while draining: no restart

    expect(await exitCode).toBe(ExitCode.OK);
    expect(system.state).toBe('closed');
    expect(service.server.listening).toBe(false);
    expect(signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('a close that overruns shutdownTimeoutMs exits with SHUTDOWN_TIMEOUT; a second signal exits at once with 128 + signo', async () => {
    /** A system whose close() hangs until the test ends. */
    const stuck = deferred();
    const stuckSystem = () => {
      const system = new ActorSystem({ persistence: new FaultyBackend() });
      const close = system.close.bind(system);
      system.close = () => stuck.promise;
      cleanups.push(() => close());
      return system;
    };
    const slow = harness({ system: stuckSystem(), shutdownTimeoutMs: 300 });
    await slow.running;
    slow.signals.emit('SIGTERM', 'SIGTERM');
    expect(await slow.exitCode).toBe(ExitCode.SHUTDOWN_TIMEOUT);

    const impatient = harness({ system: stuckSystem(), shutdownTimeoutMs: 60_000 });
    cleanups.push(() => stuck.open()); // cleanups run in reverse: first unstick, so the shutdowns can end
    await impatient.running;
    impatient.signals.emit('SIGINT', 'SIGINT');
    impatient.signals.emit('SIGINT', 'SIGINT');
    expect(await impatient.exitCode).toBe(130);
    expect(impatient.exits).toEqual([130]);
  });

  it('a startup check that refuses: readiness says startup_check_failed, the service shuts down, exit STARTUP_FAILED', async () => {
    const path = join(await dirs.make(), 'papyra.ndjson');
    await appendFile(path, '{"torn');
    const backend = new NdjsonBackend({ path });
    cleanups.push(() => backend.close());
    const system = new ActorSystem({ persistence: backend, startup: { mode: 'fail_on_anomaly' } });
    const { exitCode, running } = harness({ system });
    expect(await exitCode).toBe(ExitCode.STARTUP_FAILED);
    const service = await running;
    expect(service.server.listening).toBe(false);
    expect(await service.endpoints.readiness()).toMatchObject({
      ready: false,
      checks: { startup: { ok: false, reason: 'startup_check_failed', error: 'PAPYRA_STARTUP_ANOMALIES' } },
    });

    const direct = new ActorSystem({ persistence: backend, startup: { mode: 'fail_on_anomaly' } });
    await expect(serve({ system: direct, port: 0, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'PAPYRA_STARTUP_ANOMALIES' });
  });

  it('listens before the startup check ends: /livez answers during a long check, /readyz is 503 until it passes', async () => {
    const backend = new FaultyBackend();
    backend.scanDelayMs = 500;
    const system = new ActorSystem({ persistence: backend, startup: { mode: 'fail_on_anomaly' } });
    const service = new PapyraService({ system, port: 0, host: '127.0.0.1' });
    cleanups.push(() => service.shutdown());
    const started = service.start();
    await eventually(async () => service.server.listening, Boolean);
    expect(await getJson(`${service.url}/livez`)).toMatchObject({ status: 200, body: { state: 'starting' } });
    expect(await getJson(`${service.url}/readyz`)).toMatchObject({ status: 503, body: { reasons: ['system_not_running'] } });
    await started;
    expect((await getJson(`${service.url}/readyz`)).status).toBe(200);
  });

  it('rejects bad lifecycle options with PAPYRA_INVALID_CONFIG', async () => {
    const system = new ActorSystem();
    for (const bad of [{ port: -1 }, { shutdownTimeoutMs: Number.NaN }, { drainDelayMs: 1.5 }]) {
      expect(() => new PapyraService({ system, ...bad })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    }
  });

  it('a port that cannot be bound exits with ERROR', async () => {
    const taken = await listen((_req, res) => res.end());
    cleanups.push(() => taken.close());
    const system = new ActorSystem({ persistence: new FaultyBackend() });
    const { exitCode } = harness({ system, port: Number(new URL(taken.url).port) });
    expect(await exitCode).toBe(ExitCode.ERROR);
  });
});
