import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, ActorSystem } from '@papyra/core';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { registerPapyraMetrics, type PapyraMetricsRegistration } from '../src/index.js';
import { testMeterProvider, type Collected } from './helpers.js';

class Flaky extends Actor<'boom' | 'ping', string> {
  receive(message: 'boom' | 'ping'): string {
    if (message === 'boom') throw new Error('boom');
    return 'pong';
  }
}

class Echo extends Actor<string, string> {
  receive(message: string): string {
    return message;
  }
}

const sum = (c: Collected, name: string) => c.points(name).reduce((total, p) => total + (p.value as number), 0);

describe('end to end: ActorSystem + NdjsonBackend → OpenTelemetry SDK', () => {
  let dir: string;
  let backend: NdjsonBackend;
  let system: ActorSystem;
  let reg: PapyraMetricsRegistration;
  const sdk = testMeterProvider();

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'papyra-otel-'));
    backend = new NdjsonBackend({ path: join(dir, 'papyra.ndjson'), fsync: 'never' });
    system = new ActorSystem({ systemId: 'otel', persistence: backend, defaults: { supervision: { maxRestarts: 10 } } });
    reg = registerPapyraMetrics({ meterProvider: sdk.provider, system, backend });
    await system.start();
  });

  afterAll(() => sdk.provider.shutdown());

  afterEach(async () => {
    reg.unregister();
    await system.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports what really happened: restarts, dead letters, messages, records and bytes, a torn tail', async () => {
    const flaky = system.spawn(Flaky, { name: 'flaky' });
    for (let i = 0; i < 3; i++) await flaky.tell('boom');
    expect(await flaky.ask('ping')).toBe('pong'); // handled after the three crashes, by the third new instance

    const echo = system.spawn(Echo);
    for (const word of ['a', 'b', 'c', 'd']) expect(await echo.ask(word)).toBe(word);
    await system.stop(echo);
    await echo.terminated;
    for (let i = 0; i < 2; i++) await expect(echo.tell('late')).rejects.toMatchObject({ code: 'PAPYRA_ACTOR_STOPPED' });

    const running = await sdk.collect();
    const sys = { 'papyra.system.id': 'otel' };
    expect(running.value('papyra.actor.restarts', sys)).toBe(3);
    expect(running.value('papyra.actor.crashes', sys)).toBe(3);
    expect(running.value('papyra.message.dead_letters', sys)).toBe(2);
    expect(running.value('papyra.actor.count', { ...sys, 'papyra.actor.state': 'running' })).toBe(1);
    expect(running.value('papyra.actor.spawned', sys)).toBe(2);
    expect(running.value('papyra.actor.stopped', sys)).toBe(1);
    expect(running.value('papyra.mailbox.depth', sys)).toBe(0);
    expect(running.value('papyra.message.processed', sys)).toBe(5); // ping + 4 echoes; the 3 crashing ones count as crashes
    expect(running.value('papyra.message.processing.time', sys)).toBeGreaterThan(0);
    expect(running.unit('papyra.message.processing.time')).toBe('s');

    await system.close(); // flushes the backend: every record is on disk
    const file = await readFile(join(dir, 'papyra.ndjson'), 'utf8');
    const lines = file.split('\n').filter((l) => l !== '');
    const kinds = { event: 0, audit: 0, dead_letter: 0 };
    for (const line of lines) kinds[(JSON.parse(line) as { kind: keyof typeof kinds }).kind] += 1;
    expect(kinds.dead_letter).toBe(2);
    expect(kinds.event).toBeGreaterThanOrEqual(2 + 3 * 2 + 1); // 2 started, 3 × (crashed, restarted), 1 stopped, …

    const closed = await sdk.collect();
    const nd = { 'papyra.backend': 'ndjson' };
    for (const kind of Object.keys(kinds) as Array<keyof typeof kinds>) {
      expect(closed.value('papyra.persistence.record.written', { ...nd, 'papyra.record.kind': kind })).toBe(kinds[kind]);
    }
    expect(sum(closed, 'papyra.persistence.record.size')).toBe(Buffer.byteLength(file));
    expect(closed.histogram('papyra.persistence.write.duration', { ...nd, 'papyra.record.kind': 'event' })?.count).toBe(kinds.event);
    expect(sum(closed, 'papyra.persistence.write.errors')).toBe(0);
    expect(closed.value('papyra.actor.count', { 'papyra.system.id': 'otel', 'papyra.actor.state': 'running' })).toBe(0);

    await appendFile(join(dir, 'papyra.ndjson'), '{"kind":"event","id":"torn');
    const report = await backend.scan();
    expect(report.anomalies.map((a) => a.type)).toEqual(['TRUNCATED_LINE']);
    const scanned = await sdk.collect();
    expect(scanned.value('papyra.persistence.scans', nd)).toBe(1);
    expect(scanned.points('papyra.persistence.anomalies')).toEqual([{ attributes: { ...nd, 'papyra.anomaly.type': 'TRUNCATED_LINE' }, value: 1 }]);

    await backend.recover({ mode: 'repair' });
    expect((await sdk.collect()).value('papyra.persistence.recoveries', nd)).toBe(1);
  });

  it('exports the records the system could not hand to its backend, consistent with the file', async () => {
    // A backend whose writes wait for a gate: while the first one hangs, a queue of one overflows.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = new Proxy(backend, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key === 'recordEvent') return async (e: Parameters<typeof backend.recordEvent>[0]) => (await gate, target.recordEvent(e));
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const tight = new ActorSystem({ systemId: 'tight', persistence: slow, defaults: { persistence: { queueCapacity: 1 } } });
    const tightReg = registerPapyraMetrics({ meterProvider: sdk.provider, system: tight });
    await tight.start();
    const refs = Array.from({ length: 10 }, () => tight.spawn(Echo)); // 10 ActorStarted events into a queue of 1
    await Promise.all(refs.map((ref) => ref.ask('ping')));
    open();
    await tight.close(); // … and 10 ActorStopped, which close() waits to persist

    const lines = (await readFile(join(dir, 'papyra.ndjson'), 'utf8')).split('\n').filter((l) => l !== '');
    const c = await sdk.collect();
    const at = { 'papyra.system.id': 'tight' };
    const dropped = c.value('papyra.system.persistence.dropped', at);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped).toBe(20 - lines.length);
    expect(c.value('papyra.system.persistence.pending', at)).toBe(0);
    tightReg.unregister();
  });
});
