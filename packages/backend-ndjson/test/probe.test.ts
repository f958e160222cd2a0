import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PapyraError } from '@papyra/persistence-contract';
import { NdjsonBackend } from '../src/index.js';
import { bounded } from '../src/probe.js';
import { codeOf, event, tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('probe', () => {
  it('resolves for a writable file, and for a file not written yet without creating anything', async () => {
    const dir = await dirs.make();
    const missing = new NdjsonBackend({ path: join(dir, 'a', 'b', 'store.ndjson') });
    await missing.probe();
    expect(await readdir(dir)).toEqual([]);
    await missing.recordEvent(event(1));
    await missing.probe({ timeoutMs: 10_000 });
    await missing.close();
    // Through a dangling link: the target's directory is what gets checked.
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real', 'target.ndjson'), join(dir, 'link.ndjson'));
    await new NdjsonBackend({ path: join(dir, 'link.ndjson') }).probe();
  });

  it('rejects a directory or a file in the way with PAPYRA_NOT_A_FILE, bad options and aborts with their codes', async () => {
    const dir = await dirs.make();
    await mkdir(join(dir, 'store.ndjson'));
    await writeFile(join(dir, 'file'), 'x');
    expect(await codeOf(() => new NdjsonBackend({ path: join(dir, 'store.ndjson') }).probe())).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => new NdjsonBackend({ path: join(dir, 'file', 'store.ndjson') }).probe())).toBe('PAPYRA_NOT_A_FILE');
    const backend = new NdjsonBackend({ path: join(dir, 'ok.ndjson') });
    expect(await codeOf(() => backend.probe({ timeoutMs: 0 }))).toBe('PAPYRA_INVALID_ARGUMENT');
    expect(await codeOf(() => backend.probe({ signal: AbortSignal.abort() }))).toBe('PAPYRA_ABORTED');
    await backend.close();
    expect(await codeOf(() => backend.probe())).toBe('PAPYRA_BACKEND_CLOSED');
  });

  it('a file system that does not answer in time is PAPYRA_BACKEND_UNAVAILABLE', async () => {
    const hung = new Promise<void>(() => {});
    const unavailable = () => new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', 'no answer');
    expect(await codeOf(() => bounded(hung, 20, undefined, unavailable))).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    expect(await codeOf(() => bounded(hung, 60_000, controller.signal, unavailable))).toBe('PAPYRA_ABORTED');
  });

  it('a file or directory this user may not write is PAPYRA_PERMISSION_DENIED', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await writeFile(path, '');
    await chmod(path, 0o600);
    await chmod(dir, 0o755);
    if (process.getuid?.() !== 0) {
      await chmod(path, 0o400);
      expect(await codeOf(() => new NdjsonBackend({ path }).probe())).toBe('PAPYRA_PERMISSION_DENIED');
      return;
    }
    // Root may write anything, so the check runs in a child process as an unprivileged user.
    const script = `
      const { NdjsonBackend } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const codes = [];
      for (const path of ${JSON.stringify([path, join(dir, 'new.ndjson')])}) {
        try { await new NdjsonBackend({ path }).probe(); codes.push('resolved'); } catch (e) { codes.push(e.code ?? String(e)); }
      }
      console.log(JSON.stringify(codes));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    if (child.error || child.status !== 0) {
      console.warn(`SKIPPED probe permission check: cannot run a child as an unprivileged user here (${child.error?.message ?? child.stderr})`);
      return;
    }
    expect(JSON.parse(child.stdout)).toEqual(['PAPYRA_PERMISSION_DENIED', 'PAPYRA_PERMISSION_DENIED']);
  });
});
