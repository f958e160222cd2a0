import type { PersistedRecord, RetentionPolicy } from '@papyra/persistence-contract';

export type Decision = 'keep' | 'hidden' | 'duplicate';

/**
 * Retention and de-duplication decided newest-first, one record at a time, exactly as the
 * contract's `retainedMask` decides a whole stream (each record is judged from the records newer
 * than it), so lists, trim-on-write and compaction can stop early and agree with each other.
 *
 * A record id seen again further back is a duplicate (a batch resent after its connection died
 * mid-pipeline): only its newest copy counts and shows. Ids are remembered for the last `window`
 * records, bounding memory; copies of one batch are never further apart than that.
 */
export class NewestFirstRetention {
  readonly #policy: RetentionPolicy;
  readonly #oldestAllowed: number;
  readonly #window: number;
  readonly #seen = new Set<string>();
  readonly #ring: (string | undefined)[] = [];
  #next = 0;
  #kept = 0;
  #bytes = 0;
  /** A record young enough was not kept: the kind is full, so every older record is hidden too. */
  full = false;

  constructor(policy: RetentionPolicy, now: number, window: number) {
    this.#policy = policy;
    this.#oldestAllowed = policy.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : now - policy.maxAgeMs;
    this.#window = window;
  }

  get kept(): number {
    return this.#kept;
  }

  decide(record: PersistedRecord, bytes: number): Decision {
    if (record.id !== null) {
      if (this.#seen.has(record.id)) return 'duplicate';
      this.#seen.add(record.id);
      if (!Number.isFinite(this.#window)) return this.#retain(record, bytes);
      const forgotten = this.#ring[this.#next];
      if (forgotten !== undefined) this.#seen.delete(forgotten);
      this.#ring[this.#next] = record.id;
      this.#next = (this.#next + 1) % this.#window;
    }
    return this.#retain(record, bytes);
  }

  #retain(record: PersistedRecord, bytes: number): Decision {
    if (this.full) return 'hidden';
    if (record.timestamp < this.#oldestAllowed) return 'hidden';
    const { maxRecords, maxTotalBytes } = this.#policy;
    if ((maxRecords !== undefined && this.#kept + 1 > maxRecords) || (maxTotalBytes !== undefined && this.#bytes + bytes > maxTotalBytes)) {
      this.full = true;
      return 'hidden';
    }
    this.#kept += 1;
    this.#bytes += bytes;
    return 'keep';
  }
}
