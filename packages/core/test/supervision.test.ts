import { describe, expect, it } from '@jest/globals';
import { Actor, ActorSystem, type ActorRef, type ChildFailure, type SupervisorDecision } from '../src/index.js';
import { RecordingBackend, deferred, rejection, until } from './helpers.js';

type CounterMsg = 'inc' | 'get' | 'crash';

class Counter extends Actor<CounterMsg, number> {
  static instances = 0;
  count = 0;
  constructor() {
    super();
    Counter.instances += 1;
  }
  receive(message: CounterMsg): number {
    if (message === 'crash') throw new Error(`boom at ${this.count}`);
    if (message === 'inc') this.count += 1;
    return this.count;
  }
}

function eventLog(system: ActorSystem): (address: string) => string[] {
  const events: { address: string | null; type: string }[] = [];
  system.subscribe((r) => {
    if (r.kind === 'event') events.push({ address: r.actorAddress, type: r.eventType });
  });
  return (address) => events.filter((e) => e.address === address).map((e) => e.type);
}

describe('supervision', () => {
  it('restart keeps ref, address, name and queued messages, and resets state', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    const ref = system.spawn(Counter, { name: 'counter' });
    await ref.tell('inc');
    await ref.tell('inc');
    // Queue a crash followed by more messages: they stay in the mailbox across the restart.
    const crash = ref.ask('crash');
    const afterCrash = [ref.ask('inc'), ref.ask('inc')];
    const error = await rejection(crash);
    expect(error.message).toBe('boom at 2');
    await expect(Promise.all(afterCrash)).resolves.toEqual([1, 2]);
    expect(system.refForName('counter')).toBe(ref);
    expect(system.refFor(ref.address)).toBe(ref);
    expect(ref.alive).toBe(true);
    expect(events(ref.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorRestarted']);
    expect(system.metrics.snapshot()).toMatchObject({ crashes: 1, restarts: 1 });
  });

  it('ask rejects with the actor’s own error only after supervision acted', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    const restarting = system.spawn(Counter, { name: 'r' });
    const stopping = system.spawn(Counter); // unnamed: stop
    const seen = await rejection(restarting.ask('crash'));
    expect(seen.message).toBe('boom at 0');
    expect(events(restarting.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorRestarted']);
    await rejection(stopping.ask('crash'));
    await stopping.terminated;
    expect(events(stopping.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorStopped']);
    expect((await rejection(stopping.tell('inc'))).code).toBe('PAPYRA_ACTOR_STOPPED');
  });

  it('counts restarts within a window on the monotonic clock and stops past the limit', async () => {
    let monotonic = 0;
    const backend = new RecordingBackend();
    await using system = new ActorSystem({ persistence: backend, clock: { monotonic: () => monotonic, now: () => 1_700_000_000_000 } });
    await system.start();
    const ref = system.spawn(Counter, { supervision: { strategy: 'restart', maxRestarts: 2, withinMs: 10_000 } });
    for (const t of [1, 2, 20, 21]) {
      monotonic = t * 1000;
      await rejection(ref.ask('crash'));
      expect(ref.alive).toBe(true);
      await expect(ref.ask('get')).resolves.toBe(0);
    }
    monotonic = 22_000;
    await rejection(ref.ask('crash'));
    await ref.terminated;
    expect(system.metrics.snapshot().restarts).toBe(4);
    await system.close();
    const events = backend.kept.filter((r) => r.kind === 'event');
    expect(events.map((e) => (e.kind === 'event' ? e.eventType : ''))).toEqual([
      'ActorStarted',
      ...Array.from({ length: 4 }, () => ['ActorCrashed', 'ActorRestarted']).flat(),
      'ActorCrashed',
      'ActorStopped',
    ]);
    expect(events.at(-1)).toMatchObject({ payload: { reason: 'restart limit exceeded' } });
    // Record timestamps come from the wall clock, whatever the monotonic clock says.
    expect(new Set(backend.kept.map((r) => r.timestamp))).toEqual(new Set([1_700_000_000_000]));
  });

  it('waits for the backoff delay before restarting', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    const ref = system.spawn(Counter, { supervision: { strategy: 'restart', backoff: { minMs: 30, maxMs: 1000 } } });
    const crash = rejection(ref.ask('crash'));
    await until(() => events(ref.address).includes('ActorCrashed'));
    expect(events(ref.address)).toEqual(['ActorStarted', 'ActorCrashed']);
    expect(system.metrics.snapshot().actorsRestarting).toBe(1);
    expect(system.audit().restartingActors).toBe(1);
    await crash;
    expect(events(ref.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorRestarted']);
    expect(system.metrics.snapshot().actorsRestarting).toBe(0);
  });

  it('a crash in onStart is supervised like one in receive', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    let attempts = 0;
    class Flaky extends Actor<'ping', string> {
      override onStart(): void {
        attempts += 1;
        if (attempts === 1) throw new Error('not yet');
      }
      receive(): string {
        return 'pong';
      }
    }
    const ref = system.spawn(Flaky, { name: 'flaky' });
    await expect(ref.ask('ping')).resolves.toBe('pong');
    expect(events(ref.address)).toEqual(['ActorCrashed', 'ActorRestarted']);
  });

  it('escalate makes the parent fail with the child’s error, under the parent’s own strategy', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    let child!: ActorRef<CounterMsg, number>;
    class Parent extends Actor<'spawn' | 'count', number> {
      receive(message: 'spawn' | 'count'): number {
        if (message === 'spawn') child = this.context.spawnChild(Counter, { supervision: { strategy: 'escalate' } });
        return 42;
      }
    }
    const parent = system.spawn(Parent, { name: 'parent' });
    await parent.ask('spawn');
    const crashed = await rejection(child.ask('crash'));
    expect(crashed.message).toBe('boom at 0');
    await child.terminated;
    await until(() => events(parent.address).includes('ActorRestarted'));
    expect(events(parent.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorRestarted']);
    expect(events(child.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorStopped']);
    await expect(parent.ask('count')).resolves.toBe(42);
  });

  it('runs onChildFailure on the parent’s own turn and applies each decision', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    const log: string[] = [];
    const gate = deferred();
    let decision: SupervisorDecision | undefined = 'resume';
    class Parent extends Actor<'spawn' | 'busy', ActorRef<CounterMsg, number>> {
      child!: ActorRef<CounterMsg, number>;
      async receive(message: 'spawn' | 'busy'): Promise<ActorRef<CounterMsg, number>> {
        if (message === 'spawn') this.child = this.context.spawnChild(Counter);
        else {
          log.push('busy:start');
          await gate.promise;
          log.push('busy:end');
        }
        return this.child;
      }
      override onChildFailure(failure: ChildFailure): SupervisorDecision | undefined {
        log.push(`decide:${failure.address}:${(failure.error as Error).message}`);
        return decision;
      }
    }
    const parent = system.spawn(Parent);
    const child = await parent.ask('spawn');
    await child.tell('inc');
    void parent.tell('busy');
    await until(() => log.includes('busy:start'));
    // The child fails while the parent is mid-turn: the decision must wait for that turn to end.
    const crash = rejection(child.ask('crash'));
    await crash; // the ask rejects at once, the parent may be the one waiting for it
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['busy:start']);
    gate.resolve();
    await until(() => log.length === 3);
    expect(log).toEqual(['busy:start', 'busy:end', `decide:${child.address}:boom at 1`]);
    // resume: same instance, state kept
    await expect(child.ask('get')).resolves.toBe(1);

    decision = 'restart';
    await rejection(child.ask('crash'));
    await until(() => events(child.address).includes('ActorRestarted'));
    await expect(child.ask('get')).resolves.toBe(0);

    decision = undefined; // the child's own strategy: unnamed, so stop
    await rejection(child.ask('crash'));
    await child.terminated;
    expect(events(child.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorCrashed', 'ActorRestarted', 'ActorCrashed', 'ActorStopped']);
    expect(parent.alive).toBe(true);
  });

  it('onChildFailure returning stop or escalate', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    class Parent extends Actor<'spawn', ActorRef<CounterMsg, number>> {
      constructor(readonly decision: SupervisorDecision) {
        super();
      }
      receive(): ActorRef<CounterMsg, number> {
        return this.context.spawnChild(Counter, { name: `child-of-${this.decision}` });
      }
      override onChildFailure(): SupervisorDecision {
        return this.decision;
      }
    }
    const stopper = system.spawn(() => new Parent('stop'));
    const stopped = await stopper.ask('spawn');
    await rejection(stopped.ask('crash'));
    await stopped.terminated;
    expect(events(stopped.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorStopped']);

    const escalator = system.spawn(() => new Parent('escalate'));
    const escalated = await escalator.ask('spawn');
    await rejection(escalated.ask('crash'));
    await escalated.terminated;
    await escalator.terminated; // unnamed parent: its own strategy is stop
    expect(events(escalator.address)).toEqual(['ActorStarted', 'ActorCrashed', 'ActorStopped']);
  });

  it('resume after the actor could not even be built restarts it instead of leaving it without an instance', async () => {
    await using system = new ActorSystem();
    await system.start();
    const events = eventLog(system);
    let builds = 0;
    class Flaky extends Actor<string, string> {
      constructor() {
        super();
        if (++builds === 1) throw new Error('first build fails');
      }
      receive(message: string): string {
        return `ok:${message}`;
      }
    }
    class Lenient extends Actor<'spawn', ActorRef<string, string>> {
      receive(): ActorRef<string, string> {
        return this.context.spawnChild(Flaky);
      }
      override onChildFailure(): SupervisorDecision {
        return 'resume';
      }
    }
    const parent = system.spawn(Lenient);
    const child = await parent.ask('spawn');
    await expect(child.ask('hi')).resolves.toBe('ok:hi');
    expect(builds).toBe(2);
    expect(events(child.address)).toEqual(['ActorCrashed', 'ActorRestarted']);
  });
});
