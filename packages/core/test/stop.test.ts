import { describe, expect, it } from '@jest/globals';
import type { PersistedDeadLetter } from '@papyra/persistence-contract';
import { Actor, ActorSystem, Terminated, type ActorRef } from '../src/index.js';
import { deferred, rejection, until } from './helpers.js';

class Sink extends Actor<string, string> {
  constructor(
    readonly log: string[],
    readonly gate?: Promise<void>,
  ) {
    super();
  }
  async receive(message: string): Promise<string> {
    if (this.gate) await this.gate;
    this.log.push(message);
    return message;
  }
  override onStop(): void {
    this.log.push(`stop:${this.context.address}`);
  }
}

describe('stopping', () => {
  it('stops gracefully and children first: queued messages processed, later ones and pending asks dead-lettered', async () => {
    const deadLetters: PersistedDeadLetter[] = [];
    const stoppedOrder: string[] = [];
    await using system = new ActorSystem({
      hooks: {
        onDeadLetter: (d) => void deadLetters.push(d),
        onEvent: (e) => void (e.eventType === 'ActorStopped' && stoppedOrder.push(e.actorAddress!)),
      },
    });
    await system.start();
    const log: string[] = [];
    const gate = deferred();
    const parent = system.spawn(() => new Sink(log, gate.promise));
    const child = system.spawn(() => new Sink(log), { parent });
    const grandchild = system.spawn(() => new Sink(log), { parent: child });
    await parent.tell('a'); // in progress, blocked on the gate
    await parent.tell('b');
    const queuedAsk = parent.ask('c');
    await system.stop(parent);
    expect(parent.alive).toBe(true);
    // After the stop request: a dead letter and PAPYRA_ACTOR_STOPPED, for tell and ask alike.
    expect((await rejection(parent.tell('late'))).code).toBe('PAPYRA_ACTOR_STOPPED');
    expect((await rejection(parent.ask('late-ask'))).code).toBe('PAPYRA_ACTOR_STOPPED');
    gate.resolve();
    await expect(queuedAsk).resolves.toBe('c');
    await parent.terminated;
    expect(log).toEqual(['a', 'b', 'c', `stop:${grandchild.address}`, `stop:${child.address}`, `stop:${parent.address}`]);
    expect(stoppedOrder).toEqual([grandchild.address, child.address, parent.address]);
    expect(deadLetters.map((d) => [d.payload, d.expectsReply, d.target])).toEqual([
      ['late', false, parent.address],
      ['late-ask', true, parent.address],
    ]);
    expect(system.metrics.snapshot()).toMatchObject({ actorsAlive: 0, deadLetters: 2 });
  });

  it('turns messages still queued when an actor ends into dead letters and rejects their asks', async () => {
    const deadLetters: PersistedDeadLetter[] = [];
    await using system = new ActorSystem({ hooks: { onDeadLetter: (d) => void deadLetters.push(d) } });
    await system.start();
    const gate = deferred();
    class Fragile extends Actor<string, string> {
      async receive(message: string): Promise<string> {
        await gate.promise;
        if (message === 'crash') throw new Error('broken');
        return message;
      }
    }
    const ref = system.spawn(Fragile); // unnamed: stops on failure
    const crash = ref.ask('crash');
    const queued = ref.ask('queued');
    await ref.tell('queued-tell');
    gate.resolve();
    expect((await rejection(crash)).message).toBe('broken');
    expect((await rejection(queued)).code).toBe('PAPYRA_ACTOR_STOPPED');
    await ref.terminated;
    expect(deadLetters.map((d) => [d.payload, d.expectsReply, d.reason])).toEqual([
      ['queued', true, 'actor stopped before processing'],
      ['queued-tell', false, 'actor stopped before processing'],
    ]);
  });

  it('stopSelf() with a full mailbox and a blocked sender does not deadlock', async () => {
    await using system = new ActorSystem();
    await system.start();
    const processed: number[] = [];
    class Quitter extends Actor<number, void> {
      async receive(n: number): Promise<void> {
        processed.push(n);
        if (n === 0) {
          await new Promise((r) => setTimeout(r, 5));
          await this.context.stopSelf();
        }
      }
    }
    const ref = system.spawn(Quitter, { mailbox: { capacity: 2, overflow: 'backpressure' } });
    const sends = [0, 1, 2, 3, 4].map((n) =>
      ref.tell(n).then(
        () => 'ok',
        (e: { code: string }) => e.code,
      ),
    );
    await ref.terminated;
    // 0 taken, 1 and 2 queued and processed; 3 and 4 were waiting for room when the stop began.
    expect(await Promise.all(sends)).toEqual(['ok', 'ok', 'ok', 'PAPYRA_ACTOR_STOPPED', 'PAPYRA_ACTOR_STOPPED']);
    expect(processed).toEqual([0, 1, 2]);
  });

  it('death watch delivers exactly one Terminated per watched stop, also for an actor already dead', async () => {
    await using system = new ActorSystem();
    await system.start();
    const notices: string[] = [];
    class Watcher extends Actor<ActorRef<any, any> | Terminated | 'unwatch', void> {
      receive(message: ActorRef<any, any> | Terminated | 'unwatch'): void {
        if (message instanceof Terminated) {
          expect(message.ref.address).toBe(message.address);
          notices.push(message.address);
        } else if (message !== 'unwatch') {
          this.context.watch(message);
          this.context.watch(message); // twice: still one notice
        }
      }
    }
    const watcher = system.spawn(Watcher, { mailbox: { capacity: 1 } });
    const target = system.spawn(() => new Sink([]));
    await watcher.tell(target);
    await watcher.ask('unwatch'); // the watch is in place
    await system.stop(target);
    await target.terminated;
    await until(() => notices.length === 1);

    const dead = system.spawn(() => new Sink([]));
    await system.stop(dead);
    await dead.terminated;
    await watcher.tell(dead);
    await until(() => notices.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(notices).toEqual([target.address, dead.address]);
  });

  it('unwatch cancels the notice', async () => {
    await using system = new ActorSystem();
    await system.start();
    const notices: string[] = [];
    class Watcher extends Actor<{ watch: boolean; ref: ActorRef<any, any> } | Terminated, void> {
      receive(message: { watch: boolean; ref: ActorRef<any, any> } | Terminated): void {
        if (message instanceof Terminated) notices.push(message.address);
        else if (message.watch) this.context.watch(message.ref);
        else this.context.unwatch(message.ref);
      }
    }
    const watcher = system.spawn(Watcher);
    const a = system.spawn(() => new Sink([]));
    const b = system.spawn(() => new Sink([]));
    await watcher.tell({ watch: true, ref: a });
    await watcher.tell({ watch: true, ref: b });
    await watcher.ask({ watch: false, ref: a });
    await Promise.all([system.stop(a), system.stop(b)]);
    await Promise.all([a.terminated, b.terminated]);
    await until(() => notices.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(notices).toEqual([b.address]);
  });

  it('close() forces actors that never finish their turn, after closeTimeoutMs', async () => {
    const system = new ActorSystem({ defaults: { closeTimeoutMs: 50 } });
    await system.start();
    class Stuck extends Actor<string, void> {
      receive(): Promise<void> {
        return new Promise(() => {});
      }
    }
    const ref = system.spawn(Stuck);
    await ref.tell('hang');
    const queued = ref.ask('queued');
    await system.close();
    expect(ref.alive).toBe(false);
    expect((await rejection(queued)).code).toBe('PAPYRA_ACTOR_STOPPED');
  });

  it('a stop during a restart backoff cuts the backoff short: the restart happens, queued messages are processed', async () => {
    const events: string[] = [];
    await using system = new ActorSystem({ hooks: { onEvent: (e) => void events.push(e.eventType) } });
    await system.start();
    class Counter extends Actor<'crash' | 'get', number> {
      count = 0;
      receive(message: 'crash' | 'get'): number {
        if (message === 'crash') throw new Error('boom');
        return this.count;
      }
    }
    const ref = system.spawn(Counter, { name: 'c', supervision: { backoff: { minMs: 600_000, maxMs: 600_000 } } });
    const crash = rejection(ref.ask('crash', { timeoutMs: 600_000 }));
    const queued = ref.ask('get', { timeoutMs: 600_000 });
    await until(() => system.metrics.snapshot().actorsRestarting === 1);
    await system.stop(ref);
    await ref.terminated; // without the cut this waits ten minutes
    expect((await crash).message).toBe('boom');
    await expect(queued).resolves.toBe(0);
    expect(events).toEqual(['ActorStarted', 'ActorCrashed', 'ActorRestarted', 'ActorStopped']);
  });

  it('close() forcing an actor whose restart never completes rejects the ask that crashed it', async () => {
    const system = new ActorSystem({ defaults: { closeTimeoutMs: 50, askTimeoutMs: 600_000 } });
    await system.start();
    let built = 0;
    class Phoenix extends Actor<string, string> {
      override onStart(): Promise<void> | void {
        if (++built === 2) return new Promise(() => {}); // the restarted instance never finishes starting
      }
      receive(message: string): string {
        throw new Error(message);
      }
    }
    const ref = system.spawn(Phoenix, { name: 'phoenix' });
    const crash = rejection(ref.ask('boom'));
    await until(() => built === 2);
    await system.close();
    expect((await crash).code).toBe('PAPYRA_ACTOR_STOPPED');
    expect(ref.alive).toBe(false);
  });
});
