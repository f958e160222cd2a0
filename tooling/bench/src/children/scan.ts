// Runs one read in its own process so that its peak RSS is its own:
// `scan.js papyra|readline|since <file>`; `since` is listEvents({ limit: 50, since: now }), which matches nothing.
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { NdjsonBackend } from '@papyra/backend-ndjson';

const [mode, path] = process.argv.slice(2) as ['papyra' | 'readline' | 'since', string];
const start = performance.now();
let records = 0;
if (mode === 'papyra') {
  const backend = new NdjsonBackend({ path });
  const report = await backend.scan();
  if (report.anomalies.length) throw new Error(`benchmark file has ${report.anomalies.length} anomalies`);
  await backend.close();
} else if (mode === 'since') {
  const backend = new NdjsonBackend({ path });
  records = (await backend.listEvents({ limit: 50, since: Date.now() })).length;
  await backend.close();
} else {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    JSON.parse(line);
    records += 1;
  }
}
const ms = performance.now() - start;
// VmHWM is this program's own peak: getrusage's maxRSS also counts the parent's pages copied at fork.
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const maxRssKb = hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify({ ms, maxRssMb: maxRssKb / 1024, records }));
