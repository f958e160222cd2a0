import { describe, expect, it } from '@jest/globals';
import type { PersistedDeadLetter } from '@papyra/persistence-contract';
import { Actor, ActorSystem, type OverflowPolicy } from '../src/index.js';
import { deferred, rejection } from './helpers.js';

/** Fills a capacity-2 mailbox behind a blocked turn, then sends one more. */
async function overflow(policy: OverflowPolicy) {
  const deadLetters: PersistedDeadLetter[] = [];
  const system = new ActorSystem({ hooks: { onDeadLetter: (d) => void deadLetters.push(d) } });
  await system.start();
  const gate = deferred();
  const processed: string[] = [];
  class Gated extends Actor<string, string> {
    async receive(message: string): Promise<string> {
      await gate.promise;
      processed.push(message);
      return message;
    }
  }
  const ref = system.spawn(Gated, { mailbox: { capacity: 2, overflow: policy } });
  await ref.tell('busy');
  await new Promise((r) => setImmediate(r)); // 'busy' is now being processed
  await ref.tell('q1');
  const q2 = ref.ask('q2');
  q2.catch(() => {});
  const extra = ref.tell('extra').then(
    () => 'resolved',
    (e: { code: string }) => e.code,
  );
  return { system, ref, gate, processed, deadLetters, q2, extra };
}

describe('bounded mailboxes', () => {
  it('backpressure (the default): tell waits for room, nothing is lost', async () => {
    const { system, gate, processed, deadLetters, extra } = await overflow('backpressure');
    let settled = false;
    void extra.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    expect(system.metrics.snapshot().mailboxDepth).toBe(3);
    gate.resolve();
    expect(await extra).toBe('resolved');
    await system.close();
    expect(processed).toEqual(['busy', 'q1', 'q2', 'extra']);
    expect(deadLetters).toEqual([]);
  });

  it('drop_newest: the new message becomes a dead letter, tell resolves', async () => {
    const { system, gate, processed, deadLetters, extra } = await overflow('drop_newest');
    expect(await extra).toBe('resolved');
    gate.resolve();
    await system.close();
    expect(processed).toEqual(['busy', 'q1', 'q2']);
    expect(deadLetters.map((d) => [d.payload, d.reason])).toEqual([['extra', 'mailbox full (drop_newest)']]);
  });

  it('drop_oldest: the oldest queued message becomes a dead letter (its ask rejects PAPYRA_MAILBOX_FULL)', async () => {
    const { system, ref, gate, processed, deadLetters, q2, extra } = await overflow('drop_oldest');
    expect(await extra).toBe('resolved');
    const dropAsk = ref.tell('extra2'); // evicts the ask q2
    await dropAsk;
    expect((await rejection(q2)).code).toBe('PAPYRA_MAILBOX_FULL');
    gate.resolve();
    await system.close();
    expect(processed).toEqual(['busy', 'extra', 'extra2']);
    expect(deadLetters.map((d) => [d.payload, d.expectsReply, d.reason])).toEqual([
      ['q1', false, 'mailbox full (drop_oldest)'],
      ['q2', true, 'mailbox full (drop_oldest)'],
    ]);
  });

  it('fail: tell rejects PAPYRA_MAILBOX_FULL and the message becomes a dead letter', async () => {
    const { system, ref, gate, processed, deadLetters, extra } = await overflow('fail');
    expect(await extra).toBe('PAPYRA_MAILBOX_FULL');
    expect((await rejection(ref.ask('extra-ask'))).code).toBe('PAPYRA_MAILBOX_FULL');
    gate.resolve();
    await system.close();
    expect(processed).toEqual(['busy', 'q1', 'q2']);
    expect(deadLetters.map((d) => [d.payload, d.expectsReply, d.messageType])).toEqual([
      ['extra', false, 'string'],
      ['extra-ask', true, 'string'],
    ]);
  });

  it('records the message type from a `type` field, else the class name', async () => {
    const deadLetters: PersistedDeadLetter[] = [];
    const system = new ActorSystem({ hooks: { onDeadLetter: (d) => void deadLetters.push(d) } });
    await system.start();
    class Nothing extends Actor<unknown, void> {
      receive(): void {}
    }
    class Greeting {
      constructor(readonly text: string) {}
    }
    const ref = system.spawn(Nothing);
    await system.stop(ref);
    await ref.terminated;
    for (const message of [{ type: 'deposit', amount: 5 }, new Greeting('grüße ✓'), 42]) await rejection(ref.tell(message));
    await system.close();
    expect(deadLetters.map((d) => d.messageType)).toEqual(['deposit', 'Greeting', 'number']);
    expect(deadLetters[0]!.payload).toEqual({ type: 'deposit', amount: 5 });
    expect(typeof deadLetters[1]!.payload).toBe('string'); // a class instance is described, never dropped
  });
});
