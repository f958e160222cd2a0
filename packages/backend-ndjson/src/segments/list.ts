import { applyListQuery, type ListQuery, type PersistedRecord, type RecordKind, type RetentionPolicy } from '@papyra/persistence-contract';
import { forEachLineBackward, type SegmentSource } from './lines.js';
import { RetentionGate } from './retention-gate.js';
import { classifyLine, forEachRecord } from './scanner.js';

/**
 * How many consecutive records stamped before a `limit` read's time cutoff end the read (see
 * `ListRecordsOptions.staleWindow`).
 */
export const DEFAULT_STALE_WINDOW = 10_000;

export interface ListRecordsOptions {
  /** The backend's normalized retention policy. */
  retention: RetentionPolicy;
  /** The wall-clock time that age retention counts from. */
  now: number;
  maxLineBytes: number;
  /**
   * A `limit` read with a time cutoff (`since`, or age retention) reads backwards and stops after
   * this many consecutive records (of any kind) stamped before the cutoff: records are appended
   * in roughly increasing time, so older records have started to dominate. Clock skew: a record
   * stamped at or after the cutoff that has more than this many older-stamped records appended
   * after it is not seen by a `limit` read (an unlimited list still returns it). Default 10,000.
   */
  staleWindow?: number;
  /** Read chunk size (tests force small chunks). */
  chunkBytes?: number;
}

/**
 * Lists the records of one kind in files read as one log (oldest file first), applying retention
 * and a normalized list query exactly as the contract helpers do on the whole log. A query with a
 * limit reads backwards from the newest record and stops early, holding at most `limit` records.
 */
export function listRecords<T extends PersistedRecord>(files: readonly SegmentSource[], kind: RecordKind, q: ListQuery, options: ListRecordsOptions): Promise<T[]> {
  return q.limit === undefined ? listAll<T>(files, kind, q, options) : listNewest<T>(files, kind, q, q.limit, options);
}

/**
 * Streams every file forwards, deciding retention on the way (`RetentionGate`: a second pass when
 * a count or byte limit is set); holds only the records it returns.
 */
async function listAll<T extends PersistedRecord>(files: readonly SegmentSource[], kind: RecordKind, q: ListQuery, options: ListRecordsOptions): Promise<T[]> {
  const { maxLineBytes, chunkBytes } = options;
  const read = { maxLineBytes, ...(chunkBytes !== undefined && { chunkBytes }) };
  const gate = new RetentionGate(options.retention, options.now);
  const since = q.since ?? -Infinity;
  if (gate.counting) {
    for (const file of files) {
      await forEachRecord(
        file,
        (record, raw) => {
          if (record.kind === kind) gate.count(kind, record.timestamp, raw.length + 1);
        },
        read,
      );
    }
  }
  const records: T[] = [];
  for (const file of files) {
    await forEachRecord(
      file,
      (record, raw) => {
        if (record.kind === kind && gate.keep(kind, record.timestamp, raw.length + 1) && record.timestamp >= since) records.push(record as T);
      },
      read,
    );
  }
  return applyListQuery(records, q);
}

/**
 * Reads the newest file first, each backwards, deciding retention on the way exactly as
 * `retainedMask` does from the newest record: a record too old for `maxAgeMs` is skipped, and the
 * first one over `maxRecords` or `maxTotalBytes` ends the read (everything older is over too).
 * Only records that will be listed are held. The read also ends at `limit` listed records, or
 * after `staleWindow` consecutive records older than the time cutoff (the later of `since` and
 * the age limit), so a store with no recent record costs a window, not the file.
 */
async function listNewest<T extends PersistedRecord>(files: readonly SegmentSource[], kind: RecordKind, q: ListQuery, limit: number, options: ListRecordsOptions): Promise<T[]> {
  const { retention, now, maxLineBytes, chunkBytes } = options;
  const { maxAgeMs, maxRecords, maxTotalBytes } = retention;
  const staleWindow = options.staleWindow ?? DEFAULT_STALE_WINDOW;
  const ageCutoff = maxAgeMs === undefined ? -Infinity : now - maxAgeMs;
  const cutoff = Math.max(ageCutoff, q.since ?? -Infinity);
  const found: T[] = [];
  let keptCount = 0;
  let keptBytes = 0;
  let stale = 0;
  let done = limit === 0;
  for (const file of [...files].reverse()) {
    if (done) break;
    await forEachLineBackward(
      file,
      (raw) => {
        const verdict = classifyLine(raw, maxLineBytes);
        if (!verdict.ok) return;
        const { record } = verdict;
        if (record.timestamp < cutoff) {
          stale += 1;
          if (stale >= staleWindow) done = true;
        } else {
          stale = 0;
        }
        if (record.kind === kind && record.timestamp >= ageCutoff) {
          keptCount += 1;
          keptBytes += raw.length + 1;
          if ((maxRecords !== undefined && keptCount > maxRecords) || (maxTotalBytes !== undefined && keptBytes > maxTotalBytes)) done = true;
          else if (q.since === undefined || record.timestamp >= q.since) found.push(record as T);
          if (found.length >= limit) done = true;
        }
        return !done;
      },
      { maxLineBytes, ...(chunkBytes !== undefined && { chunkBytes }) },
    );
  }
  return q.order === 'desc' ? found : found.reverse();
}
