import type { Progress } from '@papyra/persistence-contract';
import { formatBytes, formatCount, formatDuration } from './format.js';

export interface ProgressReporter {
  /** Undefined when progress is not shown, so backends skip the bookkeeping. */
  onProgress: ((progress: Progress) => void) | undefined;
  /** Clears the progress line. */
  done(): void;
  /** Writes other text to stderr (logs, hints), first clearing the progress line so they never share a line. */
  write(text: string): void;
}

const EVERY_MS = 100;

/**
 * Progress on stderr, only on a terminal: one bar per phase, redrawn at most every 100 ms. When a
 * phase ends (the next begins), its bar stays on its own line with its final figures.
 */
export function progressReporter(write: (text: string) => void, isTTY: boolean, now: () => number = Date.now): ProgressReporter {
  if (!isTTY) return { onProgress: undefined, done: () => {}, write };
  let last = -Infinity;
  let drawn = false;
  let phase: { name: string; started: number; latest: Progress } | undefined;
  const clear = () => {
    if (drawn) write('\r\x1b[K');
    drawn = false;
  };
  const draw = (p: Progress, t: number) => {
    drawn = true;
    write(`\r\x1b[K${progressLine(p, t - (phase?.started ?? t))}`);
  };
  return {
    onProgress: (p) => {
      const t = now();
      if (phase !== undefined && phase.name !== p.phase) {
        // Keep the finished phase's bar, complete, on its own line.
        draw(phase.latest, t);
        write('\n');
        drawn = false;
        phase = undefined;
        last = -Infinity;
      }
      phase ??= { name: p.phase, started: t, latest: p };
      phase.latest = p;
      if (t - last < EVERY_MS) return;
      last = t;
      draw(p, t);
    },
    done: clear,
    write: (text) => {
      clear();
      write(text);
    },
  };
}

/** `recover  1.2 MiB / 4.0 MiB  30%  8.1 MiB/s  ETA 1s`; rate and ETA once time has passed. */
export function progressLine(p: Progress, elapsedMs = 0): string {
  const amount = (n: number) => (p.unit === 'bytes' ? formatBytes(n) : `${formatCount(n)} ${p.unit}`);
  const rate = elapsedMs > 0 && p.processed > 0 ? (p.processed * 1000) / elapsedMs : null;
  const speed = rate === null ? '' : `  ${p.unit === 'bytes' ? formatBytes(rate) : `${formatCount(Math.round(rate))} ${p.unit}`}/s`;
  if (p.total === null || p.total <= 0) return `${p.phase}  ${amount(p.processed)}${speed}`;
  const processed = Math.min(p.processed, p.total);
  const pct = Math.floor((processed / p.total) * 100);
  const eta = rate === null || processed >= p.total ? '' : `  ETA ${formatDuration(((p.total - processed) / rate) * 1000)}`;
  return `${p.phase}  ${amount(processed)} / ${amount(p.total)}  ${pct}%${speed}${eta}`;
}
