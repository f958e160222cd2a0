// Writes events with fsync 'always' until killed; prints the id of every write whose promise resolved.
import { writeSync } from 'node:fs';
import { createEvent } from '@papyra/persistence-contract';
import { NdjsonBackend } from '../../dist/index.js';

const backend = new NdjsonBackend({ path: process.argv[2], fsync: 'always' });
let n = 0;
async function worker() {
  for (;;) {
    const event = createEvent({ systemId: 'crash', actorAddress: `crash:${n}`, eventType: 'ActorStarted', payload: { n: n++, pad: 'p'.repeat(n % 300) } });
    await backend.recordEvent(event);
    // Synchronous, so a reported id has left this process before the next write starts.
    writeSync(1, `${event.id}\n`);
  }
}
for (let i = 0; i < 16; i++) void worker();
