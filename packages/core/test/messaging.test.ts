import { describe, expect, it } from '@jest/globals';
import { Actor, ActorSystem } from '../src/index.js';
import { deferred, rejection, until } from './helpers.js';

class Recorder extends Actor<number, number[]> {
  seen: number[] = [];
  async receive(n: number): Promise<number[]> {
    // Alternate sync-looking and genuinely async turns: order must hold across both.
    if (n % 3 === 0) await new Promise((r) => setTimeout(r, 0));
    if (n >= 0) this.seen.push(n);
    return this.seen;
  }
}

class Echo extends Actor<string, string> {
  receive(message: string): string {
    return `echo:${message}`;
  }
}

describe('messaging', () => {
  it('handles one actor’s messages one at a time, in order', async () => {
    await using system = new ActorSystem();
    await system.start();
    let inFlight = 0;
    let maxInFlight = 0;
    class Overlap extends Actor<number, void> {
      async receive(): Promise<void> {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight -= 1;
      }
    }
    const ref = system.spawn(Recorder);
    for (let i = 0; i < 500; i++) await ref.tell(i);
    const seen = await ref.ask(-1);
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => i));
    const overlap = system.spawn(Overlap);
    await Promise.all(Array.from({ length: 50 }, () => overlap.tell(0)));
    await overlap.ask(0);
    expect(maxInFlight).toBe(1);
  });

  it('ask returns what receive returned', async () => {
    await using system = new ActorSystem();
    await system.start();
    const echo = system.spawn(Echo);
    await expect(echo.ask('hi')).resolves.toBe('echo:hi');
  });

  it('ask rejects PAPYRA_ASK_TIMEOUT when no reply comes in time', async () => {
    await using system = new ActorSystem({ defaults: { closeTimeoutMs: 200 } });
    await system.start();
    const never = deferred();
    class Slow extends Actor<string, void> {
      async receive(): Promise<void> {
        await never.promise;
      }
    }
    const slow = system.spawn(Slow);
    expect((await rejection(slow.ask('x', { timeoutMs: 20 }))).code).toBe('PAPYRA_ASK_TIMEOUT');
    expect(system.metrics.snapshot().askTimeouts).toBe(1);
    never.resolve();
  });

  it('ask times out while waiting for room in a full backpressured mailbox, and the message becomes a dead letter', async () => {
    const deadLetters: string[] = [];
    await using system = new ActorSystem({ hooks: { onDeadLetter: (d) => void deadLetters.push(String(d.payload)) } });
    await system.start();
    const gate = deferred();
    class Blocked extends Actor<string, string> {
      async receive(message: string): Promise<string> {
        await gate.promise;
        return message;
      }
    }
    const ref = system.spawn(Blocked, { mailbox: { capacity: 1, overflow: 'backpressure' } });
    await ref.tell('first'); // being processed, blocked
    await new Promise((r) => setImmediate(r));
    await ref.tell('second'); // fills the mailbox
    const error = await rejection(ref.ask('third', { timeoutMs: 20 }));
    expect(error.code).toBe('PAPYRA_ASK_TIMEOUT');
    gate.resolve();
    await expect(ref.ask('fourth')).resolves.toBe('fourth');
    expect(deadLetters).toEqual(['third']);
  });

  it('rejects an invalid ask timeout with PAPYRA_INVALID_ARGUMENT', async () => {
    await using system = new ActorSystem();
    await system.start();
    const echo = system.spawn(Echo);
    expect((await rejection(echo.ask('x', { timeoutMs: 0 }))).code).toBe('PAPYRA_INVALID_ARGUMENT');
  });

  it('spawn throws PAPYRA_SYSTEM_NOT_RUNNING before start and after close begins', async () => {
    const system = new ActorSystem();
    expect(() => system.spawn(Echo)).toThrow(expect.objectContaining({ code: 'PAPYRA_SYSTEM_NOT_RUNNING' }));
    await system.start();
    system.spawn(Echo);
    const closing = system.close();
    expect(() => system.spawn(Echo)).toThrow(expect.objectContaining({ code: 'PAPYRA_SYSTEM_NOT_RUNNING' }));
    await closing;
    expect((await rejection(system.start())).code).toBe('PAPYRA_SYSTEM_NOT_RUNNING');
  });

  it('start and close are idempotent, and await using closes the system', async () => {
    let ref;
    {
      await using system = new ActorSystem();
      const a = system.start();
      const b = system.start();
      await Promise.all([a, b]);
      expect(system.state).toBe('running');
      ref = system.spawn(Echo);
      await Promise.all([system.close(), system.close()]);
      expect(system.state).toBe('closed');
    }
    expect(ref.alive).toBe(false);
    {
      let outer: ActorSystem;
      {
        await using system = new ActorSystem();
        outer = system;
        await system.start();
        ref = system.spawn(Echo);
      }
      expect(outer.state).toBe('closed');
      expect(ref.alive).toBe(false);
    }
  });

  it('gives addresses "<systemId>:<n>" from 1 and finds actors by address and by name', async () => {
    await using system = new ActorSystem({ systemId: 'sys' });
    await system.start();
    const a = system.spawn(Echo);
    const b = system.spawn(Echo, { name: 'bee' });
    expect(a.address).toBe('sys:1');
    expect(b.address).toBe('sys:2');
    expect(b.name).toBe('bee');
    expect(system.refFor('sys:1')).toBe(a);
    expect(system.refForName('bee')).toBe(b);
    expect(() => system.refFor('sys:99')).toThrow(expect.objectContaining({ code: 'PAPYRA_ACTOR_NOT_FOUND' }));
    expect(() => system.refFor('other:1')).toThrow(expect.objectContaining({ code: 'PAPYRA_ACTOR_NOT_FOUND' }));
    expect(() => system.refFor('nonsense')).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    expect(() => system.refForName('nobody')).toThrow(expect.objectContaining({ code: 'PAPYRA_ACTOR_NOT_FOUND' }));
    expect(() => system.spawn(Echo, { name: 'bee' })).toThrow(expect.objectContaining({ code: 'PAPYRA_NAME_TAKEN' }));
    await system.stop(b);
    await b.terminated;
    expect(() => system.refForName('bee')).toThrow(expect.objectContaining({ code: 'PAPYRA_ACTOR_NOT_FOUND' }));
    const again = system.spawn(Echo, { name: 'bee' });
    expect(again.address).toBe('sys:3');
    expect(JSON.stringify({ to: again })).toBe('{"to":"sys:3"}');
  });

  it('accepts a factory function as well as a class, and spawns children with a parent', async () => {
    await using system = new ActorSystem();
    await system.start();
    class Greeter extends Actor<string, string> {
      constructor(readonly greeting: string) {
        super();
      }
      receive(name: string): string {
        return `${this.greeting}, ${name}`;
      }
    }
    class Parent extends Actor<'spawn', string> {
      receive(): Promise<string> {
        const child = this.context.spawnChild(() => new Greeter('hej'));
        expect(this.context.children).toContain(child);
        return child.ask('kid');
      }
    }
    const parent = system.spawn(Parent);
    await expect(parent.ask('spawn')).resolves.toBe('hej, kid');
    const child = system.spawn(() => new Greeter('hi'), { parent });
    await expect(child.ask('you')).resolves.toBe('hi, you');
  });

  it('rejects bad spawn options with PAPYRA_INVALID_ARGUMENT', async () => {
    await using system = new ActorSystem();
    await system.start();
    expect(() => system.spawn(Echo, { mailbox: { capacity: 0 } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    expect(() => system.spawn(Echo, { mailbox: { overflow: 'explode' as never } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    expect(() => system.spawn(Echo, { name: '' })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
    expect(() => new ActorSystem({ systemId: 'a:b' })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });

  it('a fire-and-forget tell that fails raises no unhandled rejection; an awaiting caller still sees the error', async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', listener);
    try {
      await using system = new ActorSystem({ defaults: { askTimeoutMs: 1_000 } });
      await system.start();
      const gate = deferred();
      class Blocked extends Actor<string, void> {
        async receive(): Promise<void> {
          await gate.promise;
        }
      }
      const full = system.spawn(Blocked, { mailbox: { capacity: 1, overflow: 'fail' } });
      const waiting = system.spawn(Blocked, { mailbox: { capacity: 1, overflow: 'backpressure' } });
      await full.tell('taken');
      await waiting.tell('taken');
      await until(() => system.metrics.snapshot().mailboxDepth === 0);
      await full.tell('queued');
      await waiting.tell('queued');
      void full.tell('overflows'); // PAPYRA_MAILBOX_FULL
      void waiting.tell('waits for room'); // PAPYRA_ACTOR_STOPPED when the stop begins
      await system.stop(waiting);
      const stopped = system.spawn(Echo);
      await system.stop(stopped);
      await stopped.terminated;
      void stopped.tell('to a stopped actor'); // PAPYRA_ACTOR_STOPPED
      expect((await rejection(full.tell('awaited'))).code).toBe('PAPYRA_MAILBOX_FULL');
      expect((await rejection(stopped.tell('awaited'))).code).toBe('PAPYRA_ACTOR_STOPPED');
      gate.resolve();
      await new Promise((r) => setTimeout(r, 20)); // unhandledRejection fires after the microtask queue drains
      expect(system.metrics.snapshot().deadLetters).toBe(5);
    } finally {
      process.off('unhandledRejection', listener);
    }
    expect(unhandled).toEqual([]);
  });
});
