import { PapyraError } from './errors.js';
import { encodedSize } from './codec.js';
import type { PersistedRecord, RecordKind } from './records.js';

/** All limits optional; an empty policy keeps everything. Applied to each kind on its own. */
export interface RetentionPolicy {
  /** Keep at most the newest N records of each kind. */
  maxRecords?: number;
  /** Keep records whose timestamp is at most this old (wall clock). */
  maxAgeMs?: number;
  /** Keep the newest records of each kind whose encoded lines (with `\n`) total at most this. */
  maxTotalBytes?: number;
}

/** Validates a policy; throws `PAPYRA_INVALID_CONFIG` for negative or non-numeric limits. */
export function normalizeRetention(policy: RetentionPolicy = {}): RetentionPolicy {
  const out: RetentionPolicy = {};
  for (const key of ['maxRecords', 'maxAgeMs', 'maxTotalBytes'] as const) {
    const value = policy[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', `retention.${key} must be a non-negative integer, got ${JSON.stringify(value)}.`, {
        details: { [key]: value },
      });
    }
    out[key] = value;
  }
  return Object.freeze(out);
}

export function hasRetention(policy: RetentionPolicy): boolean {
  return policy.maxRecords !== undefined || policy.maxAgeMs !== undefined || policy.maxTotalBytes !== undefined;
}

/** What retention needs to know of one stored record. */
export interface RetentionItem {
  kind: RecordKind;
  timestamp: number;
  /** Encoded size in bytes including the newline. */
  bytes: number;
}

/**
 * Decides which items (in store order, oldest first) a policy keeps, per kind: first age, then the
 * newest `maxRecords` of what is left, then the newest of those that fit in `maxTotalBytes`.
 */
export function retainedMask(items: readonly RetentionItem[], policy: RetentionPolicy, now: number): boolean[] {
  const keep = items.map((item) => policy.maxAgeMs === undefined || item.timestamp >= now - policy.maxAgeMs);
  if (policy.maxRecords === undefined && policy.maxTotalBytes === undefined) return keep;
  const count = new Map<RecordKind, number>();
  const bytes = new Map<RecordKind, number>();
  // Once a kind is over a limit, every older record of it is too.
  const full = new Set<RecordKind>();
  for (let i = items.length - 1; i >= 0; i--) {
    if (!keep[i]) continue;
    const item = items[i]!;
    const n = (count.get(item.kind) ?? 0) + 1;
    const b = (bytes.get(item.kind) ?? 0) + item.bytes;
    if (full.has(item.kind) || (policy.maxRecords !== undefined && n > policy.maxRecords) || (policy.maxTotalBytes !== undefined && b > policy.maxTotalBytes)) {
      keep[i] = false;
      full.add(item.kind);
      continue;
    }
    count.set(item.kind, n);
    bytes.set(item.kind, b);
  }
  return keep;
}

/** The records (store order) that a policy keeps. */
export function applyRetention<T extends PersistedRecord>(records: readonly T[], policy: RetentionPolicy, now: number): T[] {
  if (!hasRetention(policy)) return [...records];
  const items = records.map((r) => ({ kind: r.kind, timestamp: r.timestamp, bytes: policy.maxTotalBytes === undefined ? 0 : encodedSize(r) }));
  const mask = retainedMask(items, policy, now);
  return records.filter((_, i) => mask[i]);
}
