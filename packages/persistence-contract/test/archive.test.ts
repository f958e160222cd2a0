import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAudit, createDeadLetter, createEvent, type PersistedRecord, type PersistenceBackend } from '../src/index.js';
import { diffSources, exportArchive, importArchive, migrateStore, verifyArchive } from '../src/archive/index.js';
import { Disk, LineStoreBackend } from './support/line-store.js';

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'papyra-archive-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const disk = new Disk();
let n = 0;
const store = () => new LineStoreBackend({ disk, path: `store-${++n}` });

async function filled(count: number): Promise<LineStoreBackend> {
  const backend = store();
  const start = 1_700_000_000_000;
  for (let i = 0; i < count; i++) {
    const timestamp = start + i;
    if (i % 3 === 0)
      await backend.recordEvent(createEvent({ systemId: 's', actorAddress: `s:${i % 7}`, eventType: 'ActorStarted', payload: { i }, timestamp }));
    if (i % 3 === 1) await backend.recordDeadLetter(createDeadLetter({ systemId: 's', target: `s:${i}`, messageType: 'Ping', payload: i, timestamp }));
    if (i % 3 === 2)
      await backend.recordAudit(
        createAudit({
          systemId: 's',
          totalActors: i,
          aliveActors: i,
          stoppingActors: 0,
          restartingActors: 0,
          registrySize: i,
          registryOrphans: [],
          registryDead: [],
          deadLettersCount: 0,
          timestamp,
        }),
      );
  }
  return backend;
}

const storeText = (b: LineStoreBackend) => disk.files.get(b.path) ?? '';

describe('archive: export, verify, import, migrate, diff', () => {
  it('round-trips a store through an archive into an identical store', async () => {
    const source = await filled(300);
    const dir = join(await tempDir(), 'archive');
    const manifest = await exportArchive(source, dir, { source: { backend: 'line-store', url: 'redis://user:secret@host:6379' } });
    expect(manifest.totals.records).toBe(300);
    expect(manifest.files['events.ndjson']).toMatchObject({ kind: 'event', records: 100 });
    expect(JSON.stringify(manifest.source)).not.toContain('secret');
    expect((await readdir(dir)).sort()).toEqual(['audits.ndjson', 'dead_letters.ndjson', 'events.ndjson', 'manifest.json', 'manifest.json.sha256']);
    expect(await verifyArchive(dir)).toMatchObject({ ok: true, records: 300, problems: [] });

    const target = store();
    const report = await importArchive(dir, target);
    expect(report).toMatchObject({ written: 300, skipped: 0, byKind: { event: 100, audit: 100, dead_letter: 100 } });
    expect(storeText(target)).toBe(storeText(source)); // one timestamp order across kinds, bytes as stored
    expect(await diffSources(source, target)).toMatchObject({ equal: true, differences: 0 });
    expect(await diffSources(source, { archive: dir })).toMatchObject({ equal: true });
  });

  it('any single changed byte makes verify fail', async () => {
    const dir = join(await tempDir(), 'archive');
    await exportArchive(await filled(30), dir);
    const file = join(dir, 'events.ndjson');
    const original = await readFile(file);
    for (const at of [0, 17, Math.floor(original.length / 2), original.length - 2]) {
      const copy = Buffer.from(original);
      copy[at] = copy[at]! ^ 0x01;
      await writeFile(file, copy);
      const result = await verifyArchive(dir);
      expect(result.ok).toBe(false);
      expect(result.problems.some((p) => p.file === 'events.ndjson')).toBe(true);
    }
    await writeFile(file, original);
    expect((await verifyArchive(dir)).ok).toBe(true);
    await writeFile(join(dir, 'manifest.json'), (await readFile(join(dir, 'manifest.json'), 'utf8')).replace('"records": 10', '"records": 11'));
    expect((await verifyArchive(dir)).ok).toBe(false);
  });

  it('any changed byte of the manifest or its digest makes verify fail, never a crash', async () => {
    const dir = join(await tempDir(), 'archive');
    await exportArchive(await filled(30), dir);
    for (const name of ['manifest.json', 'manifest.json.sha256']) {
      const file = join(dir, name);
      const original = await readFile(file);
      for (let at = 0; at < original.length; at += Math.max(1, Math.floor(original.length / 150))) {
        const copy = Buffer.from(original);
        copy[at] = copy[at]! ^ 0x01;
        await writeFile(file, copy);
        const result = await verifyArchive(dir).catch((error: { code?: string }) => ({ ok: false, code: error.code }));
        expect({ name, at, ok: result.ok }).toEqual({ name, at, ok: false });
      }
      await writeFile(file, original);
    }
    expect((await verifyArchive(dir)).ok).toBe(true);
  });

  it('refuses to import a damaged archive and writes nothing', async () => {
    const dir = join(await tempDir(), 'archive');
    await exportArchive(await filled(30), dir);
    await writeFile(join(dir, 'audits.ndjson'), 'garbage\n', { flag: 'a' });
    const target = store();
    await expect(importArchive(dir, target)).rejects.toMatchObject({ code: 'PAPYRA_ARCHIVE_DAMAGED' });
    expect(storeText(target)).toBe('');
  });

  it('imports twice with a journal without duplicating; --dry-run writes nothing', async () => {
    const dir = join(await tempDir(), 'archive');
    await exportArchive(await filled(90), dir);
    const journal = join(await tempDir(), 'import.journal');
    const target = store();
    expect(await importArchive(dir, target, { dryRun: true, journal })).toMatchObject({ dryRun: true, written: 90 });
    expect(storeText(target)).toBe('');
    expect(await importArchive(dir, target, { journal, batchSize: 7 })).toMatchObject({ written: 90 });
    expect(await importArchive(dir, target, { journal })).toMatchObject({ written: 0, skipped: 90 });
    expect(storeText(target).split('\n').filter(Boolean)).toHaveLength(90);
  });

  it('resumes after being killed mid-batch: nothing lost, nothing duplicated', async () => {
    const source = await filled(200);
    const dir = join(await tempDir(), 'archive');
    await exportArchive(source, dir);
    const journal = join(await tempDir(), 'import.journal');
    const target = store();
    // The "kill": the target dies after 123 writes, between two checkpoints of 50.
    let writes = 0;
    const dying = new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof value !== 'function') return value;
        if (typeof key === 'string' && key.startsWith('record')) {
          return (r: PersistedRecord) => {
            if (++writes > 123) throw new Error('killed');
            return value.call(t, r);
          };
        }
        return value.bind(t);
      },
    }) as PersistenceBackend;
    await expect(importArchive(dir, dying, { journal, batchSize: 50 })).rejects.toThrow('killed');
    const resumed = await importArchive(dir, target, { journal, batchSize: 50 });
    expect(resumed).toMatchObject({ skipped: 100, alreadyPresent: 23, written: 77 });
    expect(await diffSources(source, target)).toMatchObject({ equal: true });
  });

  it('without a journal, reads its progress from the target: a second run writes nothing, a killed run resumes', async () => {
    const source = await filled(120);
    const dir = join(await tempDir(), 'archive');
    await exportArchive(source, dir);
    const target = store();
    expect(await importArchive(dir, target)).toMatchObject({ written: 120 });
    expect(await importArchive(dir, target)).toMatchObject({ written: 0, skipped: 120 });
    let writes = 0;
    const target2 = store();
    const dying = new Proxy(target2, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof value !== 'function') return value;
        if (typeof key === 'string' && key.startsWith('record'))
          return (r: PersistedRecord) => (++writes > 45 ? Promise.reject(new Error('killed')) : value.call(t, r));
        return value.bind(t);
      },
    }) as PersistenceBackend;
    await expect(importArchive(dir, dying, { batchSize: 10 })).rejects.toThrow('killed');
    await importArchive(dir, target2, { batchSize: 10 });
    expect(await diffSources(source, target2)).toMatchObject({ equal: true });
  });

  it("sends a batch's writes together, not one at a time", async () => {
    const source = await filled(60);
    const target = store();
    let inFlight = 0;
    let most = 0;
    const counting = new Proxy(target, {
      get(t, key, receiver) {
        const value = Reflect.get(t, key, receiver);
        if (typeof value !== 'function') return value;
        if (typeof key === 'string' && key.startsWith('record')) {
          return async (r: PersistedRecord) => {
            most = Math.max(most, ++inFlight);
            await new Promise((resolve) => setTimeout(resolve, 1));
            inFlight -= 1;
            return value.call(t, r);
          };
        }
        return value.bind(t);
      },
    }) as PersistenceBackend;
    await migrateStore(source, counting, { batchSize: 20 });
    expect(most).toBe(20);
    expect(await diffSources(source, target)).toMatchObject({ equal: true });
  });

  it('migrates store to store, and diff names the first differences', async () => {
    const source = await filled(60);
    const target = store();
    expect(await migrateStore(source, target)).toMatchObject({ written: 60 });
    expect((await diffSources(source, target)).equal).toBe(true);
    await target.recordEvent(createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'Extra', timestamp: 1_800_000_000_000 }));
    const diff = await diffSources(source, target);
    expect(diff).toMatchObject({ equal: false, differences: 1, first: [{ kind: 'event', reason: 'only-right' }] });
  });

  it("exports Python Papyra's own file (no ids) and re-imports it idempotently", async () => {
    const python = await readFile(new URL('../../../fixtures/papyra-py/system.ndjson', import.meta.url), 'utf8');
    const source = store();
    disk.files.set(source.path, python);
    const dir = join(await tempDir(), 'archive');
    const manifest = await exportArchive(source, dir);
    expect(manifest.totals.records).toBeGreaterThan(0);
    expect(await readFile(join(dir, 'events.ndjson'), 'utf8')).toContain('"actor_address": {"system": "local"'); // bytes as Python wrote them
    const journal = join(await tempDir(), 'j');
    const target = store();
    await importArchive(dir, target, { journal });
    const ids = (await target.listEvents()).map((e) => e.id);
    expect(ids.every((id) => id !== null && id.startsWith('sha256:'))).toBe(true);
    const again = store();
    await importArchive(dir, again);
    expect((await again.listEvents()).map((e) => e.id)).toEqual(ids); // deterministic ids
  });
});
