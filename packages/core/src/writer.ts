import type { Logger, PersistedRecord, PersistenceBackend } from '@papyra/persistence-contract';
import { Deque } from './deque.js';

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
  #backend: PersistenceBackend;
  #settings: WriterSettings;
  #log: Logger;
  #scheduled = false;
  #inFlight: Promise<void> | null = null;
  #hung = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(backend: PersistenceBackend, settings: WriterSettings, logger: Logger) {
    this.#backend = backend;
    this.#settings = settings;
    this.#log = logger.child({ component: 'persistence-writer', backend: backend.name });
  }

  /** Records waiting or being written. */
  get pending(): number {
    return this.#queue.length;
  }

  enqueue(record: PersistedRecord): void {
    if (this.#queue.length >= this.#settings.queueCapacity) {
      this.#drop(1, 'queue full');
      return;
    }
    this.#queue.push(record);
    this.counters.queued += 1;
    this.#schedule();
  }

  /** Resolves when everything queued so far has been attempted, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#queue.length === 0 && this.#inFlight === null) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
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
    while (batch.length < this.#settings.batchSize && this.#queue.length > 0) batch.push(this.#queue.shift()!);
    this.#inFlight = this.#writeBatch(batch).finally(() => {
      this.#inFlight = null;
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
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      // Unref'd: a watchdog on a hung write must not keep the process alive after close().
      timer = setTimeout(() => resolve('timeout'), this.#settings.writeTimeoutMs).unref();
    });
    const outcome = await Promise.race([Promise.all(writes.map((w) => w.done)).then(() => 'done' as const), timedOut]);
    clearTimeout(timer);
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
    let promise: Promise<void>;
    try {
      promise = this.#call(record);
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

  #call(record: PersistedRecord): Promise<void> {
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
