import { PapyraError, type Logger, type PersistenceMetrics, type RecordKind } from '@papyra/persistence-contract';
import { backoffMs, type RedisClient } from './connection.js';
import { classifyFailure, configError, describeError, unavailableError } from './errors.js';

interface PendingWrite {
  seq: number;
  kind: RecordKind;
  key: string;
  data: string;
  acceptedAt: number;
}

interface RoomWaiter {
  write: PendingWrite;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface FlushWaiter {
  target: number;
  /** Reject when records it covers were dropped (reads only wait for the queue to drain). */
  reportDrops: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/** An accepted record that will not be stored, kept until a flush covering it has reported it. */
interface Drop {
  seq: number;
  config: boolean;
}

export interface WriteQueueOptions {
  /** The write connection: no command timeout, in-flight commands fail when its socket closes. */
  client: RedisClient;
  /** Whether `client` is a Cluster (MOVED is then a failover in progress, not a wrong mode). */
  cluster: boolean;
  log: Logger;
  metrics: PersistenceMetrics;
  /** Records per pipeline. */
  batchSize: number;
  /** Records accepted but not yet acknowledged, at most. */
  bufferLimit: number;
  /** A flush fails after this long without any write reaching Redis. */
  flushTimeoutMs: number;
  /** A batch without a reply after this long puts the queue in outage mode (it is not resent). */
  commandTimeoutMs: number;
  /** A batch without a reply after this long: the connection is dropped and the batch resent. */
  stalledConnectionMs: number;
  /** Called after records of a stream were stored (trim-on-write hooks in here). */
  onStored?: (kind: RecordKind, records: number) => void;
}

/** What close() could not store: `dropped` were never sent; `inDoubt` were sent without a reply. */
export interface DiscardReport {
  dropped: number;
  inDoubt: number;
}

/**
 * The write path: records are accepted into an ordered queue and sent as pipelines of XADD, one
 * pipeline at a time so order survives failures.
 *
 * Outage is decided from the commands themselves, never from the client's status (a Cluster
 * client stays "ready" through a node failure): a batch that fails transiently, or gets no reply
 * within `commandTimeoutMs`, starts an outage; the next stored batch ends it. During an outage the
 * queue is the outage buffer: it keeps up to `bufferLimit` records, refuses (and counts) the rest,
 * and resends in order with jittered backoff. Outside an outage a full queue makes callers wait
 * (backpressure).
 *
 * A batch is resent only when Redis said it did not apply it (a reply error) or when the connection
 * that carried it closed; never while its first copy may still be queued on a live connection. A
 * connection that closed mid-batch may have applied part of it: the resend can store a record
 * twice, and readers de-duplicate by record id.
 */
export class WriteQueue {
  readonly #o: WriteQueueOptions;
  #queue: PendingWrite[] = [];
  #head = 0;
  #inFlight: PendingWrite[] = [];
  #roomWaiters: RoomWaiter[] = [];
  #flushWaiters = new Set<FlushWaiter>();
  #drops: Drop[] = [];
  #nextSeq = 1;
  #lastProgressAt = Date.now();
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #outage = false;
  #lastFailure: unknown;
  #droppedThisOutage = 0;
  #closed = false;

  constructor(options: WriteQueueOptions) {
    this.#o = options;
  }

  get #size(): number {
    return this.#queue.length - this.#head + this.#inFlight.length;
  }

  /** Resolves once the record is accepted (queued); rejects if it had to be dropped. */
  enqueue(kind: RecordKind, key: string, data: string): Promise<void> {
    const write: PendingWrite = { seq: this.#nextSeq++, kind, key, data, acceptedAt: Date.now() };
    if (this.#size < this.#o.bufferLimit && this.#roomWaiters.length === 0) {
      this.#queue.push(write);
      this.#schedulePump();
      return Promise.resolve();
    }
    if (this.#outage) return Promise.reject(this.#refuse());
    return new Promise((resolve, reject) => this.#roomWaiters.push({ write, resolve, reject }));
  }

  /**
   * Resolves when everything accepted so far has been stored. Rejects when a record accepted before
   * it was dropped (refused by Redis, or a configuration error), naming how many; or when no write
   * reached Redis for `flushTimeoutMs` (the records stay buffered).
   */
  flush(connectionError: () => unknown = () => undefined, reportDrops = true): Promise<void> {
    const target = this.#nextSeq - 1;
    return new Promise((resolve, reject) => {
      const waiter: FlushWaiter = { target, reportDrops, resolve, reject, timer: undefined as unknown as NodeJS.Timeout };
      const check = () => {
        const stalledFor = Date.now() - this.#lastProgressAt;
        if (stalledFor < this.#o.flushTimeoutMs) {
          waiter.timer = setTimeout(check, this.#o.flushTimeoutMs - stalledFor);
          return;
        }
        this.#flushWaiters.delete(waiter);
        const details = { buffered: this.#size + this.#roomWaiters.length };
        const failure = connectionError() ?? this.#lastFailure;
        if (classifyFailure(failure, this.#o.cluster) === 'config') {
          reject(configError(`flush: ${describeError(failure)}`, failure, details));
        } else {
          reject(unavailableError(`flush: no write reached Redis for ${this.#o.flushTimeoutMs} ms`, failure, details));
        }
      };
      waiter.timer = setTimeout(check, this.#o.flushTimeoutMs);
      this.#flushWaiters.add(waiter);
      this.#pump();
      this.#settle();
    });
  }

  /** Called when the connection is (again) ready: resend at once instead of waiting for the backoff. */
  resume(): void {
    if (this.#droppedThisOutage > 0) {
      this.#o.log.warn({ dropped: this.#droppedThisOutage }, 'records dropped while redis was unreachable (buffer full)');
      this.#droppedThisOutage = 0;
    }
    this.#lastProgressAt = Date.now();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#pump();
  }

  /**
   * For close(), after a bounded flush: stops sending and drops everything not stored (counted and
   * logged). A batch still unanswered is "in doubt": it was sent and a frozen server may yet apply
   * it, so it is counted as dropped, never as written, and never sent again.
   */
  discard(reason: string): DiscardReport {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const inDoubt = this.#inFlight.length;
    const lost = inDoubt + this.#queue.length - this.#head + this.#roomWaiters.length;
    this.#inFlight = [];
    this.#queue = [];
    this.#head = 0;
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(droppedError(this.#o.bufferLimit));
    if (lost > 0) {
      this.#o.metrics.dropped(lost, reason);
      this.#o.log.error({ dropped: lost, inDoubt, reason }, 'records not stored before close were dropped');
    }
    return { dropped: lost, inDoubt };
  }

  /** A record refused at the door (buffer full during an outage): its caller gets the error. */
  #refuse(): PapyraError {
    this.#o.metrics.dropped(1, 'buffer_full');
    if (this.#droppedThisOutage === 0) {
      this.#o.log.warn({ bufferLimit: this.#o.bufferLimit }, 'redis unreachable and write buffer full; dropping records');
    }
    this.#droppedThisOutage += 1;
    return droppedError(this.#o.bufferLimit);
  }

  #schedulePump(): void {
    // Writes made in the same tick share one pipeline.
    if (this.#inFlight.length === 0 && this.#queue.length - this.#head === 1) queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    if (this.#closed || this.#inFlight.length > 0 || this.#queue.length === this.#head || this.#retryTimer !== undefined) return;
    const end = Math.min(this.#queue.length, this.#head + this.#o.batchSize);
    const batch = this.#queue.slice(this.#head, end);
    this.#head = end;
    if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#inFlight = batch;
    void this.#send(batch);
  }

  async #send(batch: PendingWrite[]): Promise<void> {
    const pipeline = this.#o.client.pipeline();
    for (const w of batch) pipeline.xadd(w.key, '*', 'data', w.data);
    // No reply in time: an outage (new records are bounded by the buffer), but the batch is not
    // resent while its connection lives. Much later, the connection is presumed dead and dropped.
    const overdue = setTimeout(() => this.#enterOutage(new Error(`no reply to a write within ${this.#o.commandTimeoutMs} ms`)), this.#o.commandTimeoutMs);
    const stalled = setTimeout(() => {
      this.#o.log.warn({ records: batch.length, stalledMs: this.#o.stalledConnectionMs }, 'redis write connection stalled; reconnecting');
      this.#o.client.disconnect(true);
    }, this.#o.stalledConnectionMs);
    let results: [Error | null, unknown][];
    try {
      results = (await pipeline.exec()) ?? batch.map(() => [new Error('pipeline discarded'), null]);
    } catch (error) {
      results = batch.map(() => [error as Error, null]);
    } finally {
      clearTimeout(overdue);
      clearTimeout(stalled);
    }
    if (this.#inFlight !== batch) return; // close() already counted it as dropped
    this.#settleBatch(batch, results);
  }

  #settleBatch(batch: PendingWrite[], results: [Error | null, unknown][]): void {
    const now = Date.now();
    const retry: PendingWrite[] = [];
    const storedByKind = new Map<RecordKind, number>();
    let failure: unknown;
    for (let i = 0; i < batch.length; i++) {
      const w = batch[i]!;
      const error = results[i]?.[0] ?? null;
      if (error === null) {
        this.#o.metrics.recordWritten(w.kind, 1, Buffer.byteLength(w.data) + 1, now - w.acceptedAt);
        storedByKind.set(w.kind, (storedByKind.get(w.kind) ?? 0) + 1);
        continue;
      }
      const kind = classifyFailure(error, this.#o.cluster);
      if (kind === 'transient') {
        retry.push(w);
        failure = error;
        continue;
      }
      // Redis refused this entry itself (WRONGTYPE, an argument error…), or nothing can be stored
      // with this configuration: retrying cannot help. Counted as dropped; the next flush reports it.
      this.#o.metrics.writeFailed(1, error);
      this.#o.metrics.dropped(1, kind === 'config' ? 'invalid_config' : 'refused');
      this.#drops.push({ seq: w.seq, config: kind === 'config' });
      if (kind === 'config') this.#lastFailure = error;
      this.#o.log.error({ err: { message: describeError(error) }, key: w.key }, 'redis refused a record; it was not written (dropped)');
    }
    this.#inFlight = [];
    if (storedByKind.size > 0) {
      this.#lastProgressAt = now;
      this.#attempt = 0;
      if (this.#outage) this.#o.log.info('redis writes flow again');
      this.#outage = false;
      for (const [kind, n] of storedByKind) this.#o.onStored?.(kind, n);
    }
    if (retry.length > 0) this.#requeue(retry, failure, storedByKind.size === 0);
    this.#admitWaiters();
    this.#settle();
    this.#pump();
  }

  #enterOutage(error: unknown): void {
    this.#lastFailure = error;
    if (!this.#outage) this.#o.log.warn({ err: { message: describeError(error) } }, 'redis writes failing; buffering up to the bound');
    this.#outage = true;
    // Nobody waits for room while Redis is away: those records are refused, as the bound says.
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(this.#refuse());
  }

  /** A batch that failed transiently goes back to the front, in order, to be resent after a jittered backoff. */
  #requeue(writes: PendingWrite[], error: unknown, nothingStored: boolean): void {
    this.#queue = [...writes, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    if (nothingStored) this.#enterOutage(error);
    this.#o.log.debug({ err: { message: describeError(error) }, records: writes.length }, 'redis write failed; records kept for retry');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#pump();
    }, backoffMs(++this.#attempt));
    this.#retryTimer.unref();
  }

  #admitWaiters(): void {
    while (this.#roomWaiters.length > 0 && this.#size < this.#o.bufferLimit) {
      const waiter = this.#roomWaiters.shift()!;
      this.#queue.push(waiter.write);
      waiter.resolve();
    }
  }

  #oldestUnsettled(): number {
    return this.#inFlight[0]?.seq ?? this.#queue[this.#head]?.seq ?? this.#roomWaiters[0]?.write.seq ?? Number.POSITIVE_INFINITY;
  }

  #settle(): void {
    const oldest = this.#oldestUnsettled();
    for (const waiter of this.#flushWaiters) {
      if (oldest <= waiter.target) continue;
      clearTimeout(waiter.timer);
      this.#flushWaiters.delete(waiter);
      const dropped = waiter.reportDrops ? this.#drops.filter((d) => d.seq <= waiter.target) : [];
      if (dropped.length === 0) {
        waiter.resolve();
        continue;
      }
      // Reported once: a later flush does not fail again for the same records.
      this.#drops = this.#drops.filter((d) => d.seq > waiter.target);
      const message = `${dropped.length} accepted record(s) were not stored and were dropped`;
      const details = { dropped: dropped.length };
      waiter.reject(
        dropped.some((d) => d.config)
          ? configError(`flush: ${message}: ${describeError(this.#lastFailure)}`, this.#lastFailure, details)
          : new PapyraError('PAPYRA_IO', `Redis refused writes: ${message}.`, { details }),
      );
    }
  }
}

function droppedError(bufferLimit: number): PapyraError {
  return unavailableError(`the write buffer of ${bufferLimit} records is full; the record was dropped`, undefined, { dropped: true, bufferLimit });
}
