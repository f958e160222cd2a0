import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, realpath, symlink, appendFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '../src/index.js';
import { SegmentLock, lockPathFor, systemLockSystem, type LockSystem } from '../src/segments/index.js';
import { codeOf, event, tempDirs } from './helpers.js';

// The children run the built package (dist/): build it first (`npx tsc -b`).
const child = (name: string) => fileURLToPath(new URL(`./children/${name}`, import.meta.url));
const dirs = tempDirs();
const running = new Set<ChildProcess>();
afterEach(async () => {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
  await dirs.cleanup();
});

/** Starts a child; resolves once it printed a line satisfying `ready`. */
function start(script: string, args: string[], ready: (lines: string[]) => boolean) {
  const proc = spawn(process.execPath, [child(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const lines: string[] = [];
  let stderr = '';
  let buffered = '';
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const waiters: (() => void)[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (buffered + chunk).split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const until = (predicate: (l: string[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (predicate(lines) ? resolve() : waiters.push(check));
      void exited.then(() => (predicate(lines) ? resolve() : reject(new Error(`child ${script} ended early: ${stderr}`))));
      check();
    });
  return { proc, lines, until, exited, ready: until(ready) };
}

/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('a symlinked store', () => {
  it('is locked as its target: no rewrite through the target or the link while a writer lives; rewrites keep the link', async () => {
    const dir = await dirs.make();
    await mkdir(join(dir, 'real'));
    const target = join(dir, 'real', 'target.ndjson');
    const link = join(dir, 'store.ndjson');
    await symlink('real/target.ndjson', link);
    const writer = start('hold.mjs', [link], (l) => l.includes('ready'));
    await writer.ready;
    for (const path of [target, link]) {
      const other = new NdjsonBackend({ path, retention: { maxRecords: 1 } });
      const error = await other.compact().catch((e: unknown) => e as { code: string; message: string });
      expect(error).toMatchObject({ code: 'PAPYRA_LOCKED' });
      expect((error as { message: string }).message).toContain(lockPathFor(await realpath(target)));
      expect(await codeOf(() => other.recover({ mode: 'repair' }))).toBe('PAPYRA_LOCKED');
      await other.close();
    }
    writer.proc.kill('SIGKILL');
    await writer.exited;
    // A rewrite through the link replaces the target; the link stays a link.
    await appendFile(target, 'not json\n');
    const backend = new NdjsonBackend({ path: link, fsync: 'always', retention: { maxRecords: 1 } });
    await backend.recordEvent(event(2));
    expect((await backend.recover({ mode: 'repair' })).repairedFiles).toHaveLength(1);
    expect((await backend.compact()).removedRecords).toBe(1);
    await backend.recordEvent(event(3));
    await backend.close();
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(
      (await readFile(target, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).actor_address.actor_id),
    ).toEqual([2, 3]);
    expect(await readdir(dir)).toEqual(['real', 'store.ndjson']);
    expect(await readdir(join(dir, 'real'))).toEqual(['target.ndjson']);
  }, 60_000);
});

describe('taking over a dead process lock', () => {
  it('is atomic: processes contending for a stale lock never hold it two at once', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const log = join(dir, 'holds.log');
    const trials = 25;
    const contenders = 5;
    await writeFile(log, '');
    const children = Array.from({ length: contenders }, () => start('contend.mjs', [path, log, String(trials)], () => true));
    const dead = deadPid();
    let holds = 0;
    for (let k = 0; k < trials; k++) {
      // A lock left by a process that has ended (same host, same boot).
      await writeFile(lockPathFor(path), JSON.stringify({ ...stale(), pid: dead }));
      await writeFile(`${log}.go-${k}`, '');
      await Promise.all(children.map((c) => c.until((lines) => lines.includes(`done ${k}`))));
      // Hold intervals from the shared log: never two open at once.
      let open = 0;
      for (const line of (await readFile(log, 'utf8')).split('\n').filter(Boolean)) {
        open += line.startsWith('enter') ? 1 : -1;
        expect(open).toBeLessThanOrEqual(1);
        if (line.startsWith('enter')) holds += 1;
      }
      expect(open).toBe(0);
      await writeFile(log, '');
    }
    expect(holds).toBeGreaterThanOrEqual(trials);
    expect(await Promise.all(children.map((c) => c.exited))).toEqual(children.map(() => 0));
    console.log(`[lock takeover] figures ${JSON.stringify({ trials, contenders, holds })}`);
  }, 120_000);

  /** A holder record of this machine and boot, for a pid to fill in. */
  function stale() {
    return {
      host: hostname(),
      since: Date.now(),
      boot: systemLockSystem.readProc('/proc/sys/kernel/random/boot_id')?.trim() ?? null,
      start: '1',
      nonce: 'feedfacefeedface',
    };
  }
});

describe('staleness (injected /proc)', () => {
  /** A machine as the lock sees it: our pid 100, and the /proc files given. */
  function machine(proc: Record<string, string>, over: Partial<LockSystem> = {}): LockSystem {
    return {
      pid: 100,
      hostname: () => 'box',
      readProc: (p) => proc[p] ?? null,
      isAlive: (pid) => proc[`/proc/${pid}/stat`] !== undefined,
      now: () => 1_700_000_000_000,
      ...over,
    };
  }
  const stat = (pid: number, start: number) => `${pid} (node (worker) x) S ${Array.from({ length: 18 }, (_, i) => i).join(' ')} ${start} 0 0\n`;
  const procOf = (boot: string, running: Record<number, number>) => ({
    '/proc/sys/kernel/random/boot_id': `${boot}\n`,
    '/proc/stat': 'cpu 1 2 3\nbtime 1699990000\n',
    '/proc/100/stat': stat(100, 777),
    ...Object.fromEntries(Object.entries(running).map(([pid, start]) => [`/proc/${pid}/stat`, stat(Number(pid), start)])),
  });

  async function lockWith(holder: Record<string, unknown>, system: LockSystem, file = 'lock') {
    const path = join(await dirs.make(), 'store.ndjson');
    await writeFile(file === 'lock' ? lockPathFor(path) : `${path}.lock`, JSON.stringify(holder));
    return { path, lock: new SegmentLock(path, { system }) };
  }

  it('records pid, start time, boot id and host', async () => {
    const { path, lock } = await lockWith({}, machine(procOf('boot-a', {})));
    lock.acquire('write');
    expect(JSON.parse(await readFile(lockPathFor(path), 'utf8'))).toMatchObject({ pid: 100, host: 'box', start: '777', boot: 'boot-a' });
    lock.release('write');
  });

  it('takes over a lock from another boot, even though its pid runs now', async () => {
    const { lock } = await lockWith({ pid: 200, host: 'box', since: 1, start: '5', boot: 'boot-a' }, machine(procOf('boot-b', { 200: 5 })));
    expect(() => lock.acquire('write')).not.toThrow();
    lock.release('write');
  });

  it('takes over a lock whose pid now belongs to a process with another start time (pid reuse)', async () => {
    const { lock } = await lockWith({ pid: 200, host: 'box', since: 1, start: '5', boot: 'boot-a' }, machine(procOf('boot-a', { 200: 9 })));
    expect(() => lock.acquire('write')).not.toThrow();
    lock.release('write');
  });

  it('takes over a lock of an earlier version taken before the machine booted, and removes it', async () => {
    const { path, lock } = await lockWith({ pid: 200, host: 'box', since: 1_600_000_000_000 }, machine(procOf('boot-a', { 200: 9 })), 'legacy');
    expect(() => lock.acquire('write')).not.toThrow();
    lock.release('write');
    expect(await readdir(join(path, '..'))).toEqual([]);
  });

  it('honours a live lock of an earlier version under its old name', async () => {
    const { path, lock } = await lockWith({ pid: 200, host: 'box', since: 1_700_000_000_000 }, machine(procOf('boot-a', { 200: 9 })), 'legacy');
    expect(catchSync(() => lock.acquire('write'))).toMatchObject({ code: 'PAPYRA_LOCKED', details: { lock: `${path}.lock`, verdict: 'live' } });
  });

  it('refuses a live holder, naming the lock, the holder and what to do', async () => {
    const { path, lock } = await lockWith(
      { pid: 200, host: 'box', since: 1_700_000_000_000, start: '5', boot: 'boot-a' },
      machine(procOf('boot-a', { 200: 5 })),
    );
    const error = catchSync(() => lock.acquire('rewrite'));
    expect(error).toMatchObject({
      code: 'PAPYRA_LOCKED',
      details: { lock: lockPathFor(path), verdict: 'live', holder: { pid: 200, host: 'box', start: '5' } },
    });
    expect(error.message).toContain(`its lock ${lockPathFor(path)} is held by process 200 on host box (process start time 5)`);
    expect(error.message).toContain('never delete the lock while it runs');
  });

  it('cannot verify a lock from another host: refuses it and says how to clear it safely', async () => {
    const { path, lock } = await lockWith({ pid: 200, host: 'old-pod', since: 1_700_000_000_000, start: '5', boot: 'boot-a' }, machine(procOf('boot-a', {})));
    const error = catchSync(() => lock.acquire('write'));
    expect(error).toMatchObject({ code: 'PAPYRA_LOCKED', details: { verdict: 'unverifiable' } });
    expect(error.message).toContain('process 200 on host old-pod');
    expect(error.message).toContain(`then delete ${lockPathFor(path)} and retry`);
  });

  function catchSync(fn: () => void): Error & { code?: string } {
    try {
      fn();
    } catch (error) {
      return error as Error & { code?: string };
    }
    throw new Error('expected a throw');
  }
});

describe('the lock shared by instances of one process', () => {
  it('is removed when the last of them closes, whichever took it', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const first = new NdjsonBackend({ path, fsync: 'never' });
    const second = new NdjsonBackend({ path, fsync: 'never' });
    await first.recordEvent(event(1));
    await second.recordEvent(event(2));
    await first.close();
    expect(JSON.parse(await readFile(lockPathFor(path), 'utf8')).pid).toBe(process.pid);
    await second.close();
    expect(await readdir(join(path, '..'))).toEqual(['store.ndjson']);
  });
});

describe('a lock file left by an ended process', () => {
  it('is taken over by a write (dead pid, no /proc needed)', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    await writeFile(lockPathFor(path), JSON.stringify({ pid: deadPid(), host: hostname(), since: Date.now(), start: '1', boot: null }));
    const backend = new NdjsonBackend({ path, fsync: 'never' });
    await backend.recordEvent(event(1));
    expect(JSON.parse(await readFile(lockPathFor(path), 'utf8')).pid).toBe(process.pid);
    await backend.close();
  });
});
