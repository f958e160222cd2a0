// One of several processes writing the same file: argv = path, fsync mode, run number, records.
// Writes its records one at a time; a write refused with PAPYRA_LOCKED (another process holds the
// file) is retried after a short pause. Prints "a <seq>" per acknowledged write, then
// "done <refusals>" once closed.
import { writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { sequenced } from './records.mjs';

const [path, fsync, run, records] = process.argv.slice(2);
const backend = new NdjsonBackend({ path, fsync, fsyncIntervalMs: 5 });
let refusals = 0;
writeSync(1, 'ready\n');
for (let seq = 0; seq < Number(records); seq++) {
  const record = sequenced(Number(run), seq, (seq * 31) % 500);
  for (;;) {
    try {
      await (record.kind === 'event' ? backend.recordEvent(record) : record.kind === 'audit' ? backend.recordAudit(record) : backend.recordDeadLetter(record));
      break;
    } catch (error) {
      if (error?.code !== 'PAPYRA_LOCKED') throw error;
      refusals += 1;
      await sleep(1 + Math.floor(Math.random() * 4));
    }
  }
  writeSync(1, `a ${seq}\n`);
}
await backend.close();
writeSync(1, `done ${refusals}\n`);
