import { describe, expect, it } from '@jest/globals';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Actor, ActorSystem, type ActorRef } from '../src/index.js';
import { RecordingBackend } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

class Worker extends Actor<number, number> {
  receive(n: number): number {
    return n * 2;
  }
}

class Watcher extends Actor<ActorRef<any, any> | { type: 'Terminated' }, void> {
  receive(message: ActorRef<any, any> | { type: 'Terminated' }): void {
    if (!('type' in message)) this.context.watch(message);
  }
}

async function heapAfterGc(): Promise<number> {
  await new Promise((r) => setImmediate(r));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('memory', () => {
  it('spawning and stopping 100k actors (persisted, named, watched) leaves memory flat', async () => {
    const backend = new RecordingBackend();
    backend.mode = 'discard';
    const system = new ActorSystem({ persistence: backend });
    await system.start();
    const watcher = system.spawn(Watcher);
    let spawned = 0;
    const round = async (count: number) => {
      for (let batch = 0; batch < count; batch += 1000) {
        const refs = [];
        for (let i = 0; i < 1000; i++) {
          const ref = system.spawn(Worker, i % 2 === 0 ? { name: `w${spawned}` } : {});
          spawned += 1;
          refs.push(ref);
          if (i % 10 === 0) await watcher.tell(ref);
        }
        await Promise.all(refs.slice(0, 10).map((ref, i) => ref.ask(i)));
        for (const ref of refs) await system.stop(ref);
        await Promise.all(refs.map((ref) => ref.terminated));
      }
      await watcher.ask(watcher); // every Terminated before this is delivered
    };
    await round(20_000);
    const after20k = await heapAfterGc();
    await round(80_000);
    const after100k = await heapAfterGc();
    const snapshot = system.metrics.snapshot();
    expect(snapshot.actorsAlive).toBe(1);
    expect(snapshot.actorsSpawned).toBe(100_001);
    const audit = system.audit();
    expect(audit).toMatchObject({ totalActors: 1, registrySize: 0, registryOrphans: [], registryDead: [] });
    await system.close();
    expect(backend.accepted).toBe(2 * 100_001 + 1);
    // Had stopped actors stayed in any registry, 80k more of them would cost tens of MB.
    const growthMb = (after100k - after20k) / 1024 / 1024;
    expect(growthMb).toBeLessThan(8);
  });

  it('idle mailboxes give the buffers of a burst back (issue 14 item 9)', async () => {
    await using system = new ActorSystem();
    await system.start();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    class Held extends Actor<number> {
      async receive(n: number): Promise<void> {
        if (n === -1) await gate;
      }
    }
    const refs = Array.from({ length: 10 }, () => system.spawn(Held, { mailbox: { capacity: 1 << 20 } }));
    const before = await heapAfterGc();
    for (const ref of refs) {
      await ref.tell(-1);
      for (let i = 0; i < 200_000; i++) void ref.tell(i);
    }
    release();
    // A liveness bound, not a timing one: 2M turns on a loaded machine.
    await Promise.all(refs.map((ref) => ref.ask(0, { timeoutMs: 120_000 })));
    expect(system.metrics.snapshot().mailboxDepth).toBe(0);
    // Ten buffers of 256k slots (2 MB each) would stay without the trim.
    const growthMb = ((await heapAfterGc()) - before) / 1024 / 1024;
    expect(growthMb).toBeLessThan(6);
  });
});
