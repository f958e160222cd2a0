// Compacts the set at argv[2] (maxBytes argv[3], maxFiles argv[4]) with maxRecords argv[5]; prints "start", then "done".
import { writeSync } from 'node:fs';
import { RotatingBackend } from '../../dist/index.js';

const [path, maxBytes, maxFiles, maxRecords] = process.argv.slice(2);
const backend = new RotatingBackend({
  path,
  maxBytes: Number(maxBytes),
  maxFiles: Number(maxFiles),
  fsync: 'always',
  retention: { maxRecords: Number(maxRecords) },
});
writeSync(1, 'start\n');
await backend.compact();
await backend.close();
writeSync(1, 'done\n');
