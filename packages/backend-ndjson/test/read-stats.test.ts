import { copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { encodedSize, type RecordKind } from '@papyra/persistence-contract';
import { compactSegment } from '../src/segments/repair.js';
import { forEachRecord } from '../src/segments/scanner.js';
import { collectStatistics } from '../src/segments/stats.js';
import { tempDirs } from './helpers.js';

// Issue 16, item 11: store statistics count bytes as retention does, so compacting to a reported
// size keeps what was reported. Python Papyra writes `{"kind": "event", …}` with spaces: its lines
// are longer than our encoding of the same records, which is what the CLI used to report.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const fixture = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/papyra-py/system.ndjson');

describe('store statistics', () => {
  it('count each record’s line as stored, the unit of maxTotalBytes', async () => {
    const stats = await collectStatistics([fixture]);
    let reencoded = 0;
    await forEachRecord(fixture, (record) => void (reencoded += encodedSize(record)));
    expect(stats.total.bytes).toBeGreaterThan(reencoded);
    expect(stats.damagedLines).toBe(0);
    expect(stats.total.records).toBe(stats.byKind.event.records + stats.byKind.audit.records + stats.byKind.dead_letter.records);
    const largest = (['event', 'audit', 'dead_letter'] as RecordKind[]).reduce((a, b) => (stats.byKind[a].bytes >= stats.byKind[b].bytes ? a : b));
    const dir = await dirs.make();
    for (const [limit, removed] of [
      [stats.byKind[largest].bytes, 0],
      [stats.byKind[largest].bytes - 1, 1],
    ] as const) {
      const copy = join(dir, `copy-${limit}.ndjson`);
      await copyFile(fixture, copy);
      const result = await compactSegment(copy, { maxTotalBytes: limit }, Date.now());
      expect(result.beforeRecords - result.afterRecords).toBe(removed);
    }
  });
});
