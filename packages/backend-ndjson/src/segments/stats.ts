import type { RecordKind, RetentionPolicy } from '@papyra/persistence-contract';
import { forEachLine, type SegmentSource } from './lines.js';
import { RetentionGate } from './retention-gate.js';
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
 * `maxTotalBytes` is set (see `RetentionGate`). Bytes are counted as retention counts them, so
 * compacting with `maxTotalBytes` equal to a kind's `bytes` keeps every record of it.
 */
export async function collectStatistics(sources: readonly SegmentSource[], options: StatisticsOptions): Promise<StoreStatistics> {
  const { maxLineBytes, signal } = options;
  const gate = new RetentionGate(options.retention, options.now);
  const kinds = perKind(empty);
  let damagedLines = 0;
  const pass = async (visit: (kind: RecordKind, timestamp: number, bytes: number) => void, damaged: () => void) => {
    for (const source of sources) {
      await forEachLine(
        source,
        (raw) => {
          const verdict = classifyLine(raw, maxLineBytes);
          if (verdict.ok) visit(verdict.record.kind, verdict.record.timestamp, raw.length + 1);
          else damaged();
        },
        { maxLineBytes, ...(signal && { signal }) },
      );
    }
  };
  if (gate.counting)
    await pass(
      (kind, timestamp, bytes) => gate.count(kind, timestamp, bytes),
      () => {},
    );
  await pass(
    (kind, timestamp, bytes) => {
      if (!gate.keep(kind, timestamp, bytes)) return;
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
