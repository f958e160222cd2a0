// Preloaded (`node --import …/peak-rss.js`) into a program whose peak RSS a benchmark wants: at exit
// it writes the process's own VmHWM, in kB, to the file named by PAPYRA_BENCH_PEAK_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

const target = process.env['PAPYRA_BENCH_PEAK_FILE'];
if (target) {
  process.on('exit', () => {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    writeFileSync(target, String(hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS));
  });
}
