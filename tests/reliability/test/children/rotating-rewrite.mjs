// One recovery or compaction of a rotating set: argv = path, maxBytes, maxFiles, operation
// (repair | quarantine:<dir> | compact:<retention json>). Prints "start", then "done" or "error <code>".
import { writeSync } from 'node:fs';
import { RotatingBackend } from '@papyra/backend-rotating';

const [path, maxBytes, maxFiles, operation] = process.argv.slice(2);
const colon = operation.indexOf(':');
const op = colon < 0 ? operation : operation.slice(0, colon);
const arg = colon < 0 ? '' : operation.slice(colon + 1);
const retention = op === 'compact' ? JSON.parse(arg) : {};
const backend = new RotatingBackend({ path, maxBytes: Number(maxBytes), maxFiles: Number(maxFiles), retention });
writeSync(1, 'start\n');
try {
  if (op === 'compact') await backend.compact();
  else if (op === 'quarantine') await backend.recover({ mode: 'quarantine', quarantineDir: arg });
  else await backend.recover({ mode: 'repair' });
  writeSync(1, 'done\n');
} catch (error) {
  writeSync(1, `error ${error?.code ?? error}\n`);
}
await backend.close();
