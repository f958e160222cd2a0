import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { main } from '../src/cli.js';
import type { Io } from '../src/io.js';
import { BIN, CLI_DIR, cleanEnv, copyFixture, papyra, papyraInProcess, parseJson, tempDir } from './helpers.js';

const FIXTURES = resolve(CLI_DIR, 'test/fixtures');
const CORRUPTION = 'not json\n{"kind":"bogus","timestamp":1}\n{"kind":"event","timest';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

describe('a store path that does not exist', () => {
  it.each([
    ['persistence', 'scan'],
    ['persistence', 'compact'],
    ['persistence', 'recover', '--mode', 'repair'],
    ['doctor', 'run'],
  ])('%s %s says so (stderr, and exists: false in --json), and creates nothing', async (...command) => {
    const cli = command[0] === 'doctor' ? papyra : papyraInProcess;
    const run = await cli([...command, '--path', 'typo.ndjson', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`note: ${join(dir, 'typo.ndjson')} does not exist; it is treated as an empty store`);
    expect(parseJson(run).store).toEqual({ backend: 'ndjson', path: join(dir, 'typo.ndjson'), exists: false });
    expect(readdirSync(dir)).toEqual([]);
    if (command[0] === 'doctor') expect((await papyraInProcess([...command, '--path', 'typo.ndjson'], { cwd: dir })).stdout).toMatch(/store\s+does not exist/);
  });

  it('fails with --require-existing (exit 66), for ndjson and rotating stores', async () => {
    for (const store of [
      ['--path', 'typo.ndjson'],
      ['--path', 'typo.ndjson', '--max-bytes', '1000', '--max-files', '3'],
    ]) {
      const run = await papyra(['doctor', 'run', ...store, '--require-existing', '--json'], { cwd: dir });
      expect(run.code).toBe(66);
      expect(parseJson(run).error).toMatchObject({ code: 'PAPYRA_STORE_MISSING', exitCode: 66 });
      expect(run.stderr).toContain('does not exist');
    }
  });

  it('an existing store says nothing and reports exists: true', async () => {
    copyFixture(dir);
    const run = await papyra(['persistence', 'scan', '--path', 'system.ndjson', '--require-existing', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(parseJson(run)).toMatchObject({ schemaVersion: 1, store: { backend: 'ndjson', exists: true } });
  });
});

describe('damaged lines skipped by lists and summaries', () => {
  it.each([
    ['inspect', 'summary'],
    ['inspect', 'events'],
    ['metrics', 'persistence'],
    ['persistence', 'inspect'],
  ])('%s %s says how many and what to run next', async (...command) => {
    const path = copyFixture(dir);
    appendFileSync(path, CORRUPTION);
    // One command end to end; the others in this process (the same code, without a subprocess's cost).
    const cli = command[1] === 'summary' ? papyra : papyraInProcess;
    const run = await cli([...command, '--path', path], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('note: 3 damaged lines were skipped');
    expect(run.stderr).toContain(`papyra persistence recover --mode repair --path ${path}`);
    const json = parseJson(await cli([...command, '--path', path, '--json'], { cwd: dir }));
    expect(json.damagedSkipped).toBe(3);
  });
});

describe('recovery wording', () => {
  it('calls what repair drops "damaged lines", not records', async () => {
    const path = copyFixture(dir);
    appendFileSync(path, CORRUPTION);
    const run = await papyra(['persistence', 'recover', '--mode', 'repair', '--path', path], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/removed\s+3 damaged lines/);
    expect(run.stdout).not.toContain('dropped');
  });
});

/** Spawns the CLI; resolves once stderr contains `marker`, with the child to signal. */
function spawnUntil(args: string[], marker: string) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: CLI_DIR, env: cleanEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const started = new Promise<void>((resolveStarted) =>
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes(marker)) resolveStarted();
    }),
  );
  const closed = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveClosed) =>
    child.on('close', (code) => resolveClosed({ code, stdout, stderr })),
  );
  return { child, started, closed };
}

describe('Ctrl-C during recover or compact', () => {
  it.each([
    ['SIGINT', ['persistence', 'recover', '--mode', 'repair'], 'recovery'],
    ['SIGTERM', ['persistence', 'compact'], 'compaction'],
  ] as const)('%s aborts the operation through its signal and exits 130 with a message', async (signal, command, what) => {
    const { child, started, closed } = spawnUntil([...command, '--config', join(FIXTURES, 'interruptible-store.mjs')], `${what} started`);
    await started;
    child.kill(signal);
    const run = await closed;
    expect(run.code).toBe(130);
    expect(run.stderr).toContain(`${what} cleaned up`);
    expect(run.stderr).toContain(`papyra: Interrupted by ${signal}. [PAPYRA_ABORTED]`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('leaves a real NDJSON store byte for byte as it was, with no temporary file or lock', async () => {
    const path = copyFixture(dir);
    appendFileSync(path, CORRUPTION);
    const before = readFileSync(path);
    let stderr = '';
    const io: Io = {
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      stderrIsTTY: false,
      env: {},
      cwd: dir,
      now: () => Date.now(),
      // The interrupt arrives as the command starts.
      onInterrupt: (handler) => {
        setImmediate(() => handler('SIGINT'));
        return () => {};
      },
    };
    const code = await main(['persistence', 'recover', '--mode', 'repair', '--path', path], io);
    expect(code).toBe(130);
    expect(stderr).toContain('Interrupted by SIGINT');
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['system.ndjson']);
  });
});

describe('a full disk, an exhausted quota, a read-only file system', () => {
  it.each(['ENOSPC', 'EDQUOT', 'EROFS'])('%s exits 74 with what to do and no stack trace', async (errno) => {
    const run = await papyra(['persistence', 'compact', '--json', '--config', join(FIXTURES, 'failing-disk-store.mjs')], {
      cwd: dir,
      env: { FAILING_DISK_ERRNO: errno },
    });
    expect(run.code).toBe(74);
    expect(run.stderr).toContain(`[${errno}]`);
    expect(run.stderr).toMatch(errno === 'EROFS' ? /read-only file system.*Remount it read-write/ : /free space and run the command again/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const json = parseJson(run);
    expect(json.error).toMatchObject({ code: errno === 'EROFS' ? 'PAPYRA_READ_ONLY' : 'PAPYRA_NO_SPACE', exitCode: 74 });
  });
});
