import type { PersistenceBackend } from './backend.js';
import { RECORD_KINDS, type RecordKind } from './records.js';
import { readRecords } from './read.js';

export interface KindStats {
  records: number;
  /** Bytes of the records as stored, one newline each: the size retention's `maxTotalBytes` counts. */
  bytes: number;
  /** Oldest and newest timestamp (epoch ms); null for no records. */
  oldest: number | null;
  newest: number | null;
}

export interface StoreStats {
  backend: string;
  kinds: Record<RecordKind, KindStats>;
  total: KindStats;
}

/**
 * What the store holds, per kind: records, bytes, oldest and newest timestamp, of the visible
 * records (what lists show). One streaming pass with bounded memory; a backend that can answer
 * directly (SQL aggregates, stream lengths) does so through its optional `stats()`.
 */
export async function storeStats(backend: PersistenceBackend, options: { signal?: AbortSignal } = {}): Promise<StoreStats> {
  if (backend.stats) return backend.stats(options);
  const kinds = { event: empty(), audit: empty(), dead_letter: empty() };
  for await (const { record, line } of readRecords(backend, options)) {
    const k = kinds[record.kind];
    k.records += 1;
    k.bytes += Buffer.byteLength(line) + 1;
    if (k.oldest === null || record.timestamp < k.oldest) k.oldest = record.timestamp;
    if (k.newest === null || record.timestamp > k.newest) k.newest = record.timestamp;
  }
  return { backend: backend.name, kinds, total: totalOf(kinds) };
}

/** The totals over every kind. */
export function totalOf(kinds: Record<RecordKind, KindStats>): KindStats {
  const total = empty();
  for (const kind of RECORD_KINDS) {
    const k = kinds[kind];
    total.records += k.records;
    total.bytes += k.bytes;
    if (k.oldest !== null && (total.oldest === null || k.oldest < total.oldest)) total.oldest = k.oldest;
    if (k.newest !== null && (total.newest === null || k.newest > total.newest)) total.newest = k.newest;
  }
  return total;
}

function empty(): KindStats {
  return { records: 0, bytes: 0, oldest: null, newest: null };
}
