import type { RecordKind, RetentionPolicy } from '@papyra/persistence-contract';

/**
 * Decides retention while a log is read forwards (oldest first), exactly as `retainedMask` decides
 * it on the whole log, holding nothing but a few counters. Age is decided per record. Count and
 * byte limits keep the newest records of a kind that fit, so they need the totals first: when
 * `counting` is true, feed every record to `count()` in a first pass, then ask `keep()` in
 * order in a second; it hides the oldest records of a kind while the rest is still over a limit.
 */
export class RetentionGate {
  /** True when a first pass through `count()` is needed. */
  readonly counting: boolean;
  readonly #policy: RetentionPolicy;
  readonly #ageCutoff: number;
  readonly #left: Record<RecordKind, { records: number; bytes: number }> = {
    event: { records: 0, bytes: 0 },
    audit: { records: 0, bytes: 0 },
    dead_letter: { records: 0, bytes: 0 },
  };

  constructor(policy: RetentionPolicy, now: number) {
    this.#policy = policy;
    this.#ageCutoff = policy.maxAgeMs === undefined ? -Infinity : now - policy.maxAgeMs;
    this.counting = policy.maxRecords !== undefined || policy.maxTotalBytes !== undefined;
  }

  /** First pass: one stored record (`bytes` = its line with `\n`). */
  count(kind: RecordKind, timestamp: number, bytes: number): void {
    if (timestamp < this.#ageCutoff) return;
    this.#left[kind].records += 1;
    this.#left[kind].bytes += bytes;
  }

  /** Second pass (or the only one): whether retention keeps this record; ask for every record, in order. */
  keep(kind: RecordKind, timestamp: number, bytes: number): boolean {
    if (timestamp < this.#ageCutoff) return false;
    if (!this.counting) return true;
    const left = this.#left[kind];
    const { maxRecords, maxTotalBytes } = this.#policy;
    if ((maxRecords !== undefined && left.records > maxRecords) || (maxTotalBytes !== undefined && left.bytes > maxTotalBytes)) {
      left.records -= 1;
      left.bytes -= bytes;
      return false;
    }
    return true;
  }
}
