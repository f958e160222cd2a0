import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { PersistedEvent } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { deadPid, event, tempDirs } from './helpers.js';

// Issue 16, items 11 and 12, and the readiness probe.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const numbers = (events: readonly PersistedEvent[]) => events.map((e) => (e.payload as { n: number }).n);

/** Python Papyra's orphan rule: every file named `<base>.<suffix>` whose suffix is not a rotation number. */
async function pythonOrphans(dir: string, base: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith(`${base}.`) && !/^\d+$/.test(name.slice(base.length + 1)));
}

describe('two instances on one set in one process', () => {
  it('share one writer: no file over maxBytes, one order', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const a = new RotatingBackend({ path, maxBytes: 2000, maxFiles: 30 });
    const b = new RotatingBackend({ path, maxBytes: 2000, maxFiles: 30 });
    const writes: Promise<void>[] = [];
    for (let n = 0; n < 60; n++) {
      writes.push((n % 2 === 0 ? a : b).recordEvent(event(n)));
      if (n % 7 === 0) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    for (const file of await a.files()) expect((await stat(file)).size).toBeLessThanOrEqual(2000);
    expect(numbers(await a.listEvents())).toEqual(Array.from({ length: 60 }, (_, n) => n));
    expect(numbers(await b.listEvents({ limit: 5 }))).toEqual([55, 56, 57, 58, 59]);
    await a.close();
    // The other instance keeps writing after one closed.
    await b.recordEvent(event(60));
    expect(numbers(await b.listEvents({ limit: 2 }))).toEqual([59, 60]);
    await b.close();
  });
});

describe('quarantine into the set’s own directory', () => {
  it('finishes: the copies it leaves there are not taken for orphans', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    for (let n = 0; n < 8; n++) await backend.recordEvent(event(n));
    await backend.flush();
    await writeFile(`${path}.orphan`, 'x\n');
    const active = await readFile(path, 'utf8');
    await writeFile(path, `${active}{"kind": broken\n`);
    const first = await backend.recover({ mode: 'quarantine', quarantineDir: dir });
    expect(first.scan.anomalies.map((a) => a.type).sort()).toEqual(['CORRUPTED_LINE', 'ORPHANED_ROTATED_FILE']);
    expect(first.quarantinedFiles).toHaveLength(2);
    expect(first.postScan.anomalies).toEqual([]);
    // A second run finds nothing to do.
    const second = await backend.recover({ mode: 'quarantine', quarantineDir: dir });
    expect(second.scan.anomalies).toEqual([]);
    expect(second.quarantinedFiles).toEqual([]);
    const listed = numbers(await backend.listEvents());
    expect(listed).toEqual(Array.from({ length: 8 }, (_, n) => n).slice(-listed.length));
    await backend.close();
  });
});

describe('the names of our own files', () => {
  it('never look like set members to a rotating scan, and the names of earlier versions are still ours', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3, retention: { maxRecords: 4 } });
    for (let n = 0; n < 12; n++) await backend.recordEvent(event(n));
    // While the writer holds its lock.
    expect(await pythonOrphans(dir, 'store.ndjson')).toEqual([]);
    // Leftovers of an interrupted rewrite, in the current and in the earlier naming.
    const leftovers = [join(dir, `.store.ndjson.1.${deadPid()}-abcdef.papyra-tmp`), `${path}.papyra-tmp-${deadPid()}-abcdef`];
    for (const leftover of leftovers) await writeFile(leftover, 'half a rewrite');
    expect((await backend.scan()).anomalies.map((a) => [a.type, a.path]).sort()).toEqual(leftovers.sort().map((p) => ['UNEXPECTED_FILE', p]));
    await backend.recover({ mode: 'repair' });
    // After a compaction that committed a journal.
    expect((await backend.compact()).removedRecords).toBeGreaterThan(0);
    await backend.recordEvent(event(12));
    expect(await pythonOrphans(dir, 'store.ndjson')).toEqual([]);
    expect((await backend.scan()).anomalies).toEqual([]);
    await backend.close();
  });
});

describe('probe', () => {
  it('checks the active file or the directory it will be created in, and refuses what cannot be written', async () => {
    const dir = await dirs.make();
    const fresh = new RotatingBackend({ path: join(dir, 'not-yet', 'store.ndjson'), maxBytes: 800, maxFiles: 3 });
    await expect(fresh.probe()).resolves.toBeUndefined();
    await fresh.close();
    await expect(fresh.probe()).rejects.toMatchObject({ code: 'PAPYRA_BACKEND_CLOSED' });

    const path = join(dir, 'store.ndjson');
    const backend = new RotatingBackend({ path, maxBytes: 800, maxFiles: 3 });
    await backend.recordEvent(event(1));
    await expect(backend.probe({ timeoutMs: 10_000 })).resolves.toBeUndefined();
    await expect(backend.probe({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'PAPYRA_ABORTED' });
    await backend.close();

    // A directory where the active file should be.
    const blocked = join(dir, 'blocked');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(blocked, 'store.ndjson'), { recursive: true }));
    const wrong = new RotatingBackend({ path: join(blocked, 'store.ndjson'), maxBytes: 800, maxFiles: 3 });
    await expect(wrong.probe()).rejects.toMatchObject({ code: 'PAPYRA_NOT_A_FILE' });
    await wrong.close();
  });
});
