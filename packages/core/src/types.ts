import type {
  Logger,
  PersistedAudit,
  PersistedDeadLetter,
  PersistedEvent,
  PersistenceBackend,
  RecoveryConfig,
  RecoveryReport,
  ScanReport,
  StartupMode,
} from '@papyra/persistence-contract';
import type { ActorRef } from './ref.js';

/** Both clocks of a system. `now` stamps records (epoch ms); `monotonic` measures windows and durations. */
export interface Clock {
  now(): number;
  monotonic(): number;
}

export type OverflowPolicy = 'backpressure' | 'drop_newest' | 'drop_oldest' | 'fail';

export interface MailboxOptions {
  /** Default `defaults.mailboxCapacity` (1024). */
  capacity?: number;
  /** Default `defaults.overflow` ('backpressure'). */
  overflow?: OverflowPolicy;
  /**
   * Under 'backpressure', how many senders (tells and asks) may wait for room; one more is refused
   * at once with `PAPYRA_MAILBOX_FULL` and becomes a dead letter. Bounds the memory a flood of
   * fire-and-forget tells can hold. Default 16 × capacity.
   */
  maxWaiting?: number;
}

export type SupervisionStrategy = 'stop' | 'restart' | 'escalate';

/** What a parent's `onChildFailure` may decide. */
export type SupervisorDecision = 'restart' | 'stop' | 'escalate' | 'resume';

export interface BackoffOptions {
  /** Delay before the first restart in a window. */
  minMs: number;
  /** Upper bound of the delay. */
  maxMs: number;
  /** Growth per restart already counted in the window; default 2. */
  factor?: number;
}

export interface SupervisionOptions {
  /** Default: `restart` for named actors, `stop` for unnamed ones. */
  strategy?: SupervisionStrategy;
  /** Default 3. */
  maxRestarts?: number;
  /** Default 60 000. */
  withinMs?: number;
  backoff?: BackoffOptions;
}

export interface FailureInfo {
  ref: ActorRef<any, any>;
  address: string;
  name: string | null;
  error: unknown;
}

export interface Hooks {
  onEvent?(event: PersistedEvent): unknown;
  onDeadLetter?(deadLetter: PersistedDeadLetter): unknown;
  onFailure?(failure: FailureInfo): unknown;
  onAudit?(audit: PersistedAudit): unknown;
  onPersistenceScan?(report: ScanReport): unknown;
  onPersistenceRecovery?(report: RecoveryReport): unknown;
}

export interface PersistenceWriterOptions {
  /** Records waiting to be written; beyond it new records are dropped and counted. Default 10 000. */
  queueCapacity?: number;
  /** Records handed to the backend per batch. Default 1024. */
  batchSize?: number;
  /** A batch not settled within this is counted as failed and the writer moves on. Default 5 000. */
  writeTimeoutMs?: number;
  /** Writes still hanging after their timeout; at this many new records are dropped instead of sent. Default 10 000. */
  maxHungWrites?: number;
  /** Bound on waiting for the queue and then `backend.flush()` in `close()`. Default 5 000. */
  flushTimeoutMs?: number;
}

export interface SystemDefaults {
  /** Default 5 000. */
  askTimeoutMs?: number;
  /** Default 1024. */
  mailboxCapacity?: number;
  /** Default 'backpressure'. */
  overflow?: OverflowPolicy;
  /** Periodic audits; off unless set. */
  auditIntervalMs?: number;
  /** How long `close()` waits for actors to stop gracefully before forcing them. Default 10 000. */
  closeTimeoutMs?: number;
  supervision?: Omit<SupervisionOptions, 'strategy'>;
  persistence?: PersistenceWriterOptions;
}

export interface StartupOptions {
  /** Default 'fail_on_anomaly'. */
  mode?: StartupMode;
  recovery?: RecoveryConfig;
}

export interface ActorSystemOptions {
  /** Default 'local'. */
  systemId?: string;
  persistence?: PersistenceBackend;
  startup?: StartupOptions;
  clock?: Partial<Clock>;
  logger?: Logger;
  hooks?: Hooks;
  defaults?: SystemDefaults;
}
