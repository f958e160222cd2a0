import type { KindStats } from '@papyra/persistence-contract';

/** The contract's `StoreStats`, keyed as the `--json` documents show it. */
export interface StoreStats {
  events: KindStats;
  audits: KindStats;
  deadLetters: KindStats;
  total: KindStats;
}
