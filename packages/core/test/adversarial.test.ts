import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { PersistedDeadLetter, PersistedEvent, PersistedRecord } from '@papyra/persistence-contract';
import { Actor, ActorRef, ActorSystem, PapyraError, Terminated, isTerminated, type PapyraErrorCode, type SupervisorDecision } from '../src/index.js';
import { RecordingBackend, deferred, recordingLogger, rejection, until } from './helpers.js';

// Issue 14, items 2–11: each block reproduces the adversarial use the issue describes.

/** Unhandled rejections seen while a test runs (each would kill a process run with default flags). */
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

function recorder(system: ActorSystem): { events: (address?: string) => PersistedEvent[]; deadLetters: PersistedDeadLetter[] } {
  const records: PersistedRecord[] = [];
  system.subscribe((r) => void records.push(r));
  return {
    events: (address) => records.filter((r): r is PersistedEvent => r.kind === 'event' && (address === undefined || r.actorAddress === address)),
    get deadLetters() {
      return records.filter((r): r is PersistedDeadLetter => r.kind === 'dead_letter');
    },
  };
}

function unencodables(): Record<string, unknown> {
  const proxy = Proxy.revocable({}, {});
  proxy.revoke();
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < 20_000; i++) deep = deep['next'] = {};
  return {
    'a throwing getter': {
      get boom(): never {
        throw new Error('getter');
      },
    },
    'a revoked Proxy': proxy.proxy,
    'a 20,000-deep object': root,
  };
}

class Gate extends Actor<unknown, unknown> {
  static gate = deferred();
  override async receive(message: unknown): Promise<unknown> {
    if (message === 'block') await Gate.gate.promise;
    return typeof message === 'string' ? message : undefined;
  }
}

describe('item 2: encoding never throws, on any path', () => {
  it.each(Object.entries(unencodables()))(
    '%s: tell to a stopped actor, a stop with it queued, system.stop(), an expired ask waiting for room',
    async (_, payload) => {
      const system = new ActorSystem({ defaults: { closeTimeoutMs: 2_000 } });
      await system.start();
      const seen = recorder(system);
      Gate.gate = deferred();

      const gone = system.spawn(Gate);
      await system.stop(gone);
      await gone.terminated;
      const told = gone.tell(payload); // must not throw synchronously
      expect((await rejection(told)).code).toBe('PAPYRA_ACTOR_STOPPED');

      const busy = system.spawn(Gate, { mailbox: { capacity: 1 } });
      await busy.tell('block');
      await tick(); // 'block' is being processed; the mailbox is empty again
      await busy.tell(payload); // queued
      const waiting = busy.tell(payload); // backpressured
      const expired = busy.ask(payload, { timeoutMs: 10 }); // backpressured, then expires
      expect((await rejection(expired)).code).toBe('PAPYRA_ASK_TIMEOUT');
      expect(() => void system.stop(busy)).not.toThrow();
      expect((await rejection(waiting)).code).toBe('PAPYRA_ACTOR_STOPPED');
      Gate.gate.resolve();
      await busy.terminated;
      expect(() => system.refFor(busy.address)).toThrow(expect.objectContaining({ code: 'PAPYRA_ACTOR_NOT_FOUND' }));
      expect(seen.events(busy.address).map((e) => e.eventType)).toEqual(['ActorStarted', 'ActorStopped']);
      const letters = seen.deadLetters.filter((d) => d.target === busy.address || d.target === gone.address);
      expect(letters.length).toBe(3);
      for (const letter of letters) expect(JSON.stringify(letter.payload)).toBeDefined();
      await system.close();
      expect(unhandled).toEqual([]);
    },
  );
});

describe('item 3: nothing waits on a decision that needs the waiting turn', () => {
  it('a parent awaiting an ask to a child whose onStart throws gets the child’s error at once', async () => {
    await using system = new ActorSystem();
    await system.start();
    let starts = 0;
    class Child extends Actor<string, string> {
      override onStart(): void {
        if (++starts === 1) throw new Error('cannot start');
      }
      receive(message: string): string {
        return `child:${message}`;
      }
    }
    class Parent extends Actor<string, string> {
      async receive(): Promise<string> {
        const child = this.context.spawnChild(Child);
        try {
          return await child.ask('hi', { timeoutMs: 3_000 });
        } catch (err) {
          return `failed: ${(err as Error).message}`;
        }
      }
      override onChildFailure(): SupervisorDecision {
        return 'restart';
      }
    }
    const parent = system.spawn(Parent);
    await expect(parent.ask('go', { timeoutMs: 10_000 })).resolves.toBe('failed: cannot start');
  });

  it('a parent awaiting child.terminated while the child’s last message throws during its graceful stop', async () => {
    await using system = new ActorSystem();
    await system.start();
    class Child extends Actor<string> {
      receive(message: string): void {
        if (message === 'boom') throw new Error('boom');
      }
    }
    class Parent extends Actor<string, string> {
      async receive(): Promise<string> {
        const child = this.context.spawnChild(Child);
        await child.tell('boom');
        await this.context.stop(child);
        await child.terminated;
        return 'child gone';
      }
      override onChildFailure(): SupervisorDecision {
        return 'restart';
      }
    }
    const parent = system.spawn(Parent);
    await expect(parent.ask('go', { timeoutMs: 5_000 })).resolves.toBe('child gone');
  });
});

describe('item 4: a restart stops the children first', () => {
  it('named and unnamed children are not kept across restarts; no PAPYRA_NAME_TAKEN', async () => {
    await using system = new ActorSystem();
    await system.start();
    const seen = recorder(system);
    const order: string[] = [];
    class Child extends Actor<string> {
      receive(): void {}
      override onStop(): void {
        order.push(`child ${this.context.name ?? 'unnamed'} stopped`);
      }
    }
    class Parent extends Actor<'crash' | 'count', number> {
      override onStart(): void {
        order.push('parent started');
        this.context.spawnChild(Child, { name: 'named-child' });
        this.context.spawnChild(Child);
      }
      receive(message: 'crash' | 'count'): number {
        if (message === 'crash') throw new Error('transient');
        return this.context.children.length;
      }
    }
    const parent = system.spawn(Parent, { name: 'parent', supervision: { maxRestarts: 10 } });
    for (let i = 0; i < 5; i++) await rejection(parent.ask('crash'));
    expect(await parent.ask('count')).toBe(2);
    expect(seen.events(parent.address).map((e) => e.eventType)).toEqual(['ActorStarted', ...Array(5).fill(['ActorCrashed', 'ActorRestarted']).flat()]);
    expect(system.metrics.snapshot().actorsAlive).toBe(3);
    // Children of the old instance are gone before the new instance's onStart runs.
    expect(order.slice(0, 4)).toEqual(['parent started', 'child named-child stopped', 'child unnamed stopped', 'parent started']);
    expect(seen.events().filter((e) => e.eventType === 'ActorStopped' && (e.payload as { reason: string }).reason === 'parent restarted')).toHaveLength(10);
  });
});

describe('item 5: a backend call’s return value or throw is a success or a counted failure', () => {
  it('record* returning no promise (a synchronous append) and throwing synchronously', async () => {
    const written: string[] = [];
    let fail = false;
    const backend = new RecordingBackend();
    const append = (record: PersistedRecord): undefined => {
      if (fail) throw new Error('sync failure');
      written.push(record.kind);
      return undefined;
    };
    Object.assign(backend, { recordEvent: append, recordAudit: append, recordDeadLetter: append });
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const ref = system.spawn(Gate);
    await ref.ask('x');
    system.audit();
    await until(() => system.metrics.snapshot().persistence!.pending === 0);
    fail = true;
    system.audit();
    await until(() => system.metrics.snapshot().persistence!.pending === 0);
    fail = false;
    await system.close();
    expect(system.metrics.snapshot().persistence).toMatchObject({ queued: 4, written: 3, writeErrors: 1, dropped: 0 });
    expect(written).toEqual(['event', 'audit', 'event']);
    expect(unhandled).toEqual([]);
  });
});

describe('item 6: every duration and size option is validated; long waits work', () => {
  it.each([
    ['askTimeoutMs', { askTimeoutMs: Infinity }],
    ['askTimeoutMs', { askTimeoutMs: -1 }],
    ['mailboxCapacity', { mailboxCapacity: 0 }],
    ['closeTimeoutMs', { closeTimeoutMs: Number.NaN }],
    ['auditIntervalMs', { auditIntervalMs: Infinity }],
    ['batchSize', { persistence: { batchSize: 0 } }],
    ['queueCapacity', { persistence: { queueCapacity: 1.5 } }],
    ['writeTimeoutMs', { persistence: { writeTimeoutMs: 0 } }],
    ['maxHungWrites', { persistence: { maxHungWrites: 0 } }],
    ['flushTimeoutMs', { persistence: { flushTimeoutMs: -5 } }],
    ['withinMs', { supervision: { withinMs: 0 } }],
    ['maxRestarts', { supervision: { maxRestarts: -1 } }],
  ])('defaults: a bad %s is PAPYRA_INVALID_CONFIG', (option, defaults) => {
    expect(() => new ActorSystem({ persistence: new RecordingBackend(), defaults: defaults as never })).toThrow(
      expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG', message: expect.stringContaining(option) }),
    );
  });

  it('spawn options and call arguments: PAPYRA_INVALID_ARGUMENT', async () => {
    await using system = new ActorSystem();
    await system.start();
    const bad = [
      { supervision: { backoff: { minMs: 10, maxMs: 5 } } },
      { supervision: { backoff: { minMs: Infinity, maxMs: Infinity } } },
      { supervision: { backoff: { minMs: 1, maxMs: 2, factor: 0.5 } } },
      { mailbox: { maxWaiting: -1 } },
    ];
    for (const options of bad) expect(() => system.spawn(Gate, options)).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    const ref = system.spawn(Gate);
    expect((await rejection(ref.ask('x', { timeoutMs: Infinity }))).code).toBe('PAPYRA_INVALID_ARGUMENT');
    expect((await rejection(ref.tell('x', { timeoutMs: -1 }))).code).toBe('PAPYRA_INVALID_ARGUMENT');
  });

  it('an ask deadline above 2^31 − 1 ms waits (it used to reject after 1 ms)', async () => {
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 100 } });
    await system.start();
    Gate.gate = deferred();
    const ref = system.spawn(Gate);
    await ref.tell('block');
    let settled = false;
    const asked = ref.ask('late', { timeoutMs: 2 ** 31 + 1_000 });
    void asked.finally(() => (settled = true)).catch(() => {});
    await tick(30);
    expect(settled).toBe(false);
    Gate.gate.resolve();
    await expect(asked).resolves.toBe('late');
  });

  it('a 30-day backoff does not restart at once; closeTimeoutMs: Infinity waits for a slow onStop', async () => {
    const stops: string[] = [];
    const system = new ActorSystem({
      defaults: { closeTimeoutMs: Infinity },
      hooks: { onEvent: (e) => void (e.eventType === 'ActorStopped' && stops.push((e.payload as { reason: string }).reason)) },
    });
    await system.start();
    class Crasher extends Actor<string> {
      receive(): void {
        throw new Error('crash');
      }
    }
    class SlowStop extends Actor<string> {
      receive(): void {}
      override async onStop(): Promise<void> {
        await tick(50);
      }
    }
    const crasher = system.spawn(Crasher, { name: 'c', supervision: { backoff: { minMs: 30 * 86_400_000, maxMs: 30 * 86_400_000 } } });
    await crasher.tell('x');
    await tick(30);
    expect(system.metrics.snapshot()).toMatchObject({ restarts: 0, actorsRestarting: 1 });
    system.spawn(SlowStop);
    await system.close();
    expect(stops.sort()).toEqual(['shutdown', 'shutdown']);
  });

  it('writeTimeoutMs: Infinity never times a write out', async () => {
    const backend = new RecordingBackend();
    const slow = async (): Promise<void> => tick(20);
    Object.assign(backend, { recordEvent: slow, recordAudit: slow, recordDeadLetter: slow });
    const system = new ActorSystem({ persistence: backend, defaults: { persistence: { writeTimeoutMs: Infinity } } });
    await system.start();
    system.audit();
    await system.close();
    expect(system.metrics.snapshot().persistence).toMatchObject({ written: 1, writeTimeouts: 0 });
  });
});

describe('item 7: Terminated comes after what the stopped actor sent to the watcher', () => {
  it.each([
    ['queued', 8],
    ['backpressured', 1],
  ])('a supervisor sees the worker’s last result (%s) before its Terminated', async (_, capacity) => {
    await using system = new ActorSystem();
    await system.start();
    const seen: string[] = [];
    const gate = deferred();
    class Worker extends Actor<ActorRef<unknown>> {
      receive(supervisor: ActorRef<unknown>): void {
        void supervisor.tell('result 1');
        void supervisor.tell('result 2');
        void this.context.stopSelf();
      }
    }
    class Supervisor extends Actor<string | Terminated, void> {
      async receive(message: string | Terminated): Promise<void> {
        if (message === 'start') {
          const worker = this.context.spawnChild(Worker);
          this.context.watch(worker);
          await worker.tell(this.context.self);
          await gate.promise; // busy while the worker sends and stops
          return;
        }
        seen.push(isTerminated(message) ? 'Terminated' : message);
      }
    }
    const supervisor = system.spawn(Supervisor, { mailbox: { capacity } });
    await supervisor.tell('start');
    await until(() => system.metrics.snapshot().actorsAlive === 1);
    gate.resolve();
    await until(() => seen.length === 3);
    expect(seen).toEqual(['result 1', 'result 2', 'Terminated']);
  });
});

describe('item 8: close() persists every ActorStopped, waiting for room instead of shedding', () => {
  it('3,000 actors, a backend taking 2 ms per write, a small writer queue', async () => {
    const backend = new RecordingBackend();
    const write = (record: PersistedRecord) => tick(2).then(() => void backend.kept.push(record));
    Object.assign(backend, { recordEvent: write, recordAudit: write, recordDeadLetter: write });
    const system = new ActorSystem({ persistence: backend, defaults: { persistence: { queueCapacity: 100, batchSize: 50, flushTimeoutMs: 20_000 } } });
    await system.start();
    for (let i = 0; i < 3_000; i++) system.spawn(Gate);
    await until(() => system.metrics.snapshot().persistence!.pending === 0, 20_000);
    await system.close();
    const stopped = backend.kept.filter((r) => r.kind === 'event' && r.eventType === 'ActorStopped');
    expect(stopped).toHaveLength(3_000);
    expect(system.metrics.snapshot().persistence).toMatchObject({ dropped: 0, writeErrors: 0 });
  });
});

describe('item 9: memory is bounded', () => {
  it('backpressured senders are bounded; one more gets PAPYRA_MAILBOX_FULL and is a dead letter', async () => {
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 100 } });
    await system.start();
    const seen = recorder(system);
    Gate.gate = deferred();
    const ref = system.spawn(Gate, { mailbox: { capacity: 4, maxWaiting: 8 } });
    await ref.tell('block');
    await tick();
    for (let i = 0; i < 1_000; i++) void ref.tell(i);
    expect(system.metrics.snapshot()).toMatchObject({ mailboxDepth: 12, mailboxMaxFill: 3 });
    expect(seen.deadLetters.filter((d) => d.reason.includes('backpressure'))).toHaveLength(1_000 - 12);
    expect((await rejection(ref.tell('one more'))).code).toBe('PAPYRA_MAILBOX_FULL');
    expect((await rejection(ref.ask('one more'))).code).toBe('PAPYRA_MAILBOX_FULL');
    Gate.gate.resolve();
  });

  it('an ask that timed out leaves the mailbox at once (queued or backpressured)', async () => {
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 100 } });
    await system.start();
    const seen = recorder(system);
    Gate.gate = deferred();
    const ref = system.spawn(Gate, { mailbox: { capacity: 1 } });
    await ref.tell('block');
    await tick();
    const queued = ref.ask('queued', { timeoutMs: 10 });
    const waiting = ref.ask('waiting', { timeoutMs: 10 });
    expect(system.metrics.snapshot().mailboxDepth).toBe(2);
    await rejection(queued);
    await rejection(waiting);
    expect(system.metrics.snapshot().mailboxDepth).toBe(0);
    expect(seen.deadLetters.map((d) => [d.payload, d.reason])).toEqual([
      ['queued', 'ask timed out before delivery'],
      ['waiting', 'ask timed out before delivery'],
    ]);
    Gate.gate.resolve();
  });
});

describe('item 9 (continued)', () => {
  it('senders waiting behind an ask that timed out get its room', async () => {
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 100 } });
    await system.start();
    Gate.gate = deferred();
    const ref = system.spawn(Gate, { mailbox: { capacity: 1 } });
    await ref.tell('block');
    await tick();
    const expiring = ref.ask('expires', { timeoutMs: 10 });
    const waiting = ref.tell('waits for room');
    await rejection(expiring);
    Gate.gate.resolve();
    await waiting;
    await expect(ref.ask('after', { timeoutMs: 2_000 })).resolves.toBe('after');
  });
});

describe('item 10: smaller defects', () => {
  it('an async subscribe() listener that rejects is logged, not an unhandled rejection', async () => {
    const logger = recordingLogger();
    const system = new ActorSystem({ logger });
    await system.start();
    system.subscribe(async () => {
      throw new Error('listener down');
    });
    system.audit();
    await tick(5);
    await system.close();
    expect(unhandled).toEqual([]);
    expect(logger.entries.some((e) => e.msg === 'record listener failed')).toBe(true);
  });

  it('resume after an onStart failure builds a complete instance', async () => {
    await using system = new ActorSystem();
    await system.start();
    let starts = 0;
    class HalfBuilt extends Actor<string, boolean> {
      ready = false;
      override onStart(): void {
        if (++starts === 1) throw new Error('first start fails');
        this.ready = true;
      }
      receive(): boolean {
        return this.ready;
      }
    }
    class Lenient extends Actor<string, ActorRef<string, boolean>> {
      receive(): ActorRef<string, boolean> {
        return this.context.spawnChild(HalfBuilt);
      }
      override onChildFailure(): SupervisorDecision {
        return 'resume';
      }
    }
    const child = await system.spawn(Lenient).ask('spawn');
    await expect(child.ask('ready?')).resolves.toBe(true);
  });

  it('awaiting system.close() inside a turn does not wait for the close timeout', async () => {
    const stops: string[] = [];
    const system = new ActorSystem({
      defaults: { closeTimeoutMs: 3_000 },
      hooks: { onEvent: (e) => void (e.eventType === 'ActorStopped' && stops.push((e.payload as { reason: string }).reason)) },
    });
    await system.start();
    const closed = deferred();
    class Closer extends Actor<string> {
      async receive(): Promise<void> {
        await tick(1);
        await this.context.system.close();
        closed.resolve();
      }
    }
    const parent = system.spawn(Gate);
    system.spawn(Closer, { parent });
    await system.spawn(Closer).tell('close');
    await closed.promise;
    expect(system.state).toBe('closed');
    expect(stops).toEqual(['shutdown', 'shutdown', 'shutdown']);
  });
});

describe('item 11: API', () => {
  it('PapyraError and its code type come from core', () => {
    const code: PapyraErrorCode = 'PAPYRA_ACTOR_STOPPED';
    expect(new PapyraError(code, 'x')).toBeInstanceOf(Error);
  });

  it('refFor accepts only canonical addresses', async () => {
    await using system = new ActorSystem({ systemId: 'a' });
    await system.start();
    const ref = system.spawn(Gate);
    expect(system.refFor('a:1')).toBe(ref);
    for (const address of ['a:01', 'a:0001', 'a:+1', 'a:1.0', 'a:0']) {
      expect(() => system.refFor(address)).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    }
  });

  it('a system cannot stop, watch or parent another system’s actors', async () => {
    await using one = new ActorSystem({ systemId: 'one' });
    await using two = new ActorSystem({ systemId: 'two' });
    await one.start();
    await two.start();
    const foreign = two.spawn(Gate);
    expect(() => one.stop(foreign)).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    expect(() => one.spawn(Gate, { parent: foreign })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    class Meddler extends Actor<string | Terminated, string> {
      receive(what: string | Terminated): string {
        try {
          if (what === 'watch') this.context.watch(foreign);
          else this.context.stop(foreign);
          return 'allowed';
        } catch (err) {
          return (err as PapyraError).code;
        }
      }
    }
    const meddler = one.spawn(Meddler);
    await expect(meddler.ask('watch')).resolves.toBe('PAPYRA_INVALID_ARGUMENT');
    await expect(meddler.ask('stop')).resolves.toBe('PAPYRA_INVALID_ARGUMENT');
    expect(foreign.alive).toBe(true);
  });

  it('ask takes an AbortSignal; a backpressured tell takes a deadline or a signal', async () => {
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 100 } });
    await system.start();
    const seen = recorder(system);
    Gate.gate = deferred();
    const ref = system.spawn(Gate, { mailbox: { capacity: 1 } });
    await ref.tell('block');
    await tick();
    const controller = new AbortController();
    const asked = ref.ask('abort me', { signal: controller.signal });
    controller.abort();
    expect((await rejection(asked)).code).toBe('PAPYRA_ABORTED');
    await ref.tell('fills the mailbox');
    expect((await rejection(ref.tell('late', { timeoutMs: 5 }))).code).toBe('PAPYRA_TELL_TIMEOUT');
    const second = new AbortController();
    const told = ref.tell('aborted', { signal: second.signal });
    second.abort();
    expect((await rejection(told)).code).toBe('PAPYRA_ABORTED');
    expect(system.metrics.snapshot().mailboxDepth).toBe(1);
    expect(seen.deadLetters.map((d) => d.payload)).toEqual(['abort me', 'late', 'aborted']);
    expect((await rejection(ref.ask('x', { signal: AbortSignal.abort() }))).code).toBe('PAPYRA_ABORTED');
    Gate.gate.resolve();
  });

  it('types: refs cannot be constructed, watch needs a message type that accepts Terminated', () => {
    class NoTerminated extends Actor<string> {
      receive(): void {
        // @ts-expect-error: Terminated is not a message of this actor
        this.context.watch(this.context.self);
      }
    }
    // @ts-expect-error: the constructor is private
    expect(() => new ActorRef({} as never)).toBeDefined();
    expect(NoTerminated).toBeDefined();
  });
});
