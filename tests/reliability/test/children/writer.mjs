// Appends sequenced records until killed: argv = path, fsync mode, run number, concurrent workers.
// Prints "ready" once, then "a <seq>" for every write whose promise resolved (synchronously, so a
// printed ack has left this process before anything else happens).
import { writeSync } from 'node:fs';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { sequenced } from './records.mjs';

const [path, fsync, run, workers] = process.argv.slice(2);
const backend = new NdjsonBackend({ path, fsync, fsyncIntervalMs: 5 });
let next = 0;
writeSync(1, 'ready\n');
async function worker() {
  for (;;) {
    const seq = next++;
    const record = sequenced(Number(run), seq, (seq * 7919) % 3000);
    const write =
      record.kind === 'event' ? backend.recordEvent(record) : record.kind === 'audit' ? backend.recordAudit(record) : backend.recordDeadLetter(record);
    await write;
    writeSync(1, `a ${seq}\n`);
  }
}
for (let i = 0; i < Number(workers); i++) void worker();
