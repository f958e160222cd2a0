import { appendFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { main } from '../src/cli.js';
import type { Io } from '../src/io.js';
import { humanLogLine } from '../src/logger.js';
import { copyFixture, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

/** Runs the CLI in this process with stderr as a terminal or not. */
async function run(argv: string[], stderrIsTTY: boolean, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), stderrIsTTY, env, cwd: dir, now: () => Date.now() };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function corruptStore(): string {
  const path = copyFixture(dir);
  appendFileSync(path, 'not json\n');
  return path;
}

describe('progress', () => {
  it('is drawn on stderr only when it is a terminal, and cleared before the report', async () => {
    const path = copyFixture(dir);
    const tty = await run(['persistence', 'scan', '--path', path], true);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/^\r\x1b\[Kscan .*%/);
    expect(tty.stderr.endsWith('\r\x1b[K')).toBe(true);
    const piped = await run(['persistence', 'scan', '--path', path], false);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toBe(tty.stdout);
  });
});

describe('logs', () => {
  it('stay off at the default level: the report already says what the backend would warn about', async () => {
    const path = corruptStore();
    const r = await run(['persistence', 'scan', '--path', path], false);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^hint: run papyra persistence recover/)]);
  });

  it('are pino JSON lines with --log-level warn when stderr is not a terminal', async () => {
    const path = corruptStore();
    const r = await run(['persistence', 'scan', '--path', path, '--log-level', 'warn'], false);
    const entries = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 40, name: 'papyra', component: 'persistence', backend: 'ndjson', msg: 'scan found anomalies' }),
    );
  });

  it('take their level from PAPYRA_LOG_LEVEL; an unknown level there is a configuration error (78)', async () => {
    const path = corruptStore();
    expect((await run(['persistence', 'scan', '--path', path], false, { PAPYRA_LOG_LEVEL: 'warn' })).stderr).toContain('"msg":"scan found anomalies"');
    expect((await run(['persistence', 'scan', '--path', path, '--log-level', 'error'], false, { PAPYRA_LOG_LEVEL: 'warn' })).stderr).not.toContain('"level"');
    const bad = await run(['persistence', 'scan', '--path', path], false, { PAPYRA_LOG_LEVEL: 'loud' });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain('PAPYRA_LOG_LEVEL must be one of');
  });

  it('are readable lines on a terminal, never sharing a line with the progress display', async () => {
    const path = corruptStore();
    const r = await run(['persistence', 'scan', '--path', path, '--log-level', 'warn'], true);
    // The progress line is cleared (\r, erase line) before the log line is written.
    expect(r.stderr).toMatch(
      /%\r\x1b\[K\d\d:\d\d:\d\d\.\d{3} WARN {3}scan found anomalies {2}component=persistence {2}backend=ndjson {2}anomalies=1 {2}types=\{"CORRUPTED_LINE":1\}$/m,
    );
    expect(r.stderr).not.toContain('"level"');
  });

  it('humanLogLine puts an error’s stack under its line and passes non-JSON through', () => {
    const line = JSON.stringify({
      level: 50,
      time: Date.parse('2025-01-01T12:00:01.250Z'),
      name: 'papyra',
      msg: 'command failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' },
    });
    expect(humanLogLine(`${line}\n`)).toBe('12:00:01.250 ERROR  command failed\n    Error: boom\n        at x (y.js:1:1)\n');
    expect(humanLogLine('not json\n')).toBe('not json\n');
  });
});

describe('usage errors', () => {
  it('never echo a password from the command line', async () => {
    const r = await run(['persistence', 'scan', 'postgres://app:Hunter2-secret@db/prod', '--json'], false);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Unknown argument: postgres://app:***@db/prod');
    expect(r.stdout + r.stderr).not.toContain('Hunter2-secret');
  });
});
