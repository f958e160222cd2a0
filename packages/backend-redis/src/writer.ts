import { PapyraError, type Logger, type PersistenceMetrics, type RecordKind } from '@papyra/persistence-contract';
import type { RedisClient } from './connection.js';
import { describeError, isReplyError, unavailableError } from './errors.js';

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
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface WriteQueueOptions {
  client: RedisClient;
  log: Logger;
  metrics: PersistenceMetrics;
  /** Records per pipeline. */
  batchSize: number;
  /** Records accepted but not yet acknowledged, at most. */
  bufferLimit: number;
  /** `MAXLEN ~ n` on every XADD, when set. */
  maxLen: number | undefined;
  /** A flush fails after this long without any write reaching Redis. */
  flushTimeoutMs: number;
  /** Pause before retrying a batch that failed while the client still looked connected. */
  retryDelayMs: number;
}

/**
 * The write path: records are accepted into an ordered queue and sent as pipelines of XADD, one
 * pipeline at a time so order survives failures. While Redis is unreachable the queue is the outage
 * buffer: it keeps up to `bufferLimit` records, refuses (and counts) the rest, and drains in order
 * on reconnect. While Redis is reachable a full queue makes callers wait instead (backpressure).
 */
export class WriteQueue {
  readonly #o: WriteQueueOptions;
  #queue: PendingWrite[] = [];
  #head = 0;
  #inFlight: PendingWrite[] = [];
  #roomWaiters: RoomWaiter[] = [];
  #flushWaiters = new Set<FlushWaiter>();
  #nextSeq = 1;
  #lastProgressAt = Date.now();
  #retryTimer: NodeJS.Timeout | undefined;
  #droppedThisOutage = 0;

  constructor(options: WriteQueueOptions) {
    this.#o = options;
  }

  get #size(): number {
    return this.#queue.length - this.#head + this.#inFlight.length;
  }

  get #connected(): boolean {
    return this.#o.client.status === 'ready';
  }

  /** Resolves once the record is accepted (queued); rejects if it had to be dropped. */
  enqueue(kind: RecordKind, key: string, data: string): Promise<void> {
    const write: PendingWrite = { seq: this.#nextSeq++, kind, key, data, acceptedAt: Date.now() };
    if (this.#size < this.#o.bufferLimit && this.#roomWaiters.length === 0) {
      this.#queue.push(write);
      this.#schedulePump();
      return Promise.resolve();
    }
    if (!this.#connected) return Promise.reject(this.#drop(1));
    return new Promise((resolve, reject) => this.#roomWaiters.push({ write, resolve, reject }));
  }

  /** Resolves when everything enqueued so far has reached Redis (or failed for good). */
  flush(): Promise<void> {
    const target = this.#nextSeq - 1;
    if (this.#oldestUnsettled() > target) return Promise.resolve();
    this.#pump();
    return new Promise((resolve, reject) => {
      const waiter: FlushWaiter = { target, resolve, reject, timer: undefined as unknown as NodeJS.Timeout };
      const check = () => {
        const stalledFor = Date.now() - this.#lastProgressAt;
        if (stalledFor < this.#o.flushTimeoutMs) {
          waiter.timer = setTimeout(check, this.#o.flushTimeoutMs - stalledFor);
          return;
        }
        this.#flushWaiters.delete(waiter);
        reject(
          unavailableError(`flush: no write reached Redis for ${this.#o.flushTimeoutMs} ms`, undefined, {
            buffered: this.#size + this.#roomWaiters.length,
          }),
        );
      };
      waiter.timer = setTimeout(check, this.#o.flushTimeoutMs);
      this.#flushWaiters.add(waiter);
    });
  }

  /** Called when the connection is (again) ready. */
  resume(): void {
    if (this.#droppedThisOutage > 0) {
      this.#o.log.warn({ dropped: this.#droppedThisOutage }, 'records dropped while redis was unreachable (buffer full)');
      this.#droppedThisOutage = 0;
    }
    this.#lastProgressAt = Date.now();
    this.#pump();
  }

  /** Drops whatever is still unsent (counted and logged); returns how many. For close(). */
  discard(reason: string): number {
    clearTimeout(this.#retryTimer);
    const lost = this.#queue.length - this.#head + this.#roomWaiters.length;
    if (lost > 0) {
      this.#o.metrics.dropped(lost, reason);
      this.#o.log.error({ dropped: lost, reason }, 'unsent records dropped');
    }
    this.#queue = [];
    this.#head = 0;
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(droppedError(this.#o.bufferLimit));
    this.#settle();
    return lost;
  }

  #drop(records: number): PapyraError {
    this.#o.metrics.dropped(records, 'buffer_full');
    if (this.#droppedThisOutage === 0) {
      this.#o.log.warn({ bufferLimit: this.#o.bufferLimit }, 'redis unreachable and write buffer full; dropping records');
    }
    this.#droppedThisOutage += records;
    return droppedError(this.#o.bufferLimit);
  }

  #schedulePump(): void {
    // Writes made in the same tick share one pipeline.
    if (this.#inFlight.length === 0 && this.#queue.length - this.#head === 1) queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    if (this.#inFlight.length > 0 || this.#queue.length === this.#head || !this.#connected) return;
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
    const maxLen = this.#o.maxLen;
    for (const w of batch) {
      if (maxLen === undefined) pipeline.xadd(w.key, '*', 'data', w.data);
      else pipeline.xadd(w.key, 'MAXLEN', '~', maxLen, '*', 'data', w.data);
    }
    let results: [Error | null, unknown][];
    try {
      results = (await pipeline.exec()) ?? batch.map(() => [new Error('pipeline discarded'), null]);
    } catch (error) {
      results = batch.map(() => [error as Error, null]);
    }
    const now = Date.now();
    const retry: PendingWrite[] = [];
    let lastError: Error | null = null;
    for (let i = 0; i < batch.length; i++) {
      const w = batch[i]!;
      const error = results[i]?.[0] ?? null;
      if (error === null) {
        this.#o.metrics.recordWritten(w.kind, 1, Buffer.byteLength(w.data) + 1, now - w.acceptedAt);
      } else if (isReplyError(error)) {
        // Redis refused this entry itself (WRONGTYPE, OOM…): retrying cannot help.
        this.#o.metrics.writeFailed(1, error);
        this.#o.log.error({ err: { message: describeError(error) }, key: w.key }, 'redis refused a record; it was not written');
      } else {
        retry.push(w);
        lastError = error;
      }
    }
    if (retry.length < batch.length) this.#lastProgressAt = now;
    this.#inFlight = [];
    if (retry.length > 0) this.#requeue(retry, lastError);
    this.#admitWaiters();
    this.#settle();
    if (retry.length === 0) this.#pump();
  }

  /** A batch that failed on the connection goes back to the front, in order, to be resent. */
  #requeue(writes: PendingWrite[], error: Error | null): void {
    this.#queue = [...writes, ...this.#queue.slice(this.#head)];
    this.#head = 0;
    this.#o.log.debug({ err: { message: describeError(error) }, records: writes.length }, 'redis write failed; records kept for retry');
    // Nobody waits for room while Redis is away: those records are refused, as the bound says.
    if (!this.#connected) for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(this.#drop(1));
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#pump(), this.#o.retryDelayMs);
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
    if (this.#flushWaiters.size === 0) return;
    const oldest = this.#oldestUnsettled();
    for (const waiter of this.#flushWaiters) {
      if (oldest > waiter.target) {
        clearTimeout(waiter.timer);
        this.#flushWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}

function droppedError(bufferLimit: number): PapyraError {
  return unavailableError(`the write buffer of ${bufferLimit} records is full; the record was dropped`, undefined, { dropped: true, bufferLimit });
}
