// Spawns and stops N actors (persisting their lifecycle to an NDJSON file) and reports the heap
// after a fifth of them and at the end, each after a full GC: `node --expose-gc actors-memory.js N`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { Actor, ActorSystem } from '@papyra/core';

const total = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'papyra-bench-actors-'));
const backend = new NdjsonBackend({ path: join(dir, 'actors.ndjson'), fsync: 'never' });
const system = new ActorSystem({ systemId: 'bench', persistence: backend });
await system.start();

class Idle extends Actor<string> {
  override async receive(): Promise<void> {}
}

const heapMb = async (): Promise<number> => {
  await backend.flush();
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed / 2 ** 20;
};

let heapAtFifthMb = 0;
for (let spawned = 0; spawned < total;) {
  const batch = Array.from({ length: Math.min(1000, total - spawned) }, () => system.spawn(Idle));
  await Promise.all(batch.map((ref) => ref.tell('hello')));
  await Promise.all(batch.map((ref) => system.stop(ref)));
  spawned += batch.length;
  if (heapAtFifthMb === 0 && spawned >= total / 5) heapAtFifthMb = await heapMb();
}
const heapAtEndMb = await heapMb();
await system.close();
await backend.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(JSON.stringify({ heapAtFifthMb, heapAtEndMb }));
