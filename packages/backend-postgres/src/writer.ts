import { performance } from 'node:perf_hooks';
import { PapyraError, redactError, type Logger, type PersistenceMetrics, type RecordKind } from '@papyra/persistence-contract';
import { isConnectionError, isRowError, isTimeout, isTransient, outageError, toPapyraError } from './errors.js';
import type { FilterColumns } from './schema.js';

/** One record ready for its row. */
export interface Row extends FilterColumns {
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
  /** Source of the retry jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
}

// A dropped connection (pg_terminate_backend, a failover) usually only poisons the pooled
// connections; fresh ones work at once, so a couple of immediate retries precede "outage".
const IMMEDIATE_RETRIES = 2;

/**
 * Accepted records in order, written in batches by one writer at a time. While PostgreSQL cannot
 * take writes (unreachable, frozen, the table locked, the pool exhausted) the queue is the outage
 * buffer: records are answered at once, kept in order up to `bufferLimit`, and retried with
 * jittered backoff; records beyond the bound are dropped, counted, logged and rejected. A row the
 * database refuses is isolated from its batch, dropped and counted; the rest are stored.
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
    this.#o = { minRetryDelayMs: 100, maxRetryDelayMs: 5_000, random: Math.random, ...options };
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
    return new PapyraError(
      this.#outage?.code ?? 'PAPYRA_BACKEND_UNAVAILABLE',
      `PostgreSQL write buffer is full (${this.#o.bufferLimit} records); the record was dropped.`,
      {
        details: { backend: 'postgres', dropped: true, bufferLimit: this.#o.bufferLimit },
      },
    );
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
      let refused: Map<Pending, unknown>;
      try {
        refused = await this.#write(batch);
      } catch (error) {
        if (isTransient(error)) {
          this.#enterOutage(error);
          return;
        }
        this.#fail(batch, error);
        continue;
      }
      this.#commit(batch, refused);
    }
  }

  /**
   * Writes a batch; when PostgreSQL refuses a row's data, halves the batch until the refused rows
   * stand alone (in order, so `seq` still follows acceptance) and returns them with their errors.
   * Halves already committed are harmless if a transient error makes the whole batch go again.
   */
  async #write(batch: Pending[]): Promise<Map<Pending, unknown>> {
    try {
      await this.#insertWithRetry(batch.map((p) => p.row));
      return new Map();
    } catch (error) {
      if (!isRowError(error)) throw error;
      if (batch.length === 1) return new Map([[batch[0]!, error]]);
      const middle = Math.ceil(batch.length / 2);
      const first = await this.#write(batch.slice(0, middle));
      const second = await this.#write(batch.slice(middle));
      return new Map([...first, ...second]);
    }
  }

  async #insertWithRetry(rows: Row[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#o.insert(rows);
        return;
      } catch (error) {
        // A timeout would only take as long again; a cut connection is usually cured by a fresh one.
        if (!isConnectionError(error) || isTimeout(error) || attempt >= IMMEDIATE_RETRIES) throw error;
      }
    }
  }

  #commit(batch: Pending[], refused: Map<Pending, unknown>): void {
    this.#queue.splice(0, batch.length);
    const now = performance.now();
    for (const p of batch) {
      const error = refused.get(p);
      if (error === undefined) {
        this.#o.metrics.recordWritten(p.row.kind, 1, p.row.bytes, now - p.acceptedAt);
        p.settle?.resolve();
      } else {
        const failure = toPapyraError('write a record', error);
        this.#o.metrics.writeFailed(1, failure);
        this.#o.metrics.dropped(1, 'refused');
        this.#o.logger.error(
          { err: redactError(error), id: p.row.id, kind: p.row.kind, stored: batch.length - refused.size },
          'PostgreSQL refused a record; dropped it and stored the rest of its batch',
        );
        p.settle?.reject(failure);
      }
    }
    if (this.#outage !== undefined) {
      this.#o.logger.info(
        { buffered: this.#queue.length + batch.length, dropped: this.#droppedInBurst },
        'PostgreSQL reachable again; writing buffered records',
      );
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
    this.#o.metrics.dropped(batch.length, 'rejected');
    this.#o.logger.error({ err: redactError(error), records: batch.length }, 'PostgreSQL rejected a batch of records; dropped them');
    for (const p of batch) p.settle?.reject(failure);
    this.#settle(batch[batch.length - 1]!.ticket + 1);
  }

  #enterOutage(error: unknown): void {
    const failure = outageError(error, this.#queue.length);
    if (this.#outage === undefined) {
      this.#o.logger.warn(
        { err: redactError(error), code: failure.code, buffered: this.#queue.length, bufferLimit: this.#o.bufferLimit },
        'PostgreSQL unreachable, locked or busy; buffering records',
      );
    }
    this.#outage = failure;
    for (const p of this.#queue) this.#answer(p);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(failure);
    if (this.#closed) return;
    // Equal jitter: between half and all of the doubling delay, so that many processes cut off by
    // the same outage do not all come back in the same instant.
    const delay = Math.round(this.#retryDelay * (0.5 + this.#o.random() / 2));
    this.#o.logger.debug({ code: failure.code, retryInMs: delay }, 'retrying PostgreSQL writes');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#pump();
    }, delay);
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
