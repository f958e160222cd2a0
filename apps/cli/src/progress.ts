import type { Progress } from '@papyra/persistence-contract';
import { formatBytes } from './format.js';

export interface ProgressReporter {
  /** Undefined when progress is not shown, so backends skip the bookkeeping. */
  onProgress: ((progress: Progress) => void) | undefined;
  /** Clears the progress line. */
  done(): void;
  /** Writes other text to stderr (logs, hints), first clearing the progress line so they never share a line. */
  write(text: string): void;
}

const EVERY_MS = 100;

/** A one-line progress display on stderr, redrawn at most every 100 ms, only on a terminal. */
export function progressReporter(write: (text: string) => void, isTTY: boolean, now: () => number = Date.now): ProgressReporter {
  if (!isTTY) return { onProgress: undefined, done: () => {}, write };
  let last = -Infinity;
  let drawn = false;
  const clear = () => {
    if (drawn) write('\r\x1b[K');
    drawn = false;
  };
  return {
    onProgress: (p) => {
      const t = now();
      if (t - last < EVERY_MS) return;
      last = t;
      drawn = true;
      write(`\r\x1b[K${progressLine(p)}`);
    },
    done: clear,
    write: (text) => {
      clear();
      write(text);
    },
  };
}

export function progressLine(p: Progress): string {
  const amount = (n: number) => (p.unit === 'bytes' ? formatBytes(n) : `${n} ${p.unit}`);
  if (p.total === null || p.total <= 0) return `${p.phase}  ${amount(p.processed)}`;
  const pct = Math.min(100, Math.floor((p.processed / p.total) * 100));
  return `${p.phase}  ${amount(p.processed)} / ${amount(p.total)}  ${pct}%`;
}
