import type { RecordKind } from '@papyra/persistence-contract';
import type { LineReadOptions, SegmentSource } from './lines.js';
import { forEachLine } from './lines.js';
import { DEFAULT_MAX_LINE_BYTES } from './lines.js';
import { classifyLine } from './scanner.js';

export interface KindStatistics {
  records: number;
  /** The records' lines on disk including `\n`: the bytes `maxTotalBytes` retention counts. */
  bytes: number;
  /** Oldest and newest timestamp (epoch ms), null without records. */
  oldest: number | null;
  newest: number | null;
}

export interface StoreStatistics {
  byKind: Record<RecordKind, KindStatistics>;
  total: KindStatistics;
  /** Lines that are not records (what scan reports and lists skip). */
  damagedLines: number;
  /** Bytes of the files read. */
  fileBytes: number;
}

const empty = (): KindStatistics => ({ records: 0, bytes: 0, oldest: null, newest: null });

function add(stats: KindStatistics, timestamp: number, bytes: number): void {
  stats.records += 1;
  stats.bytes += bytes;
  if (stats.oldest === null || timestamp < stats.oldest) stats.oldest = timestamp;
  if (stats.newest === null || timestamp > stats.newest) stats.newest = timestamp;
}

/**
 * Counts the records of files read as one log, per kind, in one streaming pass with bounded
 * memory. Bytes are counted as retention counts them (each record's line as stored, with its
 * `\n`), so compacting with `maxTotalBytes` equal to a kind's `bytes` keeps every record of it.
 */
export async function collectStatistics(sources: readonly SegmentSource[], options: LineReadOptions = {}): Promise<StoreStatistics> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const byKind: Record<RecordKind, KindStatistics> = { event: empty(), audit: empty(), dead_letter: empty() };
  const total = empty();
  let damagedLines = 0;
  let fileBytes = 0;
  for (const source of sources) {
    const read = await forEachLine(
      source,
      (raw) => {
        const verdict = classifyLine(raw, max);
        if (!verdict.ok) {
          damagedLines += 1;
          return;
        }
        const { kind, timestamp } = verdict.record;
        add(byKind[kind], timestamp, raw.length + 1);
        add(total, timestamp, raw.length + 1);
      },
      options,
    );
    fileBytes += read.bytes;
  }
  return { byKind, total, damagedLines, fileBytes };
}
