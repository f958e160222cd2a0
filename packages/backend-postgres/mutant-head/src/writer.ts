import { performance } from 'node:perf_hooks';
import { PapyraError, redactError, type Logger, type PersistenceMetrics, type RecordKind } from '@papyra/persistence-contract';
import { isConnectionError, toPapyraError, unavailableError } from './errors.js';

/** One record ready for its row. */
export interface Row {
  id: string;
  kind: RecordKind;
  systemId: string;
  timestampMs: number;
  data: string;
  /** UTF-8 bytes of `data` plus the newline, the unit of byte retention and metrics. */
  bytes: number;
}

interface Pending {
  row: Row;
  ticket: number;
  acceptedAt: number;
  /** Cleared once the caller has been answered (at commit, or when the record went into the outage buffer). */
  settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
}

interface FlushWaiter {
  ticket: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriteQueueOptions {
  /** Writes one batch in one statement; must be idempotent (the same batch may be sent twice). */
  insert: (rows: Row[]) => Promise<void>;
  batchSize: number;
  bufferLimit: number;
  metrics: PersistenceMetrics;
  logger: Logger;
  minRetryDelayMs?: number;
  maxRetryDelayMs?: number;
}

// A dropped connection (pg_terminate_backend, a failover) usually only poisons the pooled
// connections; fresh ones work at once, so a couple of immediate retries precede "outage".
const IMMEDIATE_RETRIES = 2;

/**
 * Accepted records in order, written in batches by one writer at a time. While PostgreSQL is
 * unreachable the queue is the outage buffer: records are answered at once, kept in order up to
 * `bufferLimit`, and retried with backoff; records beyond the bound are dropped, counted, logged
 * and rejected.
 */
export class WriteQueue {
  readonly #o: Required<WriteQueueOptions>;
  #queue: Pending[] = [];
  #nextTicket = 0;
  /** Every ticket below this is settled (committed or failed for good). */
  #settledBelow = 0;
  #waiters: FlushWaiter[] = [];
  #writing = false;
  #outage: PapyraError | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelay: number;
  /** Drops since the buffer last drained; only the first of a burst is logged. */
  #droppedInBurst = 0;
  #closed = false;

  constructor(options: WriteQueueOptions) {
    this.#o = { minRetryDelayMs: 100, maxRetryDelayMs: 5_000, ...options };
    this.#retryDelay = this.#o.minRetryDelayMs;
  }

  get size(): number {
    return this.#queue.length;
  }

  /**
   * Resolves when the row is committed, or at once while the database is unreachable (buffered).
   * The bound applies only during an outage: a healthy database drains the queue, and callers that
   * await their writes are paced by it.
   */
  push(row: Row): Promise<void> {
    if (this.#outage !== undefined && this.#queue.length >= this.#o.bufferLimit) return Promise.reject(this.#drop(row));
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { row, ticket: this.#nextTicket++, acceptedAt: performance.now(), settle: { resolve, reject } };
      this.#queue.push(pending);
      if (this.#outage !== undefined) this.#answer(pending);
      else this.#pump();
    });
  }

  /**
   * Resolves when every row accepted so far is committed. While the database is unreachable it
   * makes one immediate attempt and rejects with `PAPYRA_BACKEND_UNAVAILABLE` if that fails; the
   * rows stay buffered.
   */
  flush(): Promise<void> {
    const ticket = this.#nextTicket - 1;
    if (ticket < this.#settledBelow) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ ticket, resolve, reject });
      if (this.#outage !== undefined && !this.#writing) {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
        this.#pump();
      }
    });
  }

  /** Flushes; rows still unwritable are dropped (counted and logged) and the error is rethrown. */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      await this.flush();
    } catch (error) {
      const lost = this.#queue.length;
      this.#queue = [];
      this.#o.metrics.dropped(lost, 'closed_while_unreachable');
      this.#o.logger.error({ err: redactError(error), dropped: lost }, 'closed while PostgreSQL is unreachable; buffered records dropped');
      throw error;
    } finally {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
    }
  }

  #drop(row: Row): PapyraError {
    this.#o.metrics.dropped(1, 'buffer_full');
    // One warning per burst, not per record: a full buffer under an outage would flood the log.
    if (++this.#droppedInBurst === 1) {
      this.#o.logger.warn({ bufferLimit: this.#o.bufferLimit, kind: row.kind }, 'PostgreSQL write buffer full; dropping records');
    }
    return new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', `PostgreSQL write buffer is full (${this.#o.bufferLimit} records); the record was dropped.`, {
      details: { backend: 'postgres', dropped: true, bufferLimit: this.#o.bufferLimit },
    });
  }

  #pump(): void {
    if (this.#writing || this.#retryTimer !== undefined || this.#queue.length === 0) return;
    this.#writing = true;
    void this.#drain().finally(() => {
      this.#writing = false;
      // Rows accepted during the last statement of a drain that just ended.
      if (this.#outage === undefined) this.#pump();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, this.#o.batchSize);
      const rows = batch.map((p) => p.row);
      try {
        await this.#insertWithRetry(rows);
      } catch (error) {
        if (isConnectionError(error)) {
          this.#enterOutage(error);
          return;
        }
        this.#fail(batch, error);
        continue;
      }
      this.#commit(batch);
    }
  }

  async #insertWithRetry(rows: Row[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#o.insert(rows);
        return;
      } catch (error) {
        if (!isConnectionError(error) || attempt >= IMMEDIATE_RETRIES) throw error;
      }
    }
  }

  #commit(batch: Pending[]): void {
    this.#queue.splice(0, batch.length);
    const now = performance.now();
    for (const p of batch) {
      this.#o.metrics.recordWritten(p.row.kind, 1, p.row.bytes, now - p.acceptedAt);
      p.settle?.resolve();
    }
    if (this.#outage !== undefined) {
      this.#o.logger.info({ buffered: this.#queue.length + batch.length, dropped: this.#droppedInBurst }, 'PostgreSQL reachable again; writing buffered records');
      this.#outage = undefined;
      this.#retryDelay = this.#o.minRetryDelayMs;
    } else if (this.#droppedInBurst > 0) {
      this.#o.logger.info({ dropped: this.#droppedInBurst }, 'PostgreSQL write buffer has room again');
    }
    this.#droppedInBurst = 0;
    this.#settle(batch[batch.length - 1]!.ticket + 1);
  }

  /** A statement error that retrying cannot fix (e.g. a missing table, permissions). */
  #fail(batch: Pending[], error: unknown): void {
    this.#queue.splice(0, batch.length);
    const failure = toPapyraError('write records', error);
    this.#o.metrics.writeFailed(batch.length, failure);
    this.#o.logger.error({ err: redactError(error), records: batch.length }, 'PostgreSQL rejected a batch of records');
    for (const p of batch) p.settle?.reject(failure);
    this.#settle(batch[batch.length - 1]!.ticket + 1);
  }

  #enterOutage(error: unknown): void {
    const failure = unavailableError('write records', error, { buffered: this.#queue.length });
    if (this.#outage === undefined) {
      this.#o.logger.warn({ err: redactError(error), buffered: this.#queue.length, bufferLimit: this.#o.bufferLimit }, 'PostgreSQL unreachable; buffering records');
    }
    this.#outage = failure;
    for (const p of this.#queue) this.#answer(p);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(failure);
    if (this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#pump();
    }, this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#o.maxRetryDelayMs);
  }

  /** The caller stops waiting: the row is buffered and will be written when the database is back. */
  #answer(p: Pending): void {
    p.settle?.resolve();
    p.settle = undefined;
  }

  #settle(below: number): void {
    this.#settledBelow = below;
    const ready = this.#waiters.filter((w) => w.ticket < below);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.ticket >= below);
    for (const w of ready) w.resolve();
  }
}
