import { describe, expect, it } from '@jest/globals';
import { Actor, ActorSystem, type ActorRef } from '../src/index.js';

// Issue 14 item 1: async turns used to continue on promise jobs only, so a busy pair of actors
// (or one feeding itself) starved every timer. Each test stops on its own after a bounded number of
// turns, so on a starving runtime it fails on an assertion instead of hanging the suite.

/** Resolves, when a 1 ms timer armed now fires, with how many turns had run by then. */
function timerProbe(turns: () => number): { fired: Promise<number> } {
  return { fired: new Promise((resolve) => setTimeout(() => resolve(turns()), 1)) };
}

describe('fairness: turns never starve the event loop', () => {
  it('an async actor feeding itself lets a timer fire and close() run mid-loop', async () => {
    const LIMIT = 2_000_000;
    let turns = 0;
    const system = new ActorSystem({ defaults: { closeTimeoutMs: 10_000 } });
    await system.start();
    class Loop extends Actor<number> {
      override async receive(n: number): Promise<void> {
        turns = n;
        if (n < LIMIT) await this.context.self.tell(n + 1);
      }
    }
    const ref = system.spawn(Loop);
    const probe = timerProbe(() => turns);
    await ref.tell(0);
    const closedAt = new Promise<number>((resolve) => setTimeout(() => void system.close().then(() => resolve(turns)), 20));
    expect(await probe.fired).toBeLessThan(LIMIT);
    // close() ran from a timer while the loop was going: the loop ended by the stop, not by its limit.
    expect(await closedAt).toBeLessThan(LIMIT);
    expect(ref.alive).toBe(false);
  });

  it('two async actors playing ping-pong with `await tell` (the benchmark pattern) let timers run', async () => {
    const ROUNDS = 200_000;
    let exchanged = 0;
    await using system = new ActorSystem();
    await system.start();
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    type Ball = { n: number; from: ActorRef<Ball> };
    class Player extends Actor<Ball> {
      override async receive(ball: Ball): Promise<void> {
        exchanged = ball.n;
        if (ball.n >= ROUNDS) done();
        else await ball.from.tell({ n: ball.n + 1, from: this.context.self });
      }
    }
    const a = system.spawn(Player);
    const b = system.spawn(Player);
    const probe = timerProbe(() => exchanged);
    await a.tell({ n: 0, from: b });
    expect(await probe.fired).toBeLessThan(ROUNDS);
    await finished;
  });

  it('an ask deadline fires on time while other actors are busy', async () => {
    const LIMIT = 1_000_000;
    let turns = 0;
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 100 } });
    await system.start();
    class Loop extends Actor<number> {
      override async receive(n: number): Promise<void> {
        turns = n;
        if (n < LIMIT) await this.context.self.tell(n + 1);
      }
    }
    class Silent extends Actor<string> {
      override receive(): Promise<void> {
        return new Promise(() => {});
      }
    }
    const loop = system.spawn(Loop);
    const silent = system.spawn(Silent);
    await silent.tell('block');
    const asked = silent.ask('never answered', { timeoutMs: 5 }).then(
      () => ({ code: 'answered', turns }),
      (e: { code: string }) => ({ code: e.code, turns }),
    );
    await loop.tell(0);
    const outcome = await asked;
    expect(outcome.code).toBe('PAPYRA_ASK_TIMEOUT');
    expect(outcome.turns).toBeLessThan(LIMIT);
    await system.stop(loop);
  });
});
