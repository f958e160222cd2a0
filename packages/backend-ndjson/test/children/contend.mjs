// Contends for a lock over many trials: argv = data path, log path, trials. For trial k it waits for
// the file `<log>.go-<k>`, tries once to take the lock for a rewrite, and, when it got it, appends
// `enter <pid>` and `exit <pid>` around a short hold to the shared log (O_APPEND: one order for all).
// Prints `done <k>` after each trial.
import { appendFileSync, existsSync, writeSync } from 'node:fs';
import { SegmentLock } from '../../dist/segments/index.js';

const [path, log, trials] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const cell = new Int32Array(new SharedArrayBuffer(4));
const pause = (ms) => Atomics.wait(cell, 0, 0, ms);
for (let k = 0; k < trials; k++) {
  while (!existsSync(`${log}.go-${k}`)) pause(1);
  const lock = new SegmentLock(path);
  try {
    lock.acquire('rewrite');
    appendFileSync(log, `enter ${process.pid}\n`);
    pause(15);
    appendFileSync(log, `exit ${process.pid}\n`);
    lock.release('rewrite');
  } catch (error) {
    if (error?.code !== 'PAPYRA_LOCKED') throw error;
  }
  writeSync(1, `done ${k}\n`);
}
