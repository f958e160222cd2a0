import {
  RECORD_KINDS,
  type ListQuery,
  type PersistedRecord,
  type ReadOptions,
  type RecordKind,
  type RetentionPolicy,
  type StoredRecord,
} from '@papyra/persistence-contract';
import { matchesQuery } from '@papyra/persistence-contract/kit';
import { forEachLine, forEachLineBackward, type SegmentSource } from './lines.js';
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
 * and a normalized list query exactly as the contract helpers do on the whole log. `since` and the
 * filters (`actor`, `eventType`, `target`) are applied while streaming, before a record counts
 * towards `limit`. A query with a limit reads backwards from the newest record and stops early,
 * holding at most `limit` records.
 */
export function listRecords<T extends PersistedRecord>(
  files: readonly SegmentSource[],
  kind: RecordKind,
  q: ListQuery,
  options: ListRecordsOptions,
): Promise<T[]> {
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
        if (record.kind === kind && gate.keep(kind, record.timestamp, raw.length + 1) && matchesQuery(record, q)) records.push(record as T);
      },
      read,
    );
  }
  return q.order === 'desc' ? records.reverse() : records;
}

/**
 * Reads the newest file first, each backwards, deciding retention on the way exactly as
 * `retainedMask` does from the newest record: a record too old for `maxAgeMs` is skipped, and the
 * first one over `maxRecords` or `maxTotalBytes` ends the read (everything older is over too).
 * Only records that will be listed are held: a record the query's filters reject counts for
 * retention and for the stale window, not towards `limit`. The read also ends at `limit` listed records, or
 * after `staleWindow` consecutive records older than the time cutoff (the later of `since` and
 * the age limit), so a store with no recent record costs a window, not the file.
 */
async function listNewest<T extends PersistedRecord>(
  files: readonly SegmentSource[],
  kind: RecordKind,
  q: ListQuery,
  limit: number,
  options: ListRecordsOptions,
): Promise<T[]> {
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
          else if (matchesQuery(record, q)) found.push(record as T);
          if (found.length >= limit) done = true;
        }
        return !done;
      },
      { maxLineBytes, ...(chunkBytes !== undefined && { chunkBytes }) },
    );
  }
  return q.order === 'desc' ? found : found.reverse();
}

export interface VisibleRecordsOptions {
  /** The backend's normalized retention policy. */
  retention: RetentionPolicy;
  /** The wall-clock time that age retention counts from. */
  now: number;
  maxLineBytes: number;
  /** Records held between two reads of the consumer (default 256). */
  batch?: number;
}

/**
 * Streams the visible records of files read as one log (retention applied, damaged lines skipped)
 * for `ReadOptions`: `kinds` in `RECORD_KINDS` order, each oldest first, `since <= timestamp <
 * until`, each with its line as stored. Memory stays bounded: the kinds are read one pass each
 * (after one counting pass for every kind when a count or byte limit is set, see `RetentionGate`),
 * and the reader waits while the consumer holds a batch. Stopping the iteration stops the read.
 */
export async function* visibleRecords(files: readonly SegmentSource[], window: ReadOptions, options: VisibleRecordsOptions): AsyncGenerator<StoredRecord> {
  const { maxLineBytes } = options;
  const since = window.since ?? -Infinity;
  const until = window.until ?? Infinity;
  const read = { maxLineBytes, ...(window.signal && { signal: window.signal }) };
  const gate = new RetentionGate(options.retention, options.now);
  if (gate.counting) {
    for (const file of files) {
      await forEachLine(
        file,
        (raw) => {
          const verdict = classifyLine(raw, maxLineBytes);
          if (verdict.ok) gate.count(verdict.record.kind, verdict.record.timestamp, raw.length + 1);
        },
        read,
      );
    }
  }
  for (const kind of RECORD_KINDS) {
    if (window.kinds && !window.kinds.includes(kind)) continue;
    yield* handOver<StoredRecord>(async (push) => {
      for (const file of files) {
        await forEachLine(
          file,
          (raw) => {
            const verdict = classifyLine(raw, maxLineBytes);
            if (!verdict.ok || verdict.record.kind !== kind) return;
            const { record } = verdict;
            if (!gate.keep(kind, record.timestamp, raw.length + 1) || !(record.timestamp >= since && record.timestamp < until)) return;
            return push({ record, line: raw.buf.toString('utf8', raw.start, raw.end) });
          },
          read,
        );
      }
    }, options.batch ?? 256);
  }
}

/** Thrown into a reader whose consumer stopped iterating. */
const STOPPED = Symbol('stopped');

/**
 * Turns a reader that pushes items into an async iteration holding at most `size` of them: a push
 * that fills the batch waits until the consumer has taken it. When the consumer stops early, the
 * waiting push throws, so the reader unwinds (closing its files) before the iteration returns.
 */
async function* handOver<T>(reader: (push: (item: T) => void | Promise<void>) => Promise<void>, size: number): AsyncGenerator<T> {
  let batch: T[] = [];
  let done = false;
  let stopped = false;
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;
  let resume: (() => void) | null = null;
  const push = (item: T): void | Promise<void> => {
    if (stopped) throw STOPPED;
    batch.push(item);
    if (batch.length < size) return;
    return new Promise<void>((r) => {
      resume = r;
      wake?.();
    }).then(() => {
      if (stopped) throw STOPPED;
    });
  };
  const reading = reader(push)
    .then(
      () => void (done = true),
      (error: unknown) => {
        done = true;
        if (error !== STOPPED) failure = { error };
      },
    )
    .finally(() => wake?.());
  try {
    for (;;) {
      if (!done && batch.length < size) await new Promise<void>((r) => (wake = r));
      wake = null;
      const taken = batch;
      batch = [];
      yield* taken;
      const failed = failure as { error: unknown } | null;
      if (failed) throw failed.error;
      if (done && batch.length === 0) break;
      const next = resume as (() => void) | null;
      resume = null;
      next?.();
    }
  } finally {
    stopped = true;
    const next = resume as (() => void) | null;
    next?.();
    await reading;
  }
}
