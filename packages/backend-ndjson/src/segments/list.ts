import {
  applyListQuery,
  hasRetention,
  retainedMask,
  type ListQuery,
  type PersistedRecord,
  type RecordKind,
  type RetentionItem,
  type RetentionPolicy,
} from '@papyra/persistence-contract';
import { forEachLineBackward } from './lines.js';
import { classifyLine, forEachRecord } from './scanner.js';

export interface ListRecordsOptions {
  /** The backend's normalized retention policy. */
  retention: RetentionPolicy;
  /** The wall-clock time that age retention counts from. */
  now: number;
  maxLineBytes: number;
}

/**
 * Lists the records of one kind in files read as one log (oldest file first), applying retention
 * and a normalized list query exactly as the contract helpers do on the whole log. A query with a
 * limit reads backwards from the newest record and stops early.
 */
export function listRecords<T extends PersistedRecord>(files: readonly string[], kind: RecordKind, q: ListQuery, options: ListRecordsOptions): Promise<T[]> {
  return q.limit === undefined ? listAll<T>(files, kind, q, options) : listNewest<T>(files, kind, q, q.limit, options);
}

/** Streams every file forwards; memory grows with the records of this kind only. */
async function listAll<T extends PersistedRecord>(files: readonly string[], kind: RecordKind, q: ListQuery, options: ListRecordsOptions): Promise<T[]> {
  const { retention, now, maxLineBytes } = options;
  const records: T[] = [];
  const items: RetentionItem[] = [];
  const retain = hasRetention(retention);
  for (const file of files) {
    await forEachRecord(
      file,
      (record, raw) => {
        if (record.kind !== kind) return;
        records.push(record as T);
        if (retain) items.push({ kind, timestamp: record.timestamp, bytes: raw.length + 1 });
      },
      { maxLineBytes },
    );
  }
  if (!retain) return applyListQuery(records, q);
  const mask = retainedMask(items, retention, now);
  return applyListQuery(
    records.filter((_, i) => mask[i]),
    q,
  );
}

/**
 * Reads the newest file first, each backwards, until `limit` records of this kind pass retention
 * and `since`, or retention's count/byte budget is spent (nothing older is retained then). The
 * contract helpers then decide on that suffix exactly as on the whole log: retention counts from
 * the newest.
 */
async function listNewest<T extends PersistedRecord>(files: readonly string[], kind: RecordKind, q: ListQuery, limit: number, options: ListRecordsOptions): Promise<T[]> {
  const { retention, now, maxLineBytes } = options;
  const { maxAgeMs, maxRecords, maxTotalBytes } = retention;
  const records: T[] = [];
  const items: RetentionItem[] = [];
  let eligible = 0;
  let keptCount = 0;
  let keptBytes = 0;
  let done = false;
  for (const file of [...files].reverse()) {
    await forEachLineBackward(
      file,
      (raw) => {
        const verdict = classifyLine(raw, maxLineBytes);
        if (!verdict.ok || verdict.record.kind !== kind) return;
        const { record } = verdict;
        const bytes = raw.length + 1;
        records.push(record as T);
        items.push({ kind, timestamp: record.timestamp, bytes });
        if (maxAgeMs !== undefined && record.timestamp < now - maxAgeMs) return;
        keptCount += 1;
        keptBytes += bytes;
        if ((maxRecords !== undefined && keptCount > maxRecords) || (maxTotalBytes !== undefined && keptBytes > maxTotalBytes)) done = true;
        else if (q.since === undefined || record.timestamp >= q.since) eligible += 1;
        if (eligible >= limit) done = true;
        return !done;
      },
      { maxLineBytes },
    );
    if (done) break;
  }
  records.reverse();
  const mask = retainedMask(items.reverse(), retention, now);
  return applyListQuery(
    records.filter((_, i) => mask[i]),
    q,
  );
}
