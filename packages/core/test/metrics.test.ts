import { describe, expect, it } from '@jest/globals';
import type { PersistedRecord } from '@papyra/persistence-contract';
import { Actor, ActorSystem } from '../src/index.js';
import { RecordingBackend, deferred, rejection } from './helpers.js';

class Doubler extends Actor<number, number> {
  receive(n: number): number {
    if (n < 0) throw new RangeError('negative');
    return n * 2;
  }
}

describe('runtime metrics and record subscription', () => {
  it('counts actors, messages, mailbox depth, crashes, restarts and dead letters', async () => {
    let tick = 0;
    // Every clock read advances 1 ms, so each measured turn lasts exactly 1 ms.
    await using system = new ActorSystem({ clock: { monotonic: () => tick++ } });
    await system.start();
    const ref = system.spawn(Doubler, { name: 'd' });
    for (let i = 0; i < 64; i++) await ref.tell(i);
    await ref.ask(1);
    await rejection(ref.ask(-1));
    const gone = system.spawn(Doubler);
    await system.stop(gone);
    await gone.terminated;
    await rejection(gone.tell(1));

    const gate = deferred();
    class Blocked extends Actor<number, void> {
      async receive(): Promise<void> {
        await gate.promise;
      }
    }
    const blocked = system.spawn(Blocked);
    for (let i = 0; i < 5; i++) await blocked.tell(i);
    await new Promise((r) => setImmediate(r));
    const snapshot = system.metrics.snapshot();
    expect(snapshot).toMatchObject({
      actorsAlive: 2,
      actorsSpawned: 3,
      actorsStopped: 1,
      mailboxDepth: 4,
      messagesProcessed: 65,
      crashes: 1,
      restarts: 1,
      deadLetters: 1,
      meanProcessingMs: 1,
      processingTimeMs: 65,
    });
    expect(snapshot.sampledTurns).toBeGreaterThan(0);
    gate.resolve();
  });

  it('subscribe() sees every record as it is created, until unsubscribed', async () => {
    await using system = new ActorSystem({ systemId: 's' });
    await system.start();
    const seen: PersistedRecord[] = [];
    const unsubscribe = system.subscribe((r) => void seen.push(r));
    const ref = system.spawn(Doubler);
    await ref.ask(2);
    system.audit();
    unsubscribe();
    system.audit();
    expect(seen.map((r) => (r.kind === 'event' ? r.eventType : r.kind))).toEqual(['ActorStarted', 'audit']);
  });

  it('exposes readiness signals: mailboxMaxFill, persistence.oldestPendingAgeMs, startupCheck', async () => {
    let now = 1_000;
    const backend = new RecordingBackend();
    const system = new ActorSystem({ persistence: backend, clock: { monotonic: () => now }, defaults: { persistence: { flushTimeoutMs: 20 } } });
    expect(system.startupCheck).toBeNull();
    expect(system.metrics.snapshot().mailboxMaxFill).toBe(0);
    await system.start();
    expect(system.startupCheck).toBeNull(); // no `startup` option: no check ran

    const gate = deferred();
    class Slow extends Actor<number, void> {
      async receive(): Promise<void> {
        await gate.promise;
      }
    }
    const slow = system.spawn(Slow, { mailbox: { capacity: 4 } });
    for (let i = 0; i < 3; i++) await slow.tell(i);
    await new Promise((r) => setImmediate(r));
    // One message in the turn, two of four slots taken.
    expect(system.metrics.snapshot().mailboxMaxFill).toBe(0.5);

    expect(system.metrics.snapshot().persistence?.oldestPendingAgeMs).toBeNull();
    backend.mode = 'hang';
    system.audit();
    now += 250;
    system.audit();
    now += 100;
    const pending = system.metrics.snapshot().persistence!;
    expect(pending.pending).toBe(2);
    expect(pending.oldestPendingAgeMs).toBe(350);
    gate.resolve();
    await system.close();

    const checked = new ActorSystem({ persistence: new RecordingBackend(), startup: { mode: 'scan_only' } });
    const result = await checked.start();
    expect(result).not.toBeNull();
    expect(checked.startupCheck).toBe(result);
    await checked.close();
  });
});
