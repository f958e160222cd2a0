// Writes one record (which takes the write lock), says "ready", then holds the file open until killed.
import { writeSync } from 'node:fs';
import { createEvent } from '@papyra/persistence-contract';
import { NdjsonBackend } from '../../dist/index.js';

const backend = new NdjsonBackend({ path: process.argv[2], fsync: 'always' });
await backend.recordEvent(createEvent({ systemId: 'holder', actorAddress: 'holder:1', eventType: 'ActorStarted' }));
writeSync(1, 'ready\n');
setInterval(() => {}, 1 << 30);
