import { describe, expect, it } from '@jest/globals';
import { MemoryBackend } from '@papyra/backend-memory';
import { AnomalyType } from '@papyra/persistence-contract';
import { Actor, ActorSystem } from '../src/index.js';
import { RecordingBackend, deferred, recordingLogger, rejection, until } from './helpers.js';

class Counter extends Actor<'inc' | 'get' | 'crash', number> {
  count = 0;
  receive(message: 'inc' | 'get' | 'crash'): number {
    if (message === 'crash') throw new TypeError('bad input ✓');
    if (message === 'inc') this.count += 1;
    return this.count;
  }
}

class CountingMemory extends MemoryBackend {
  flushes = 0;
  override async flush(): Promise<void> {
    this.flushes += 1;
    await super.flush();
  }
}

const WALL = Date.UTC(2025, 0, 2, 3, 4, 5);

describe('persistence of lifecycle facts', () => {
  it('persists every lifecycle event with an id, the actor address and a wall-clock epoch-ms timestamp', async () => {
    const backend = new CountingMemory();
    let wall = WALL;
    const system = new ActorSystem({ systemId: 'shop', persistence: backend, clock: { now: () => wall++, monotonic: () => 5 } });
    await system.start();
    const named = system.spawn(Counter, { name: 'named' });
    const unnamed = system.spawn(Counter);
    await rejection(named.ask('crash'));
    await rejection(unnamed.ask('crash'));
    await unnamed.terminated;
    await system.close();
    expect(backend.flushes).toBe(1);
    await expect(backend.listEvents()).resolves.toBeDefined(); // close() flushed but did not close the backend
    const events = await backend.listEvents();
    const of = (address: string) => events.filter((e) => e.actorAddress === address).map((e) => [e.eventType, e.payload]);
    // ActorStarted carries the name and the supervision policy, for readers such as `papyra explain`.
    expect(of('shop:1')).toEqual([
      ['ActorStarted', { name: 'named', supervision: { strategy: 'restart', maxRestarts: 3, withinMs: 60_000 } }],
      ['ActorCrashed', { error: 'TypeError: bad input ✓', reason: 'TypeError: bad input ✓' }],
      ['ActorRestarted', { reason: 'actor restarted' }],
      ['ActorStopped', { reason: 'shutdown' }], // emitted during close(), still persisted
    ]);
    expect(of('shop:2')).toEqual([
      ['ActorStarted', { supervision: { strategy: 'stop', maxRestarts: 3, withinMs: 60_000 } }],
      ['ActorCrashed', { error: 'TypeError: bad input ✓', reason: 'TypeError: bad input ✓' }],
      ['ActorStopped', { reason: 'failure' }],
    ]);
    for (const e of events) {
      expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(e.systemId).toBe('shop');
      expect(e.timestamp).toBeGreaterThanOrEqual(WALL);
      expect(e.timestamp).toBeLessThan(WALL + 100);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('persists dead letters with JSON-safe payloads', async () => {
    const backend = new MemoryBackend();
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const ref = system.spawn(Counter);
    await system.stop(ref);
    await ref.terminated;
    const cyclic: Record<string, unknown> = { n: 1n as unknown };
    cyclic.self = cyclic;
    await rejection((ref as unknown as { tell(m: unknown): Promise<void> }).tell(cyclic));
    await rejection(ref.ask('get'));
    await system.close();
    const letters = await backend.listDeadLetters();
    expect(letters).toHaveLength(2);
    expect(letters[0]).toMatchObject({ target: ref.address, messageType: 'Object', expectsReply: false, reason: 'actor stopped' });
    expect(typeof (letters[0]!.payload as Record<string, unknown>).n).toBe('string');
    expect(letters[1]).toMatchObject({ payload: 'get', expectsReply: true });
  });

  it('audit() returns and persists the counts; periodic audits stop at close', async () => {
    const backend = new MemoryBackend();
    const audits: number[] = [];
    const system = new ActorSystem({
      systemId: 'a',
      persistence: backend,
      defaults: { auditIntervalMs: 10 },
      hooks: { onAudit: (a) => void audits.push(a.totalActors) },
    });
    await system.start();
    const gate = deferred();
    class Busy extends Actor<string, void> {
      async receive(): Promise<void> {
        await gate.promise;
      }
    }
    const busy = system.spawn(Busy, { name: 'busy' });
    system.spawn(Counter, { name: 'idle' });
    system.spawn(Counter);
    await busy.tell('work');
    await system.stop(busy); // stopping: its turn is still running
    const dead = system.spawn(Counter);
    await system.stop(dead);
    await dead.terminated;
    await rejection(dead.tell('inc'));
    const audit = system.audit();
    expect(audit).toMatchObject({
      kind: 'audit',
      systemId: 'a',
      totalActors: 3,
      aliveActors: 2,
      stoppingActors: 1,
      restartingActors: 0,
      registrySize: 2,
      registryOrphans: [],
      registryDead: [],
      deadLettersCount: 1,
    });
    await until(() => audits.length >= 3);
    gate.resolve();
    await system.close();
    const persisted = await backend.listAudits();
    expect(persisted.map((a) => a.id)).toContain(audit.id);
    const count = persisted.length;
    await new Promise((r) => setTimeout(r, 40));
    expect((await backend.listAudits()).length).toBe(count);
  });

  it('persists nothing without a backend, but hooks still fire', async () => {
    const seen: string[] = [];
    const system = new ActorSystem({ hooks: { onEvent: (e) => void seen.push(e.eventType) } });
    await system.start();
    system.spawn(Counter);
    await system.close();
    expect(seen).toEqual(['ActorStarted', 'ActorStopped']);
    expect(system.metrics.snapshot().persistence).toBeNull();
  });

  it('logs hook errors (sync and async) and never throws them into the runtime', async () => {
    const logger = recordingLogger();
    const boom = () => {
      throw new Error('hook bug');
    };
    const asyncBoom = async () => {
      throw new Error('async hook bug');
    };
    const system = new ActorSystem({
      logger,
      hooks: { onEvent: boom, onDeadLetter: asyncBoom, onFailure: boom, onAudit: asyncBoom },
    });
    await system.start();
    const ref = system.spawn(Counter, { name: 'c' });
    await rejection(ref.ask('crash'));
    await expect(ref.ask('inc')).resolves.toBe(1);
    system.audit();
    const other = system.spawn(Counter);
    await system.stop(other);
    await other.terminated;
    await rejection(other.tell('inc'));
    await system.close();
    await until(() => logger.entries.filter((e) => e.msg === 'hook failed').length >= 6);
    const failed = logger.entries.filter((e) => e.msg === 'hook failed');
    expect(new Set(failed.map((e) => e.obj.hook))).toEqual(new Set(['onEvent', 'onDeadLetter', 'onFailure', 'onAudit']));
    expect(failed.every((e) => e.level === 'error' && e.obj.err instanceof Error && e.obj.component === 'actor-system')).toBe(true);
  });

  it('runs the startup check before any actor: refuses a corrupted store, recovers one in recover mode', async () => {
    const backend = new RecordingBackend();
    backend.anomalies = [{ type: AnomalyType.CORRUPTED_LINE, path: 'x', line: 3, offset: 40, detail: 'not JSON' }];
    const scans: number[] = [];
    const recoveries: number[] = [];
    const strict = new ActorSystem({ persistence: backend, startup: { mode: 'fail_on_anomaly' } });
    expect((await rejection(strict.start())).code).toBe('PAPYRA_STARTUP_ANOMALIES');
    expect(() => strict.spawn(Counter)).toThrow(expect.objectContaining({ code: 'PAPYRA_SYSTEM_NOT_RUNNING' }));

    const healing = new ActorSystem({
      persistence: backend,
      startup: { mode: 'recover' },
      hooks: { onPersistenceScan: (r) => void scans.push(r.anomalies.length), onPersistenceRecovery: (r) => void recoveries.push(r.droppedRecords) },
    });
    const result = await healing.start();
    expect(result?.recovery?.postScan.anomalies).toEqual([]);
    expect(scans).toEqual([1]);
    expect(recoveries).toEqual([1]);
    await healing.close();

    // The refused system can start once the store is clean.
    await strict.start();
    expect(strict.state).toBe('running');
    await strict.close();
    expect(() => new ActorSystem({ startup: { mode: 'ignore' } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });
});

describe('the startup check in progress', () => {
  it('no actor can be spawned while it runs; close() waits for it and then closes', async () => {
    const scanning = deferred();
    class SlowScan extends RecordingBackend {
      override async scan() {
        await scanning.promise;
        return super.scan();
      }
    }
    const system = new ActorSystem({ persistence: new SlowScan(), startup: { mode: 'scan_only' } });
    const started = system.start();
    expect(system.state).toBe('starting');
    expect(() => system.spawn(Counter)).toThrow(expect.objectContaining({ code: 'PAPYRA_SYSTEM_NOT_RUNNING' }));
    const closed = system.close();
    scanning.resolve();
    await expect(started).resolves.toMatchObject({ mode: 'scan_only' });
    await closed;
    expect(system.state).toBe('closed');
    expect(() => system.spawn(Counter)).toThrow(expect.objectContaining({ code: 'PAPYRA_SYSTEM_NOT_RUNNING' }));
  });
});

describe('a misbehaving backend never stops or blocks actors', () => {
  async function flood(system: ActorSystem): Promise<number> {
    const ref = system.spawn(Counter, { name: 'flood' });
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) sends.push(ref.tell('inc'));
    await Promise.all(sends);
    // Dead letters and crashes produce records too, each a failing or hanging write.
    const gone = system.spawn(Counter);
    await system.stop(gone);
    await gone.terminated;
    for (let i = 0; i < 500; i++) await rejection(gone.tell('inc'));
    await rejection(ref.ask('crash'));
    return ref.ask('get');
  }

  it.each(['throw', 'reject'] as const)('writes that %s: 10k messages flow, failures are counted and logged', async (mode) => {
    const backend = new RecordingBackend();
    backend.mode = mode;
    const logger = recordingLogger();
    const system = new ActorSystem({ persistence: backend, logger });
    await system.start();
    expect(await flood(system)).toBe(0); // restarted after the crash, having counted 10k
    expect(system.metrics.snapshot().messagesProcessed).toBeGreaterThanOrEqual(10_000);
    await system.close();
    const metrics = system.metrics.snapshot().persistence!;
    expect(metrics.written).toBe(0);
    expect(metrics.writeErrors).toBe(metrics.queued);
    expect(metrics.writeErrors).toBeGreaterThanOrEqual(500 + 4);
    const logged = logger.entries.filter((e) => e.msg === 'persistence writes failed; records lost');
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.length).toBeLessThan(metrics.writeErrors); // per batch, not per record
    expect(logged.reduce((sum, e) => sum + (e.obj.records as number), 0)).toBe(metrics.writeErrors);
  });

  it('writes that hang: 10k messages flow, timeouts are counted, close() still returns', async () => {
    const backend = new RecordingBackend();
    backend.mode = 'hang';
    const system = new ActorSystem({
      persistence: backend,
      defaults: { persistence: { writeTimeoutMs: 20, batchSize: 64, maxHungWrites: 200, queueCapacity: 300, flushTimeoutMs: 50 } },
    });
    await system.start();
    expect(await flood(system)).toBe(0);
    await system.close();
    const metrics = system.metrics.snapshot().persistence!;
    expect(metrics.written).toBe(0);
    expect(metrics.writeTimeouts).toBeGreaterThan(0);
    // Bounded: beyond the queue and the hung-write limits records are dropped, and counted.
    expect(metrics.dropped).toBeGreaterThan(0);
    expect(metrics.writeTimeouts).toBeLessThanOrEqual(200 + 64);
    expect(metrics.queued + metrics.dropped).toBeGreaterThanOrEqual(500 + 4);
  });

  it('a backend closed by its owner only costs a logged error at close()', async () => {
    const backend = new MemoryBackend();
    const logger = recordingLogger();
    const system = new ActorSystem({ persistence: backend, logger });
    await system.start();
    system.spawn(Counter);
    await backend.close();
    await system.close();
    expect(system.metrics.snapshot().persistence!.writeErrors).toBe(2);
    expect(logger.entries.some((e) => e.msg === 'backend flush failed at close')).toBe(true);
  });
});
