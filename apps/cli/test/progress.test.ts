import { describe, expect, it } from '@jest/globals';
import { progressLine, progressReporter } from '../src/progress.js';

describe('progress', () => {
  it('shows rate and ETA once time has passed, and never more than 100%', () => {
    expect(progressLine({ phase: 'compact', processed: 2 * 1024 * 1024, total: 8 * 1024 * 1024, unit: 'bytes' }, 1000)).toBe(
      'compact  2.0 MiB / 8.0 MiB  25%  2.0 MiB/s  ETA 3s',
    );
    expect(progressLine({ phase: 'scan', processed: 5000, total: 4000, unit: 'entries' }, 1000)).toBe(
      'scan  4,000 entries / 4,000 entries  100%  5,000 entries/s',
    );
  });

  it('draws one bar per phase: a finished phase keeps its line, complete', () => {
    let out = '';
    let t = 0;
    const reporter = progressReporter(
      (text) => void (out += text),
      true,
      () => t,
    );
    reporter.onProgress!({ phase: 'recover', processed: 50, total: 100, unit: 'bytes' });
    t = 1000;
    reporter.onProgress!({ phase: 'recover', processed: 100, total: 100, unit: 'bytes' });
    t = 1050;
    reporter.onProgress!({ phase: 'compact', processed: 10, total: 100, unit: 'bytes' });
    reporter.done();
    const lines = out.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.split('\r\x1b[K').at(-1)).toMatch(/^recover {2}100 B \/ 100 B {2}100%/);
    expect(lines[1]).toMatch(/compact {2}10 B \/ 100 B {2}10%/);
    expect(out.endsWith('\r\x1b[K')).toBe(true);
  });
});
