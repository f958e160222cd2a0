// Runs one recovery: argv = path, mode, quarantine dir (or "-"). Prints "start", then "done <json>"
// or "error <code>".
import { writeSync } from 'node:fs';
import { NdjsonBackend } from '@papyra/backend-ndjson';

const [path, mode, quarantineDir] = process.argv.slice(2);
const backend = new NdjsonBackend({ path });
writeSync(1, 'start\n');
try {
  const report = await backend.recover({ mode, ...(quarantineDir !== '-' && { quarantineDir }) });
  writeSync(1, `done ${JSON.stringify({ kept: report.keptRecords, dropped: report.droppedRecords, post: report.postScan.anomalies.length })}\n`);
} catch (error) {
  writeSync(1, `error ${error?.code ?? error}\n`);
}
await backend.close();
