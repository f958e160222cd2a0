import { redactSecrets, type Logger } from '@papyra/persistence-contract';

/** OpenTelemetry's conventional value for an `error.type` (or other label) it cannot name. */
export const OTHER = '_OTHER';

/** Past this many distinct labels, new ones fold into `_OTHER`: attribute cardinality stays bounded. */
export const MAX_LABELS = 32;

/**
 * Counts per label (error type, drop reason) from streamed samples, reconciled with the snapshot's
 * total: whatever the samples did not explain (counted before registration, or by a source that
 * gives no label) is reported as `_OTHER`, so the per-label values always add up to the total.
 * Labels come from backends and may quote a connection URL: they are redacted before use.
 */
export class LabelTally {
  #counts = new Map<string, number>();
  #warned = false;
  readonly #attribute: string;
  readonly #logger: Logger;

  constructor(attribute: string, logger: Logger) {
    this.#attribute = attribute;
    this.#logger = logger;
  }

  add(rawLabel: string, n: number): void {
    let label = redactSecrets(rawLabel);
    if (!this.#counts.has(label) && this.#counts.size >= MAX_LABELS) {
      if (!this.#warned) {
        this.#warned = true;
        this.#logger.warn({ attribute: this.#attribute, label, limit: MAX_LABELS }, 'too many distinct values; further ones are reported as _OTHER');
      }
      label = OTHER;
    }
    this.#counts.set(label, (this.#counts.get(label) ?? 0) + n);
  }

  /** Per-label counts adding up to `total`. */
  entries(total: number): Array<[string, number]> {
    let explained = 0;
    for (const n of this.#counts.values()) explained += n;
    // The source was reset: the labels seen before no longer describe its counters.
    if (explained > total) {
      this.#counts.clear();
      explained = 0;
    }
    const out = [...this.#counts].filter(([label]) => label !== OTHER);
    const other = total - explained + (this.#counts.get(OTHER) ?? 0);
    if (other > 0) out.push([OTHER, other]);
    return out;
  }
}
