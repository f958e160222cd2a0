// Appends events numbered 0, 1, 2, … to the set at argv[2] (maxBytes argv[3], maxFiles argv[4]) as
// fast as it can, so the set rotates continuously; prints "ready" after the first batch. Runs until killed.
import { writeSync } from 'node:fs';
import { createEvent } from '@papyra/persistence-contract';
import { RotatingBackend } from '../../dist/index.js';

const [path, maxBytes, maxFiles] = process.argv.slice(2);
const backend = new RotatingBackend({ path, maxBytes: Number(maxBytes), maxFiles: Number(maxFiles), fsync: 'never' });
let n = 0;
for (let batch = 0; ; batch++) {
  const writes = [];
  for (let i = 0; i < 5; i++, n++)
    writes.push(backend.recordEvent(createEvent({ systemId: 'child', actorAddress: `child:${n}`, eventType: 'ActorStarted', payload: { n } })));
  await Promise.all(writes);
  if (batch === 0) writeSync(1, 'ready\n');
}
