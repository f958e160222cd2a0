import { describe, expect, it } from '@jest/globals';
import type { PersistedEvent } from '@papyra/persistence-contract';
import {
  Actor,
  ActorSystem,
  isTerminated,
  type ActorRef,
  type OverflowPolicy,
  type SpawnOptions,
  type SupervisorDecision,
  type Terminated,
} from '../src/index.js';

// A seeded random race over the whole runtime (issue 14, "Done when"). The seed is printed;
// `SEED=<n>` replays a run's choices (the interleaving also depends on timers, so not always exactly). Injected: sync and async crashes (in receive and onStart), stops,
// stopSelf, watches, child spawns, every overflow policy, restart backoff, every parent decision,
// asks between actors (cycles included, bounded by deadlines), long self-feeding async loops,
// messages that cannot be encoded (a throwing getter, a revoked Proxy), and close() in the middle
// of it all. Not injected: persistence faults (persistence.test.ts covers those).

/** A timer armed during the run must fire within this of its due time (stated bound; fairness makes it ~10 ms). */
const TIMER_BOUND_MS = 1_000;
const ROUNDS = 4;
const STEPS = 1_500;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Op =
  | { op: 'work' }
  | { op: 'async' }
  | { op: 'crash' }
  | { op: 'asyncCrash' }
  | { op: 'stopSelf' }
  | { op: 'spawn' }
  | { op: 'watch'; target: ActorRef<Op> }
  | { op: 'forward'; target: ActorRef<Op>; message: Op }
  | { op: 'ask'; target: ActorRef<Op> }
  | { op: 'loop'; left: number }
  | { op: 'odd' };
type Msg = Op | Terminated;

const OVERFLOWS: OverflowPolicy[] = ['backpressure', 'drop_newest', 'drop_oldest', 'fail'];
const DECISIONS: (SupervisorDecision | undefined)[] = ['restart', 'stop', 'escalate', 'resume', undefined];

async function race(seed: number): Promise<void> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  const system = new ActorSystem({ systemId: `race${seed}`, defaults: { askTimeoutMs: 200, closeTimeoutMs: 5_000 } });
  await system.start();
  const stopped = new Map<string, number>();
  system.subscribe((record) => {
    if (record.kind === 'event' && record.eventType === 'ActorStopped') {
      const address = (record as PersistedEvent).actorAddress!;
      stopped.set(address, (stopped.get(address) ?? 0) + 1);
    }
  });
  /** Watches not yet answered by a Terminated (a watch after the notice may get another one). */
  const outstanding = new Set<string>();
  const strayNotices: string[] = [];
  let notices = 0;
  const asks: Promise<unknown>[] = [];
  const refs: ActorRef<Op>[] = [];
  const options = (): SpawnOptions => ({
    ...(random() < 0.3 ? { name: `n${refs.length}` } : {}),
    mailbox: { capacity: 1 + Math.floor(random() * 6), overflow: pick(OVERFLOWS), maxWaiting: Math.floor(random() * 8) },
    supervision: {
      maxRestarts: Math.floor(random() * 4),
      ...(random() < 0.5 ? { strategy: pick(['stop', 'restart', 'escalate'] as const) } : {}),
      ...(random() < 0.3 ? { backoff: { minMs: 1, maxMs: 8 } } : {}),
    },
  });
  const remember = (ref: ActorRef<Op>): ActorRef<Op> => (refs.push(ref), ref);
  const track = (promise: Promise<unknown>): void => void asks.push(promise.catch(() => {}));

  class Chaos extends Actor<Msg, string> {
    readonly decides = random() < 0.6;
    override onStart(): void | Promise<void> {
      const roll = random();
      if (roll < 0.04) throw new Error('onStart failed');
      if (roll < 0.08) return Promise.reject(new Error('async onStart failed'));
    }
    async receive(message: Msg): Promise<string> {
      if (isTerminated(message)) {
        const pair = `${this.context.address}>${message.address}`;
        if (!outstanding.delete(pair)) strayNotices.push(pair);
        notices += 1;
        return 'noted';
      }
      switch (message.op) {
        case 'work':
          return 'done';
        case 'async':
          await new Promise((r) => setTimeout(r, random() * 3));
          return 'done later';
        case 'crash':
          throw new Error('crash');
        case 'asyncCrash':
          await null;
          throw new Error('async crash');
        case 'stopSelf':
          await this.context.stopSelf();
          return 'stopping';
        case 'spawn':
          if (this.context.children.length < 3) remember(this.context.spawnChild(Chaos, options()));
          return 'spawned';
        case 'watch':
          outstanding.add(`${this.context.address}>${message.target.address}`);
          this.context.watch(message.target);
          return 'watching';
        case 'forward':
          await message.target.tell(message.message, { timeoutMs: 50 }).catch(() => {});
          return 'forwarded';
        case 'ask':
          await message.target.ask({ op: random() < 0.5 ? 'work' : 'async' }, { timeoutMs: 100 }).catch(() => {});
          return 'asked';
        case 'loop':
          if (message.left > 0) await this.context.self.tell({ op: 'loop', left: message.left - 1 }).catch(() => {});
          return 'looping';
        default:
          return 'odd';
      }
    }
    override onChildFailure(): SupervisorDecision | void | Promise<SupervisorDecision | void> {
      if (!this.decides) return undefined;
      const decision = pick(DECISIONS);
      return random() < 0.5 ? decision : Promise.resolve(decision);
    }
  }

  const lateness: number[] = [];
  const timerArmed = Math.floor(random() * STEPS);
  const randomOp = (): Op => {
    const target = pick(refs);
    const roll = random();
    if (roll < 0.2) return { op: 'work' };
    if (roll < 0.3) return { op: 'async' };
    if (roll < 0.37) return { op: 'crash' };
    if (roll < 0.43) return { op: 'asyncCrash' };
    if (roll < 0.47) return { op: 'stopSelf' };
    if (roll < 0.57) return { op: 'spawn' };
    if (roll < 0.67) return { op: 'watch', target };
    if (roll < 0.77) return { op: 'forward', target, message: { op: random() < 0.5 ? 'work' : 'crash' } };
    if (roll < 0.85) return { op: 'ask', target };
    if (roll < 0.9) return unencodable();
    return { op: 'loop', left: Math.floor(random() * (random() < 0.1 ? 1_000_000 : 2_000)) };
  };
  const unencodable = (): Op => {
    if (random() < 0.5) {
      const revocable = Proxy.revocable({ op: 'odd' }, {});
      revocable.revoke();
      return revocable.proxy as Op;
    }
    return {
      op: 'odd',
      get boom(): never {
        throw new Error('unencodable');
      },
    } as Op;
  };

  remember(system.spawn(Chaos, options()));
  const closeAt = Math.floor(STEPS * (0.6 + random() * 0.4));
  let closing: Promise<void> | null = null;
  for (let step = 0; step < STEPS; step++) {
    if (step === timerArmed) {
      const due = performance.now() + 5;
      setTimeout(() => lateness.push(performance.now() - due), 5);
    }
    if (step === closeAt) closing = system.close();
    const roll = random();
    const target = pick(refs);
    try {
      if (roll < 0.06 && system.state === 'running') remember(system.spawn(Chaos, options()));
      else if (roll < 0.1) void system.stop(target);
      else if (roll < 0.45) track(target.ask(randomOp(), { timeoutMs: 20 + Math.floor(random() * 200) }));
      else void target.tell(randomOp());
    } catch (err) {
      // Only spawn may throw: after close() began.
      expect((err as { code?: string }).code).toBe('PAPYRA_SYSTEM_NOT_RUNNING');
    }
    if (random() < 0.1) await new Promise((r) => (random() < 0.5 ? setImmediate(r) : setTimeout(r, 0)));
  }
  await (closing ?? system.close());

  // Every ask settles (each has a deadline; this bound is far beyond the longest).
  let settled = 0;
  for (const ask of asks) void ask.then(() => (settled += 1));
  await new Promise((r) => setTimeout(r, 400));
  expect(settled).toBe(asks.length);
  // Exactly one ActorStopped per actor; registries empty.
  const snapshot = system.metrics.snapshot();
  expect(snapshot.actorsAlive).toBe(0);
  expect(stopped.size).toBe(snapshot.actorsSpawned);
  expect([...stopped.values()].every((n) => n === 1)).toBe(true);
  expect(system.audit()).toMatchObject({ totalActors: 0, registrySize: 0, registryOrphans: [], registryDead: [] });
  // No Terminated without a watch, none twice for one watch.
  expect(notices).toBeGreaterThan(0);
  expect(strayNotices).toEqual([]);
  // The timer armed mid-run fired within the bound.
  expect(lateness).toHaveLength(1);
  expect(lateness[0]).toBeLessThan(TIMER_BOUND_MS);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
}

describe('seeded random race', () => {
  it('asks settle, one ActorStopped per actor, Terminated only when watched and once, registries empty, timers on time', async () => {
    const seed = process.env['SEED'] !== undefined ? Number(process.env['SEED']) : Math.floor(Math.random() * 2 ** 31);
    console.log(`random race seed: ${seed} (replay with SEED=${seed})`);
    for (let round = 0; round < ROUNDS; round++) await race(seed + round);
  });
});
