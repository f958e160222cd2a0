import { PapyraError } from './errors.js';
import type { PersistedRecord, RecordBase } from './records.js';

export interface ListQuery {
  /** The newest N records (still returned oldest first unless `order: 'desc'`). */
  limit?: number;
  /** Keep `timestamp >= since` (epoch ms). */
  since?: number;
  order?: 'asc' | 'desc';
  /** Events of this actor address only (`actorAddress`); other kinds have no actor and match nothing. */
  actor?: string;
  /** Events of this type only (`ActorCrashed`, …); other kinds match nothing. */
  eventType?: string;
  /** Dead letters addressed to this actor only (`target`); other kinds match nothing. */
  target?: string;
}

const FILTERS = ['actor', 'eventType', 'target'] as const;

/**
 * Validates a list query; throws `PAPYRA_INVALID_ARGUMENT` for a negative limit, a bad order or a
 * filter that is not a string.
 */
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
  const out: ListQuery = { ...(limit !== undefined && { limit }), ...(since !== undefined && { since }), order: order ?? 'asc' };
  for (const key of FILTERS) {
    const value = query[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `${key} must be a string, got ${JSON.stringify(value)}.`);
    out[key] = value;
  }
  return out;
}

/** True when the query names an actor, event type or target. */
export function hasFilters(query: ListQuery): boolean {
  return query.actor !== undefined || query.eventType !== undefined || query.target !== undefined;
}

/**
 * Whether one record passes the query's `since` and its filters (not `limit`, which depends on the
 * others). Backends that stream records apply this before counting towards `limit`.
 */
export function matchesQuery(record: RecordBase & Pick<PersistedRecord, 'kind'>, query: ListQuery): boolean {
  if (query.since !== undefined && !(record.timestamp >= query.since)) return false;
  if (!hasFilters(query)) return true;
  const r = record as PersistedRecord;
  if (query.actor !== undefined && (r.kind !== 'event' || r.actorAddress !== query.actor)) return false;
  if (query.eventType !== undefined && (r.kind !== 'event' || r.eventType !== query.eventType)) return false;
  if (query.target !== undefined && (r.kind !== 'dead_letter' || r.target !== query.target)) return false;
  return true;
}

/** Applies `since` and the filters, then `limit` (newest N), then `order` to records held in store order. */
export function applyListQuery<T extends RecordBase>(records: readonly T[], query: ListQuery = {}): T[] {
  const q = normalizeListQuery(query);
  const filtering = q.since !== undefined || hasFilters(q);
  let out = filtering ? records.filter((r) => matchesQuery(r as T & Pick<PersistedRecord, 'kind'>, q)) : [...records];
  if (q.limit !== undefined) out = q.limit === 0 ? [] : out.slice(-q.limit);
  return q.order === 'desc' ? out.reverse() : out;
}
