import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '../src/index.js';
import { legacyLockPathFor, lockPathFor, ownFileKind, parseTempName, takeoverPathFor, tempPathFor } from '../src/segments/index.js';
import { event, tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/**
 * Python Papyra's rotating scan: a file named `<base>.<suffix>` whose suffix is not a rotation
 * number is an ORPHANED_ROTATED_FILE (its doctor then exits 1).
 */
function pythonOrphans(names: readonly string[], base: string): string[] {
  return names.filter((name) => name.startsWith(`${base}.`) && !/^\d+$/.test(name.slice(base.length + 1)));
}

describe('names of our files beside a store', () => {
  it('never look like orphans of a rotation set to Python Papyra, through writes, a held lock, compaction and recovery', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    const seen = new Set<string>();
    const look = async () => (await readdir(dir)).forEach((name) => seen.add(name));
    const backend = new NdjsonBackend({ path, fsync: 'always', retention: { maxRecords: 2 } });
    for (let i = 0; i < 5; i++) await backend.recordEvent(event(i));
    await look();
    await backend.compact({ onProgress: () => void look() });
    await backend.recover({ mode: 'quarantine', quarantineDir: join(dir, 'q') });
    await look();
    await backend.close();
    for (const made of [tempPathFor(path), lockPathFor(path), tempPathFor(lockPathFor(path)), takeoverPathFor(lockPathFor(path), '0123456789abcdef')])
      seen.add(basename(made));
    expect(pythonOrphans([...seen], 'store.ndjson')).toEqual([]);
    expect(seen.has('.store.ndjson.lock')).toBe(true);
  });

  it('are recognised as ours, new and old, and nothing else is', () => {
    const base = 'store.ndjson';
    const kinds = (names: string[]) => names.map((name) => ownFileKind(name, base));
    expect(kinds(['.store.ndjson.lock', 'store.ndjson.lock', basename(tempPathFor(`/d/${base}`)), basename(tempPathFor(lockPathFor(`/d/${base}`)))])).toEqual([
      'lock',
      'legacy-lock',
      'temp',
      'temp',
    ]);
    expect(kinds(['store.ndjson.papyra-tmp-12-abcdef', 'store.ndjson.lock.papyra-tmp-12-abcdef', '.store.ndjson.lock.takeover-0123456789abcdef'])).toEqual([
      'temp',
      'temp',
      'takeover',
    ]);
    expect(kinds(['store.ndjson', 'store.ndjson.1', 'other.ndjson.lock', '.other.ndjson.12-ab.papyra-tmp', 'store.ndjson.takeover-0123456789abcdef'])).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(legacyLockPathFor('/d/store.ndjson')).toBe('/d/store.ndjson.lock');
  });

  it('parse one way only, also beside a hidden data file', () => {
    expect(parseTempName('.x.12-ab.papyra-tmp')).toEqual({ target: 'x', pid: 12 });
    expect(parseTempName('.x.papyra-tmp-12-ab')).toEqual({ target: '.x', pid: 12 });
    expect(parseTempName(basename(tempPathFor('/d/.hidden')))).toEqual({ target: '.hidden', pid: process.pid });
  });
});
