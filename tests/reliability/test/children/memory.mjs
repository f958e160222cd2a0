// Runs one read of a store and reports what it saw and this process's peak RSS:
// argv = path, op (scan | list | list-limit | cli-scan). Prints one JSON line.
import { readFileSync, writeSync } from 'node:fs';
import { NdjsonBackend } from '@papyra/backend-ndjson';

const [path, op] = process.argv.slice(2);
const backend = new NdjsonBackend({ path });
let result;
switch (op) {
  case 'scan':
    result = (await backend.scan()).anomalies.map((a) => ({ type: a.type, line: a.line, offset: a.offset }));
    break;
  case 'list':
    result = (await backend.listEvents()).length;
    break;
  case 'list-limit':
    result = (await backend.listEvents({ limit: 10 })).length;
    break;
  case 'cli-scan': {
    // Imported only here, so the library reads are measured without the CLI's dependencies loaded.
    const { main } = await import('@papyra/cli');
    let stdout = '';
    const io = { stdout: (t) => (stdout += t), stderr: () => {}, stderrIsTTY: false, env: {}, cwd: process.cwd(), now: () => Date.now() };
    const code = await main(['persistence', 'scan', '--path', path, '--json'], io);
    result = { code, anomalies: JSON.parse(stdout).anomalies.map((a) => ({ type: a.type, line: a.line, offset: a.offset })) };
    break;
  }
}
await backend.close();
// VmHWM is this program's own peak: getrusage's maxRSS also counts the parent's pages copied at fork.
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const maxRssKb = hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
writeSync(1, `${JSON.stringify({ result, maxRssBytes: maxRssKb * 1024 })}\n`);
