import { describe, expect, it } from '@jest/globals';
import { PapyraError } from '@papyra/persistence-contract';
import { ExitCode, exitCodeFor } from '../src/errors.js';
import { progressLine } from '../src/progress.js';

describe('exitCodeFor', () => {
  it('maps PAPYRA_* codes to the documented exit codes', () => {
    const code = (c: `PAPYRA_${string}`) => exitCodeFor(new PapyraError(c, 'x'));
    expect(code('PAPYRA_USAGE')).toBe(64);
    expect(code('PAPYRA_INVALID_ARGUMENT')).toBe(64);
    expect(code('PAPYRA_BACKEND_UNAVAILABLE')).toBe(69);
    expect(code('PAPYRA_LOCKED')).toBe(75);
    expect(code('PAPYRA_INVALID_CONFIG')).toBe(78);
    expect(code('PAPYRA_IO')).toBe(ExitCode.internal);
  });

  it('treats unwrapped connection errors as an unreachable backend and anything else as internal', () => {
    expect(exitCodeFor(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(69);
    expect(exitCodeFor(new TypeError('boom'))).toBe(70);
    expect(exitCodeFor('a string')).toBe(70);
  });
});

describe('progressLine', () => {
  it('shows a percentage when the total is known', () => {
    expect(progressLine({ phase: 'scan', processed: 512, total: 2048, unit: 'bytes' })).toBe('scan  512 B / 2.0 KiB  25%');
    expect(progressLine({ phase: 'recover', processed: 10, total: null, unit: 'entries' })).toBe('recover  10 entries');
  });
});

describe('hints', () => {
  it('suggest --redis-cluster for a cluster node reached without cluster mode, and the URL for refused credentials', async () => {
    const { hintFor } = await import('../src/run.js');
    expect(
      hintFor('PAPYRA_INVALID_CONFIG', 'Redis configuration: scan: MOVED 1234 10.0.0.2:7001. The server is a Redis Cluster node: use cluster mode.'),
    ).toContain('--redis-cluster');
    expect(hintFor('PAPYRA_INVALID_CONFIG', 'Redis configuration: scan: WRONGPASS invalid username-password pair.')).toContain('--redis-url');
    expect(hintFor('PAPYRA_LOCKED', 'x')).toContain('.lock');
  });
});
