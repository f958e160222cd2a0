import { copyFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  RECORD_KINDS,
  encodeRecord,
  encodedSize,
  retainedMask,
  type PersistedRecord,
  type RecordKind,
  type RetentionPolicy,
} from '@papyra/persistence-contract';
import { compactSegment } from '../src/segments/repair.js';
import { forEachRecord } from '../src/segments/scanner.js';
import { collectStatistics } from '../src/segments/stats.js';
import { audit, deadLetter, event, tempDirs } from './helpers.js';

// Issue 16, item 11: store statistics count bytes as retention does, so compacting to a reported
// size keeps what was reported. Python Papyra writes `{"kind": "event", …}` with spaces: its lines
// are longer than our encoding of the same records, which is what the CLI used to report.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const fixture = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/papyra-py/system.ndjson');
const MAX = 16 * 1024 * 1024;

describe('store statistics', () => {
  it('count each record’s line as stored, the unit of maxTotalBytes', async () => {
    const stats = await collectStatistics([fixture], { retention: {}, now: Date.now(), maxLineBytes: MAX });
    let reencoded = 0;
    await forEachRecord(fixture, (record) => void (reencoded += encodedSize(record)));
    const total = RECORD_KINDS.reduce((sum, kind) => sum + stats.kinds[kind].bytes, 0);
    expect(total).toBeGreaterThan(reencoded);
    expect(stats.damagedLines).toBe(0);
    const largest = RECORD_KINDS.reduce((a, b) => (stats.kinds[a].bytes >= stats.kinds[b].bytes ? a : b));
    const dir = await dirs.make();
    for (const [limit, removed] of [
      [stats.kinds[largest].bytes, 0],
      [stats.kinds[largest].bytes - 1, 1],
    ] as const) {
      const copy = join(dir, `copy-${limit}.ndjson`);
      await copyFile(fixture, copy);
      const result = await compactSegment(copy, { maxTotalBytes: limit }, Date.now());
      expect(result.beforeRecords - result.afterRecords).toBe(removed);
    }
  });

  it('count what lists show: retention applied as retainedMask applies it, damaged lines counted apart', async () => {
    const now = 1_700_000_000_000 + 1000;
    const records: PersistedRecord[] = Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? audit(i) : i % 7 === 0 ? deadLetter(i) : event(i)));
    const path = join(await dirs.make(), 'store.ndjson');
    await writeFile(path, `${records.map(encodeRecord).join('\n')}\nnot json\n`);
    const policies: RetentionPolicy[] = [
      {},
      { maxAgeMs: 500 },
      { maxRecords: 17 },
      { maxTotalBytes: 5000 },
      { maxAgeMs: 800, maxRecords: 50, maxTotalBytes: 9000 },
    ];
    for (const retention of policies) {
      const stats = await collectStatistics([path], { retention, now, maxLineBytes: MAX });
      const mask = retainedMask(
        records.map((r) => ({ kind: r.kind, timestamp: r.timestamp, bytes: encodedSize(r) })),
        retention,
        now,
      );
      const kept = records.filter((_, i) => mask[i]);
      const expected = (kind: RecordKind) => {
        const of = kept.filter((r) => r.kind === kind);
        return {
          records: of.length,
          bytes: of.reduce((s, r) => s + encodedSize(r), 0),
          oldest: of[0]?.timestamp ?? null,
          newest: of.at(-1)?.timestamp ?? null,
        };
      };
      expect({ retention, kinds: stats.kinds }).toEqual({
        retention,
        kinds: { event: expected('event'), audit: expected('audit'), dead_letter: expected('dead_letter') },
      });
      expect(stats.damagedLines).toBe(1);
    }
  });
});
