import type { Logger, PersistedRecord, PersistenceBackend } from '@papyra/persistence-contract';
import { Deque } from './deque.js';
import { clearTimer, setTimer, type Timer } from './timers.js';

export interface WriterSettings {
  queueCapacity: number;
  batchSize: number;
  writeTimeoutMs: number;
  maxHungWrites: number;
}

export interface WriterCounters {
  /** Records accepted into the queue. */
  queued: number;
  /** Records the backend confirmed. */
  written: number;
  /** Records whose write threw, rejected or timed out. */
  writeErrors: number;
  /** Of `writeErrors`, the ones that timed out. */
  writeTimeouts: number;
  /** Records never handed to the backend (queue full, or too many writes hanging). */
  dropped: number;
}

/**
 * Writes records off the actors' turns, in batches, best effort: whatever the backend does (throw,
 * reject, hang), enqueue() stays O(1) and never throws, memory stays bounded, and every record
 * that does not reach the store is counted and logged.
 */
export class PersistenceWriter {
  readonly counters: WriterCounters = { queued: 0, written: 0, writeErrors: 0, writeTimeouts: 0, dropped: 0 };
  #queue = new Deque<PersistedRecord>(64);
  /** Monotonic time each queued record was accepted, parallel to #queue. */
  #acceptedAt = new Deque<number>(64);
  /** When the oldest record of the batch in flight was accepted; null with no batch in flight. */
  #inFlightSince: number | null = null;
  #inFlightCount = 0;
  #monotonic: () => number;
  #backend: PersistenceBackend;
  #settings: WriterSettings;
  #log: Logger;
  #scheduled = false;
  #inFlight: Promise<void> | null = null;
  #hung = 0;
  #idleWaiters: (() => void)[] = [];
  #roomWaiters = new Deque<() => void>();
  /** Set by close(): lifecycle facts are then held (the stopping actors wait for room) rather than shed. */
  closing = false;

  constructor(backend: PersistenceBackend, settings: WriterSettings, logger: Logger, monotonic: () => number) {
    this.#backend = backend;
    this.#monotonic = monotonic;
    this.#settings = settings;
    this.#log = logger.child({ component: 'persistence-writer', backend: backend.name });
  }

  /** Records waiting or being written. */
  get pending(): number {
    return this.#queue.length + this.#inFlightCount;
  }

  /**
   * Age (ms, monotonic clock) of the oldest record accepted but not yet settled by the backend
   * (acknowledged, failed or timed out); null when nothing is pending. A readiness signal: it grows
   * while the backend is slow or hung, up to `writeTimeoutMs` plus queueing time.
   */
  get oldestPendingAgeMs(): number | null {
    const since = this.#inFlightSince ?? this.#acceptedAt.peek();
    return since === undefined ? null : Math.max(0, this.#monotonic() - since);
  }

  /**
   * Undefined while the queue has room; else resolves once it has. Memory stays bounded by the
   * queue plus what the waiting callers hold (close() uses it so that no fact is shed).
   */
  room(): Promise<void> | undefined {
    if (this.#queue.length < this.#settings.queueCapacity) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  enqueue(record: PersistedRecord): void {
    if (this.#queue.length >= this.#settings.queueCapacity && !this.closing) {
      this.#drop(1, 'queue full');
      return;
    }
    this.#queue.push(record);
    this.#acceptedAt.push(this.#monotonic());
    this.counters.queued += 1;
    this.#schedule();
  }

  /** Resolves when everything queued so far has been attempted, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#queue.length === 0 && this.#inFlight === null) return true;
    let timer: Timer = null;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimer(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimer(timer);
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight !== null) return;
    this.#scheduled = true;
    // A microtask: after the current actor turn, yet never starved by a busy actor system (which
    // runs on microtasks too); records arriving while a batch is in flight form the next batch.
    queueMicrotask(this.#next);
  }

  #next = (): void => {
    this.#scheduled = false;
    if (this.#queue.length === 0) {
      this.#notifyIdle();
      return;
    }
    const batch: PersistedRecord[] = [];
    this.#inFlightSince = this.#acceptedAt.peek()!;
    while (batch.length < this.#settings.batchSize && this.#queue.length > 0) {
      batch.push(this.#queue.shift()!);
      this.#acceptedAt.shift();
    }
    this.#inFlightCount = batch.length;
    this.#inFlight = this.#writeBatch(batch).finally(() => {
      this.#inFlight = null;
      this.#inFlightSince = null;
      this.#inFlightCount = 0;
      this.#notifyRoom();
      // Keep going while there is work: a fast backend must keep up with a burst of records.
      if (this.#queue.length > 0) this.#next();
      else this.#notifyIdle();
    });
  };

  async #writeBatch(batch: PersistedRecord[]): Promise<void> {
    if (this.#hung >= this.#settings.maxHungWrites) {
      this.#drop(batch.length, 'backend writes hanging');
      return;
    }
    const writes = batch.map((record) => this.#write(record));
    let timer: Timer = null;
    const timedOut = new Promise<'timeout'>((resolve) => {
      // Unref'd: a watchdog on a hung write must not keep the process alive after close().
      timer = setTimer(() => resolve('timeout'), this.#settings.writeTimeoutMs, true);
    });
    const outcome = await Promise.race([Promise.all(writes.map((w) => w.done)).then(() => 'done' as const), timedOut]);
    clearTimer(timer);
    // One log line per batch, not per record: a dead backend must not flood the log.
    const failed = writes.filter((w) => w.error !== undefined);
    if (failed.length > 0) {
      this.#log.error({ err: failed[0]!.error, records: failed.length }, 'persistence writes failed; records lost');
    }
    if (outcome === 'timeout') {
      const stuck = writes.filter((w) => !w.settled).length;
      this.counters.writeErrors += stuck;
      this.counters.writeTimeouts += stuck;
      this.#log.error({ records: stuck, timeoutMs: this.#settings.writeTimeoutMs }, 'persistence writes timed out; moving on');
      for (const w of writes) {
        if (w.settled) continue;
        w.timedOut = true;
        this.#hung += 1;
      }
    }
  }

  #write(record: PersistedRecord): WriteHandle {
    const handle = { settled: false, timedOut: false } as WriteHandle;
    let promise: Promise<unknown>;
    try {
      // Whatever a backend returns (a promise, a thenable, nothing at all) counts as its answer.
      promise = Promise.resolve(this.#call(record));
    } catch (err) {
      promise = Promise.reject(err);
    }
    handle.done = promise.then(
      () => {
        handle.settled = true;
        if (handle.timedOut) this.#hung -= 1;
        else this.counters.written += 1;
      },
      (err: unknown) => {
        handle.settled = true;
        if (handle.timedOut) {
          this.#hung -= 1;
          return;
        }
        this.counters.writeErrors += 1;
        handle.error = err;
      },
    );
    return handle;
  }

  #call(record: PersistedRecord): unknown {
    switch (record.kind) {
      case 'event':
        return this.#backend.recordEvent(record);
      case 'audit':
        return this.#backend.recordAudit(record);
      case 'dead_letter':
        return this.#backend.recordDeadLetter(record);
    }
  }

  #drop(records: number, reason: string): void {
    const before = this.counters.dropped;
    this.counters.dropped += records;
    // Log the first drop of every thousand so a long outage cannot flood the log.
    if (Math.floor(before / 1000) !== Math.floor(this.counters.dropped / 1000) || before === 0) {
      this.#log.warn({ dropped: this.counters.dropped, reason }, 'persistence records dropped');
    }
  }

  #notifyRoom(): void {
    const capacity = this.#settings.queueCapacity;
    // One waiter per free slot: each writes at least one record once woken.
    for (let free = capacity - this.#queue.length; free > 0 && this.#roomWaiters.length > 0; free--) this.#roomWaiters.shift()!();
  }

  #notifyIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

interface WriteHandle {
  settled: boolean;
  timedOut: boolean;
  error?: unknown;
  done: Promise<void>;
}
