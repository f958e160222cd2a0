import { cp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { RECORD_KINDS, storeStats } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { tempDirs } from './helpers.js';

// Issue 16, item 11: `metrics persistence` reported bytes that retention does not use (compacting
// the Python fixture to the reported size removed 5 of its 17 records). The set's statistics now
// count each line as stored, as retention does.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/papyra-py/rotating');

describe('statistics of the set', () => {
  it('report the bytes retention counts: compacting to a reported size keeps every record of that kind', async () => {
    const dir = await dirs.make();
    await cp(fixtures, dir, { recursive: true });
    const path = join(dir, 'system.ndjson');
    const reader = new RotatingBackend({ path, maxBytes: 600, maxFiles: 3 });
    const stats = await storeStats(reader);
    await reader.close();
    expect(stats.total.records).toBe(17);
    for (const kind of RECORD_KINDS) {
      for (const [limit, removed] of [
        [stats.kinds[kind].bytes, 0],
        [stats.kinds[kind].bytes - 1, 1],
      ] as const) {
        const copy = await dirs.make();
        await cp(fixtures, copy, { recursive: true });
        const backend = new RotatingBackend({ path: join(copy, 'system.ndjson'), maxBytes: 600, maxFiles: 3, retention: { maxTotalBytes: limit } });
        const listed = kind === 'event' ? await backend.listEvents() : kind === 'audit' ? await backend.listAudits() : await backend.listDeadLetters();
        expect(listed.length).toBe(stats.kinds[kind].records - removed);
        expect((await backend.stats()).kinds[kind].records).toBe(stats.kinds[kind].records - removed);
        await backend.compact();
        expect((await backend.stats()).kinds[kind].records).toBe(stats.kinds[kind].records - removed);
        await backend.close();
      }
    }
  });
});
