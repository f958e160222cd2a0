import { PapyraError } from './errors.js';
import type { RecordBase } from './records.js';

export interface ListQuery {
  /** The newest N records (still returned oldest first unless `order: 'desc'`). */
  limit?: number;
  /** Keep `timestamp >= since` (epoch ms). */
  since?: number;
  order?: 'asc' | 'desc';
}

/** Validates a list query; throws `PAPYRA_INVALID_ARGUMENT` for a negative limit or a bad order. */
export function normalizeListQuery(query: ListQuery = {}): ListQuery {
  const { limit, since, order } = query;
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0)) {
    throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `limit must be a non-negative integer, got ${JSON.stringify(limit)}.`);
  }
  if (since !== undefined && (typeof since !== 'number' || Number.isNaN(since))) {
    throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `since must be epoch milliseconds, got ${JSON.stringify(since)}.`);
  }
  if (order !== undefined && order !== 'asc' && order !== 'desc') {
    throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `order must be 'asc' or 'desc', got ${JSON.stringify(order)}.`);
  }
  return { ...(limit !== undefined && { limit }), ...(since !== undefined && { since }), order: order ?? 'asc' };
}

/** Applies `since`, then `limit` (newest N), then `order` to records held in store order. */
export function applyListQuery<T extends RecordBase>(records: readonly T[], query: ListQuery = {}): T[] {
  const q = normalizeListQuery(query);
  let out = q.since === undefined ? [...records] : records.filter((r) => r.timestamp >= q.since!);
  if (q.limit !== undefined) out = q.limit === 0 ? [] : out.slice(-q.limit);
  return q.order === 'desc' ? out.reverse() : out;
}
