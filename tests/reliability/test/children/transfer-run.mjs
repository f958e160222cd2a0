// Runs one import or migration until done or killed: argv[2] = JSON
// {op: 'import'|'migrate'|'fill', source, target, journal, batchSize, records, seed}.
// Prints "ready" once the stores are open, "p <written> <skipped>" after every checkpoint (each
// after the target's flush and the journal's rename) and "done <report as JSON>" at the end.
import { writeSync } from 'node:fs';
import { importArchive, migrateStore } from '@papyra/persistence-contract/archive';
import { closeStore, openStore } from './transfer-backends.mjs';
import { fill } from './transfer-records.mjs';

const job = JSON.parse(process.argv[2]);
const target = await openStore(job.target);
let report;
if (job.op === 'fill') {
  writeSync(1, 'ready\n');
  await fill(target, job.records, job.seed);
  report = { written: job.records };
} else {
  const source = await openStore(job.source);
  const options = {
    ...(job.journal && { journal: job.journal }),
    batchSize: job.batchSize,
    onProgress: ({ written, skipped }) => writeSync(1, `p ${written} ${skipped}\n`),
  };
  writeSync(1, 'ready\n');
  report =
    job.op === 'import'
      ? await importArchive(job.source.archive, target, options)
      : await migrateStore(source, target, { ...options, sourceId: JSON.stringify(job.source) });
  await closeStore(source);
}
await closeStore(target);
writeSync(1, `done ${JSON.stringify(report)}\n`);
