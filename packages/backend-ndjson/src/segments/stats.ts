import type { RecordKind, RetentionPolicy } from '@papyra/persistence-contract';
import { forEachLine, type SegmentSource } from './lines.js';
import { classifyLine } from './scanner.js';

export interface KindStatistics {
  records: number;
  /** The records' lines as stored, with one `\n` each: the bytes `maxTotalBytes` retention counts. */
  bytes: number;
  /** Oldest and newest timestamp (epoch ms), null without records. */
  oldest: number | null;
  newest: number | null;
}

export interface StoreStatistics {
  kinds: Record<RecordKind, KindStatistics>;
  /** Lines that are not records (what scan reports and lists skip). */
  damagedLines: number;
}

export interface StatisticsOptions {
  /** The backend's normalized retention policy: statistics count what lists show. */
  retention: RetentionPolicy;
  /** The wall-clock time that age retention counts from. */
  now: number;
  maxLineBytes: number;
  signal?: AbortSignal;
}

const empty = (): KindStatistics => ({ records: 0, bytes: 0, oldest: null, newest: null });
const perKind = <T>(make: () => T): Record<RecordKind, T> => ({ event: make(), audit: make(), dead_letter: make() });

/**
 * Counts the visible records of files read as one log (retention applied, damaged lines skipped
 * and counted), per kind, streaming with bounded memory: one pass, or two when `maxRecords` or
 * `maxTotalBytes` is set (the first totals what age keeps, so the second knows how many of the
 * oldest records retention hides). Bytes are counted as retention counts them, so compacting with
 * `maxTotalBytes` equal to a kind's `bytes` keeps every record of it.
 */
export async function collectStatistics(sources: readonly SegmentSource[], options: StatisticsOptions): Promise<StoreStatistics> {
  const { retention, now, maxLineBytes, signal } = options;
  const ageCutoff = retention.maxAgeMs === undefined ? -Infinity : now - retention.maxAgeMs;
  const each = async (visit: (kind: RecordKind, timestamp: number, bytes: number) => void, damaged: () => void = () => {}) => {
    for (const source of sources) {
      await forEachLine(
        source,
        (raw) => {
          const verdict = classifyLine(raw, maxLineBytes);
          if (!verdict.ok) return damaged();
          if (verdict.record.timestamp >= ageCutoff) visit(verdict.record.kind, verdict.record.timestamp, raw.length + 1);
        },
        { maxLineBytes, ...(signal && { signal }) },
      );
    }
  };
  // What age keeps, per kind, that count and byte retention may still hide from the oldest end.
  const left = perKind(() => ({ records: 0, bytes: 0 }));
  const budgeted = retention.maxRecords !== undefined || retention.maxTotalBytes !== undefined;
  if (budgeted) {
    await each((kind, _, bytes) => {
      left[kind].records += 1;
      left[kind].bytes += bytes;
    });
  }
  const over = (kind: RecordKind) =>
    budgeted && ((retention.maxRecords !== undefined && left[kind].records > retention.maxRecords) || (retention.maxTotalBytes !== undefined && left[kind].bytes > retention.maxTotalBytes));
  const kinds = perKind(empty);
  let damagedLines = 0;
  await each(
    (kind, timestamp, bytes) => {
      // Retention keeps the newest records that fit: hide the oldest while the rest is over a limit.
      if (over(kind)) {
        left[kind].records -= 1;
        left[kind].bytes -= bytes;
        return;
      }
      const k = kinds[kind];
      k.records += 1;
      k.bytes += bytes;
      if (k.oldest === null || timestamp < k.oldest) k.oldest = timestamp;
      if (k.newest === null || timestamp > k.newest) k.newest = timestamp;
    },
    () => void (damagedLines += 1),
  );
  return { kinds, damagedLines };
}
