// Appends sequenced records to a rotating set until killed: argv = path, fsync mode, run number,
// concurrent workers, maxBytes, maxFiles. Prints "ready", then "a <seq>" per resolved write.
import { writeSync } from 'node:fs';
import { RotatingBackend } from '@papyra/backend-rotating';
import { sequenced } from './records.mjs';

const [path, fsync, run, workers, maxBytes, maxFiles] = process.argv.slice(2);
const backend = new RotatingBackend({ path, fsync, fsyncIntervalMs: 5, maxBytes: Number(maxBytes), maxFiles: Number(maxFiles) });
let next = 0;
writeSync(1, 'ready\n');
async function worker() {
  for (;;) {
    const seq = next++;
    const record = sequenced(Number(run), seq, (seq * 7919) % 1500);
    const write =
      record.kind === 'event' ? backend.recordEvent(record) : record.kind === 'audit' ? backend.recordAudit(record) : backend.recordDeadLetter(record);
    await write;
    writeSync(1, `a ${seq}\n`);
  }
}
for (let i = 0; i < Number(workers); i++) void worker();
