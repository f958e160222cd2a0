import { appendFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { main } from '../src/cli.js';
import type { Io } from '../src/io.js';
import { copyFixture, papyra, parseJson, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

/** The CLI in this process, with the terminal facts given. */
async function run(argv: string[], terminal: Partial<Pick<Io, 'stdoutIsTTY' | 'stderrIsTTY' | 'columns' | 'env'>> = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stderrIsTTY: false,
    env: {},
    cwd: dir,
    now: () => Date.now(),
    ...terminal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function corruptStore(): string {
  const path = copyFixture(dir);
  appendFileSync(path, 'not json\n');
  return path;
}

describe('command line conventions', () => {
  it('papyra completion prints a shell completion script', async () => {
    const r = await papyra(['completion'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('###-begin-papyra-completions-###');
    expect(r.stdout).toContain('papyra --get-yargs-completions');
  });

  it('help is wrapped at the terminal width and lists the command’s own options first', async () => {
    const r = await run(['inspect', 'events', '--help'], { columns: 72 });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(72);
    expect(r.stdout.indexOf('--limit')).toBeLessThan(r.stdout.indexOf('Store (or PAPYRA_<OPTION>'));
    expect(r.stdout.indexOf('--event-type')).toBeLessThan(r.stdout.indexOf('--path'));
  });

  it('a command group without a subcommand lists its subcommands (exit 64)', async () => {
    const r = await run(['persistence']);
    expect(r.code).toBe(64);
    for (const sub of ['scan', 'recover', 'compact', 'inspect', 'startup-check']) expect(r.stderr).toContain(`papyra persistence ${sub}`);
  });

  it.each([
    [['inspect', 'events', '--limit', 'abc'], '--limit', '"abc"'],
    [['persistence', 'inspect', '--limit', '1.5'], '--limit', '"1.5"'],
    [['inspect', 'audits', '--limit', '-1'], '--limit', '"-1"'],
  ])('%j is a usage error (64) naming the flag and the value', async (argv, flag, value) => {
    const r = await run([...argv, '--path', 'x.ndjson', '--json']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain(value);
    expect(r.stderr).not.toContain('NaN');
    expect(parseJson(r)).toMatchObject({ schemaVersion: 1, error: { code: 'PAPYRA_USAGE', exitCode: 64 } });
  });
});

describe('colour', () => {
  it('marks anomaly types and the health verdict on a terminal, and errors on stderr', async () => {
    const path = corruptStore();
    const r = await run(['doctor', 'run', '--path', path], { stdoutIsTTY: true });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('\x1b[33mCORRUPTED_LINE\x1b[39m');
    expect(r.stdout).toContain('\x1b[31mUnhealthy.\x1b[39m');
    const clean = await run(['doctor', 'run', '--path', copyFixture(dir, 'clean.ndjson')], { stdoutIsTTY: true });
    expect(clean.stdout).toContain('\x1b[32mHealthy.\x1b[39m');
    const error = await run(['inspect', 'events', '--limit', 'x'], { stderrIsTTY: true });
    expect(error.stderr).toContain('\x1b[31mpapyra:\x1b[39m');
  });

  it('honours NO_COLOR and FORCE_COLOR, and stays off when not a terminal', async () => {
    const path = corruptStore();
    const escape = /\x1b\[/;
    expect((await run(['persistence', 'scan', '--path', path], { stdoutIsTTY: false })).stdout).not.toMatch(escape);
    expect((await run(['persistence', 'scan', '--path', path], { stdoutIsTTY: true, env: { NO_COLOR: '1' } })).stdout).not.toMatch(escape);
    expect((await run(['persistence', 'scan', '--path', path], { stdoutIsTTY: true, env: { FORCE_COLOR: '0' } })).stdout).not.toMatch(escape);
    expect((await run(['persistence', 'scan', '--path', path], { stdoutIsTTY: false, env: { FORCE_COLOR: '1' } })).stdout).toMatch(escape);
    // --json is never coloured.
    expect((await run(['persistence', 'scan', '--path', path, '--json'], { stdoutIsTTY: true, env: { FORCE_COLOR: '1' } })).stdout).not.toMatch(escape);
  });
});

describe('numbers and durations as people write them', () => {
  it('formats counts with separators and durations in units', async () => {
    const { formatCount, formatDuration } = await import('../src/format.js');
    expect(formatCount(1_000_000)).toBe('1,000,000');
    expect(formatDuration(7 * 86_400_000)).toBe('7d');
    expect(formatDuration(90 * 60_000)).toBe('1h30m');
    expect(formatDuration(250)).toBe('250ms');
  });

  it('compact shows the retention as 7d and 10,000, not milliseconds', async () => {
    const r = await run(['persistence', 'compact', '--path', copyFixture(dir), '--max-age', '7d', '--max-records', '10000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/retention\s+max 10,000 records per kind, max age 7d/);
  });
});

describe('--json documents', () => {
  it('carry schemaVersion and a structured store description', async () => {
    const path = copyFixture(dir);
    for (const argv of [
      ['persistence', 'scan'],
      ['inspect', 'summary'],
      ['metrics', 'persistence'],
      ['doctor', 'run'],
    ]) {
      const j = parseJson(await run([...argv, '--path', path, '--json']));
      expect(j).toMatchObject({ schemaVersion: 1, store: { backend: 'ndjson', path, exists: true } });
    }
  });

  it('doctor has one health field, and a diagnosis logs no "refusing to start"', async () => {
    const path = corruptStore();
    const r = await run(['doctor', 'run', '--path', path, '--json']);
    expect(r.code).toBe(1);
    const j = parseJson(r);
    expect(j.healthy).toBe(false);
    expect(j).not.toHaveProperty('ok');
    expect(r.stderr).not.toContain('refusing to start');
    const check = await run(['persistence', 'startup-check', '--path', path, '--log-level', 'error']);
    expect(check.code).toBe(1);
    expect(check.stderr).not.toContain('refusing to start');
  });
});
