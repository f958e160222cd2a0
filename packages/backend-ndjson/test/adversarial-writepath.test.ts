import { execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Logger } from '@papyra/persistence-contract';
import { NdjsonBackend } from '../src/index.js';
import { resolveDataPath } from '../src/segments/index.js';
import { nodeSegmentFs, type SegmentFs } from '../src/segments/fs.js';
import { FaultyFs } from '../src/testing/faulty-fs.js';
import { codeOf, event, tempDirs } from './helpers.js';

/*
 * Regression tests for defects an adversarial review found in the write path and the lock. Faults
 * are injected through the `fs` option (FaultyFs, or a wrapper of node:fs that fails one call);
 * FIFOs and the unprivileged-user probe run in child processes on the built dist/ (a FIFO bug
 * blocks the event loop, so a child with a timeout is the only bounded way to see it).
 */
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const DIST = new URL('../dist/index.js', import.meta.url).href;

const ns = async (path: string) => {
  const reader = new NdjsonBackend({ path });
  const events = await reader.listEvents();
  await reader.close();
  return events.map((e) => e.payload['n'] as number);
};

const eio = () => Object.assign(new Error('EIO: injected'), { code: 'EIO' });

/** Runs an ES module script in a child; resolves with its stdout, or 'TIMEOUT' when killed after `ms`. */
function child(script: string, options: { ms?: number; uid?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }),
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), options.ms ?? 15_000);
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve('TIMEOUT');
      else if (code !== 0) reject(new Error(`child exited ${code}: ${err}`));
      else resolve(out.trim());
    });
  });
}

describe('resolveDataPath', () => {
  it('resolves a relative link target against the real directory of the link, as the kernel does', async () => {
    const root = await realpath(await dirs.make());
    await mkdir(join(root, 'X'));
    await mkdir(join(root, 'Y/a/b'), { recursive: true });
    await symlink(join(root, 'Y/a/b'), join(root, 'X/linkdir'));
    await symlink('../target.ndjson', join(root, 'Y/a/b/data.ndjson'));
    const viaLink = join(root, 'X/linkdir/data.ndjson');
    const real = join(root, 'Y/a/target.ndjson');
    // Dangling (before the first write) and existing.
    expect(resolveDataPath(viaLink)).toBe(real);
    const writer = new NdjsonBackend({ path: viaLink, fsync: 'always', retention: { maxRecords: 2 } });
    for (let n = 0; n < 5; n++) await writer.recordEvent(event(n));
    expect(resolveDataPath(viaLink)).toBe(real);
    // The lock is beside the real file, and compaction rewrites the real file, nothing at X/.
    expect((await readdir(join(root, 'Y/a'))).sort()).toEqual(['.target.ndjson.lock', 'b', 'target.ndjson']);
    expect(await readdir(join(root, 'X'))).toEqual(['linkdir']);
    expect((await writer.compact()).removedRecords).toBe(3);
    await writer.close();
    expect(await ns(real)).toEqual([3, 4]);
    expect(await readlink(join(root, 'Y/a/b/data.ndjson'))).toBe('../target.ndjson');
    expect(existsSync(join(root, 'X/target.ndjson'))).toBe(false);
  });
});

describe('a failed fdatasync is sticky (the kernel may have dropped the pages)', () => {
  it('a later flush() and close() reject after a failed flush, also when the retry fsync succeeds', async () => {
    const path = join(await dirs.make(), 's.ndjson');
    // fsync #1 is the directory fsync of the new file.
    const fs = new FaultyFs({ seed: 7, faults: [{ op: 'fsync', nth: 2, code: 'EIO' }] });
    const backend = new NdjsonBackend({ path, fsync: 'interval', fsyncIntervalMs: 3_600_000, fs });
    for (let n = 0; n < 5; n++) await backend.recordEvent(event(n));
    expect(await codeOf(() => backend.flush())).toBe('PAPYRA_IO');
    expect(await codeOf(() => backend.flush())).toBe('PAPYRA_IO');
    expect(await codeOf(() => backend.close())).toBe('PAPYRA_IO');
    // What it refused to call durable indeed is not: after a crash the records are gone.
    fs.crash();
    expect(await ns(path)).toEqual([]);
  });

  it('a failing periodic fsync (interval mode) reaches the next flush() and close(), not only the log', async () => {
    const path = join(await dirs.make(), 's.ndjson');
    const fs = new FaultyFs({ seed: 7, faults: [{ op: 'fsync', nth: 2, code: 'EIO' }] });
    const errors: string[] = [];
    const logger: Logger = {
      child: () => logger,
      trace() {},
      debug() {},
      info() {},
      warn() {},
      error: (_o: unknown, msg?: string) => void errors.push(msg ?? ''),
      fatal() {},
    } as unknown as Logger;
    const backend = new NdjsonBackend({ path, fsync: 'interval', fsyncIntervalMs: 20, fs, logger });
    for (let n = 0; n < 5; n++) await backend.recordEvent(event(n));
    for (let waited = 0; !errors.includes('periodic fsync failed') && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(errors).toContain('periodic fsync failed');
    expect(await codeOf(() => backend.flush())).toBe('PAPYRA_IO');
    expect(await codeOf(() => backend.close())).toBe('PAPYRA_IO');
  });

  it("with 'always', a refused batch cut off the file leaves nothing lost: later appends and flush() resolve", async () => {
    const path = join(await dirs.make(), 's.ndjson');
    const fs = new FaultyFs({ seed: 3, faults: [{ op: 'fsync', nth: 3, code: 'EIO' }] });
    const backend = new NdjsonBackend({ path, fsync: 'always', fs });
    await backend.recordEvent(event(0));
    expect(await codeOf(() => backend.recordEvent(event(1)))).toBe('PAPYRA_IO');
    await backend.recordEvent(event(2));
    await backend.flush();
    await backend.close();
    expect(await ns(path)).toEqual([0, 2]);
  });
});

describe('the directory fsync of a new file', () => {
  it('goes to the directory of the target when the path is a dangling symbolic link', async () => {
    const root = await dirs.make();
    await mkdir(join(root, 'links'));
    await mkdir(join(root, 'data'));
    await symlink(join(root, 'data/store.ndjson'), join(root, 'links/store.ndjson'));
    const dirFds = new Map<number, string>();
    const synced: string[] = [];
    const fs: SegmentFs = {
      ...nodeSegmentFs,
      openSync(path, flags, mode) {
        const fd = nodeSegmentFs.openSync(path, flags, mode);
        if (flags === 0) dirFds.set(fd, path);
        return fd;
      },
      fsyncSync(fd) {
        if (dirFds.has(fd)) synced.push(dirFds.get(fd)!);
        nodeSegmentFs.fsyncSync(fd);
      },
    };
    const backend = new NdjsonBackend({ path: join(root, 'links/store.ndjson'), fsync: 'always', fs });
    await backend.recordEvent(event(1));
    await backend.close();
    expect(existsSync(join(root, 'data/store.ndjson'))).toBe(true);
    expect(synced).toEqual([join(await realpath(root), 'data')]);
  });
});

describe('the lock name of earlier versions', () => {
  it('a file at <store>.lock that is not a holder record is left alone; a stale old lock is still removed', async () => {
    const dir = await dirs.make();
    const other = new NdjsonBackend({ path: join(dir, 'app.lock'), fsync: 'always' });
    await other.recordEvent(event(1));
    await other.close();
    await writeFile(join(dir, 'notes.lock'), 'precious user data\n');
    // An earlier version's lock taken before this machine booted: stale.
    await writeFile(join(dir, 'old.lock'), JSON.stringify({ pid: 1, host: hostname(), since: 1 }));
    for (const name of ['app', 'notes', 'old']) {
      const backend = new NdjsonBackend({ path: join(dir, name) });
      await backend.recordEvent(event(10));
      await backend.close();
    }
    expect(await ns(join(dir, 'app.lock'))).toEqual([1]);
    expect(await readFile(join(dir, 'notes.lock'), 'utf8')).toBe('precious user data\n');
    expect(existsSync(join(dir, 'old.lock'))).toBe(false);
  });
});

describe('something other than a regular file at one of our names', () => {
  const op = (path: string, what: string, quarantineDir: string) => `
    const { NdjsonBackend } = await import(${JSON.stringify(DIST)});
    const b = new NdjsonBackend({ path: ${JSON.stringify(path)} });
    let out;
    try {
      const what = ${JSON.stringify(what)};
      const r = what === 'write' ? await b.recordEvent(${JSON.stringify(event(1))}) : what === 'compact' ? await b.compact() : what === 'scan' ? await b.scan() : await b.recover({ mode: what, quarantineDir: ${JSON.stringify(quarantineDir)} });
      out = 'resolved' + (r?.anomalies ? ' ' + r.anomalies.length : r?.postScan ? ' ' + r.postScan.anomalies.length : '');
    } catch (e) { out = e.code ?? 'UNTYPED ' + e.message; }
    await b.close().catch(() => {});
    console.log(out);`;

  it('a FIFO at the lock, takeover or leftover temp name never blocks: a typed error or not ours', async () => {
    const cases: [string, string, string][] = [
      ['.s.ndjson.lock', 'write', 'PAPYRA_NOT_A_FILE'],
      ['.s.ndjson.lock', 'compact', 'PAPYRA_NOT_A_FILE'],
      ['s.ndjson.lock', 'write', 'resolved'],
      ['.s.ndjson.lock.takeover-0123456789abcdef', 'scan', 'resolved 0'],
      ['.s.ndjson.999999-abcdef.papyra-tmp', 'quarantine', 'resolved 0'],
      ['.s.ndjson.999999-abcdef.papyra-tmp', 'repair', 'resolved 0'],
    ];
    const results = await Promise.all(
      cases.map(async ([name, what]) => {
        const dir = await dirs.make();
        const path = join(dir, 's.ndjson');
        await writeFile(path, '');
        execFileSync('mkfifo', [join(dir, name)]);
        return child(op(path, what, join(dir, 'q')));
      }),
    );
    expect(results).toEqual(cases.map((c) => c[2]));
  }, 60_000);

  it('a directory at the lock name is PAPYRA_NOT_A_FILE for writes and rewrites; one appearing while held does not break close()', async () => {
    for (const what of ['write', 'compact', 'recover'] as const) {
      const dir = await dirs.make();
      const path = join(dir, 's.ndjson');
      await writeFile(path, '{"broken\n');
      await mkdir(join(dir, '.s.ndjson.lock'));
      const backend = new NdjsonBackend({ path });
      const code = await codeOf(() =>
        what === 'write' ? backend.recordEvent(event(1)) : what === 'compact' ? backend.compact() : backend.recover({ mode: 'repair' }),
      );
      expect(`${what}: ${code}`).toBe(`${what}: PAPYRA_NOT_A_FILE`);
      await backend.close();
    }
    const dir = await dirs.make();
    const backend = new NdjsonBackend({ path: join(dir, 's.ndjson') });
    await backend.recordEvent(event(1));
    await rm(join(dir, '.s.ndjson.lock'));
    await mkdir(join(dir, '.s.ndjson.lock'));
    await backend.close();
    expect(existsSync(join(dir, '.s.ndjson.lock'))).toBe(true);
  });
});

describe('a refused batch that cannot be cut off the file', () => {
  it('makes the writer refuse further appends, so a retry cannot store the refused record twice', async () => {
    const path = join(await dirs.make(), 's.ndjson');
    let syncs = 0;
    const fs: SegmentFs = {
      ...nodeSegmentFs,
      fdatasync: async (fd) => {
        if (++syncs === 2) throw eio();
        return nodeSegmentFs.fdatasync(fd);
      },
      ftruncateSync: () => {
        throw eio();
      },
    };
    const backend = new NdjsonBackend({ path, fsync: 'always', fs });
    await backend.recordEvent(event(1));
    const second = event(2);
    expect(await codeOf(() => backend.recordEvent(second))).toBe('PAPYRA_IO');
    expect(await codeOf(() => backend.recordEvent(second))).toBe('PAPYRA_IO');
    expect(await codeOf(() => backend.recordEvent(event(3)))).toBe('PAPYRA_IO');
    await backend.close().catch(() => {});
    const ids = (await ns(path)).filter((n) => n === 2);
    expect(ids.length).toBeLessThanOrEqual(1);
    expect(await ns(path)).not.toContain(3);
  });
});

describe('two instances of one store in this process', () => {
  it("a refused batch is cut off at the file's real end, not at a size another instance has moved since", async () => {
    for (const mode of ['always-fsync', 'interval-write'] as const) {
      const path = join(await dirs.make(), 's.ndjson');
      const b = new NdjsonBackend({ path, fsync: mode === 'always-fsync' ? 'always' : 'interval' });
      await b.recordEvent(event(0));
      const fault = mode === 'always-fsync' ? ({ op: 'fsync', nth: 2, code: 'EIO' } as const) : ({ op: 'write', nth: 2, code: 'ENOSPC' } as const);
      const a = new NdjsonBackend({ path, fsync: mode === 'always-fsync' ? 'always' : 'interval', fs: new FaultyFs({ seed: 1, faults: [fault] }) });
      await a.recordEvent(event(1));
      await b.recordEvent(event(2));
      await b.recordEvent(event(3));
      expect(await codeOf(() => a.recordEvent(event(4, { payload: { n: 4, pad: 'p'.repeat(300) } })))).not.toBe('');
      // Nothing A acknowledged was lost, so its close() resolves.
      await a.close();
      await b.close();
      expect(`${mode}: ${(await ns(path)).join(',')}`).toBe(`${mode}: 0,1,2,3`);
    }
  });
});

describe('close() after a failing final fsync', () => {
  it('rejects with the typed error and still closes the file descriptor', async () => {
    const path = join(await realpath(await dirs.make()), 's.ndjson');
    const openFds = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false;
        }
      }).length;
    const fs = new FaultyFs({ seed: 1, faults: [{ op: 'fsync', nth: 2, code: 'EIO' }] });
    const backend = new NdjsonBackend({ path, fsync: 'interval', fsyncIntervalMs: 3_600_000, fs });
    await backend.recordEvent(event(1));
    expect(openFds()).toBe(1);
    expect(await codeOf(() => backend.close())).toBe('PAPYRA_IO');
    expect(openFds()).toBe(0);
  });
});

describe('probe()', () => {
  it('rejects when the file is writable but its directory is not (the lock could not be created)', async () => {
    if (process.getuid?.() !== 0) {
      console.warn('SKIPPED: needs root to run a child as another user');
      return;
    }
    const dir = await dirs.make();
    await chmod(dir, 0o755);
    const path = join(dir, 's.ndjson');
    await writeFile(path, '');
    await chown(path, 65534, 65534);
    await chmod(path, 0o600);
    const script = `
      const { NdjsonBackend } = await import(${JSON.stringify(DIST)});
      const b = new NdjsonBackend({ path: ${JSON.stringify(path)} });
      const codes = [];
      try { await b.probe(); codes.push('resolved'); } catch (e) { codes.push(e.code ?? String(e)); }
      try { await b.recordEvent(${JSON.stringify(event(1))}); codes.push('written'); } catch (e) { codes.push(e.code ?? String(e)); }
      await b.close().catch(() => {});
      console.log(JSON.stringify(codes));`;
    let out: string;
    try {
      out = await child(script, { uid: 65534 });
    } catch (error) {
      console.warn(`SKIPPED probe check: cannot run a child as an unprivileged user here (${(error as Error).message})`);
      return;
    }
    expect(JSON.parse(out)).toEqual(['PAPYRA_PERMISSION_DENIED', 'PAPYRA_PERMISSION_DENIED']);
  });
});
