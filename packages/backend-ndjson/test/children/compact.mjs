// Compacts a store with maxRecords = argv[3]; prints "start" first and "done" at the end.
import { writeSync } from 'node:fs';
import { NdjsonBackend } from '../../dist/index.js';

const backend = new NdjsonBackend({ path: process.argv[2], retention: { maxRecords: Number(process.argv[3]) } });
writeSync(1, 'start\n');
await backend.compact();
await backend.close();
writeSync(1, 'done\n');
