import type { CompactionReport, OperationOptions, RecoveryConfig, RecoveryReport, ScanReport } from './anomalies.js';
import type { PersistenceMetrics } from './metrics.js';
import type { ListQuery } from './query.js';
import type { ReadOptions, StoredRecord } from './read.js';
import type { StoreStats } from './stats.js';
import type { PersistedAudit, PersistedDeadLetter, PersistedEvent } from './records.js';
import type { RetentionPolicy } from './retention.js';

/** What a backend can do. Every flag is explicit; callers read these, never sniff methods. */
export interface BackendCapabilities {
  /** `scan()` inspects the stored data for anomalies. */
  scan: boolean;
  /** `recover({ mode: 'repair' })` removes what a scan flagged. */
  recover: boolean;
  /** `recover({ mode: 'quarantine' })` preserves what it removes. */
  quarantine: boolean;
  /** `compact()` physically applies retention. */
  compact: boolean;
  /** `metrics` counts what this instance did. */
  metrics: boolean;
  /** Written records survive the process (and, with reopen, a new instance). */
  durable: boolean;
}

/** The contract every storage backend implements (SPEC §3). */
export interface PersistenceBackend {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly retention: RetentionPolicy;
  readonly metrics: PersistenceMetrics;
  recordEvent(event: PersistedEvent): Promise<void>;
  recordAudit(audit: PersistedAudit): Promise<void>;
  recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void>;
  listEvents(query?: ListQuery): Promise<PersistedEvent[]>;
  listAudits(query?: ListQuery): Promise<PersistedAudit[]>;
  listDeadLetters(query?: ListQuery): Promise<PersistedDeadLetter[]>;
  /**
   * Optional: streams the visible records (retention applied, damaged entries skipped) of the
   * window, oldest first per kind, with bounded memory; `line` is the stored bytes where the backend
   * keeps them. Exports, statistics and inventories use it through `readRecords()`, which falls
   * back to the list methods for a backend without it.
   */
  records?(options?: ReadOptions): AsyncIterable<StoredRecord>;
  /** Optional: `storeStats()` answered by the store itself (SQL aggregates, stream lengths). */
  stats?(options?: { signal?: AbortSignal }): Promise<StoreStats>;
  /** Never mutates storage; reports every anomaly. */
  scan(options?: OperationOptions): Promise<ScanReport>;
  recover(config: RecoveryConfig, options?: OperationOptions): Promise<RecoveryReport>;
  compact(options?: OperationOptions): Promise<CompactionReport>;
  /**
   * An active, cheap check that the store answers right now (Redis `PING`, PostgreSQL `SELECT 1`,
   * a stat of the file), bounded in time. Resolves when it does; rejects with a `PapyraError`
   * (`PAPYRA_BACKEND_UNAVAILABLE`, `PAPYRA_PERMISSION_DENIED`, …) when it does not.
   * Readiness probes call it; it never changes the store. Optional for third-party backends (every
   * Papyra backend has it); without it a readiness probe can only watch write progress.
   */
  probe?(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /** Resolves when every accepted write is as durable as the backend promises. */
  flush(): Promise<void>;
  /** Idempotent; flushes first. Afterwards every method rejects with `PAPYRA_BACKEND_CLOSED`. */
  close(): Promise<void>;
}

/** Wall clock in epoch milliseconds; injectable for age retention and tests. */
export type WallClock = () => number;
export const systemClock: WallClock = () => Date.now();
