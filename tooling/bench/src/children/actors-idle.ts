// Bytes of heap per idle actor: `node --expose-gc actors-idle.js papyra|nact N` spawns N actors that
// have started and hold no messages, and reports (heap after − heap before) / N, each after a full GC.
import nact from 'nact';
import { Actor, ActorSystem } from '@papyra/core';

const [mode, count] = process.argv.slice(2) as ['papyra' | 'nact', string];
const n = Number(count);

const heap = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
};

class Idle extends Actor<string> {
  override receive(): void {}
}

let before: number;
let after: number;
const keep: unknown[] = [];
if (mode === 'papyra') {
  const system = new ActorSystem({ systemId: 'bench' });
  await system.start();
  before = await heap();
  for (let i = 0; i < n; i++) keep.push(system.spawn(Idle));
  after = await heap();
  const alive = system.metrics.snapshot().actorsAlive;
  if (alive !== n) throw new Error(`expected ${n} actors alive, counted ${alive}`);
  await system.close();
} else {
  const system = nact.start();
  before = await heap();
  // Named: nact's random anonymous names collide among tens of thousands of actors.
  for (let i = 0; i < n; i++) keep.push(nact.spawnStateless(system, () => {}, `idle-${i}`));
  after = await heap();
  nact.stop(system);
}
process.stdout.write(JSON.stringify({ bytesPerActor: (after - before) / n, actors: keep.length }));
