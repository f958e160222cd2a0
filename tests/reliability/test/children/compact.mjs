// Runs one compaction: argv = path, retention policy as JSON. Prints "start", then "done <json>" or
// "error <code>".
import { writeSync } from 'node:fs';
import { NdjsonBackend } from '@papyra/backend-ndjson';

const [path, retention] = process.argv.slice(2);
const backend = new NdjsonBackend({ path, retention: JSON.parse(retention) });
writeSync(1, 'start\n');
try {
  writeSync(1, `done ${JSON.stringify(await backend.compact())}\n`);
} catch (error) {
  writeSync(1, `error ${error?.code ?? error}\n`);
}
await backend.close();
