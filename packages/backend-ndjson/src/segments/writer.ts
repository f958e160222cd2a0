import { closeSync, existsSync, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { PapyraError, silentLogger, type Logger, type RecordKind } from '@papyra/persistence-contract';
import { fsError, notAFileError } from '../errors.js';
import { FILE_MODE, fsyncDirSync } from './files.js';

const datasync = promisify(fdatasync);

/** `never`: the OS decides; `interval`: fdatasync every `fsyncIntervalMs` when dirty; `always`: a write resolves after its batch's fdatasync. */
export type FsyncMode = 'never' | 'interval' | 'always';

/** Above this many characters a batch is sealed and the next records start another one. */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

export interface BatchCommit {
  records: number;
  bytes: number;
  /** From the first record of the batch being accepted to the batch being durable. */
  latencyMs: number;
  byKind: Record<RecordKind, { records: number; bytes: number }>;
}

/** Lets a caller (the rotating backend) switch files between two lines of a batch. */
export interface RotationHook {
  /** Called before each line is written, with the current file's size and the line's bytes (with `\n`). */
  shouldRotate(currentBytes: number, lineBytes: number): boolean;
  /** Called with the current file flushed and closed; afterwards the writer opens `path` afresh. */
  rotate(): void;
}

export interface SegmentWriterOptions {
  path: string;
  fsync: FsyncMode;
  fsyncIntervalMs?: number;
  /** Called before the file is (re)opened: take the write lock here; throwing refuses the batch. */
  beforeOpen?: () => void;
  onCommit?: (commit: BatchCommit) => void;
  onError?: (error: PapyraError, records: number) => void;
  rotation?: RotationHook;
  logger?: Logger;
}

interface Batch {
  lines: string[];
  kinds: RecordKind[];
  chars: number;
  startedAt: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Appends lines with group commit: every line accepted during one turn of the event loop goes
 * out in one `write`, and all their callers share one promise. With `always` that promise
 * resolves after the batch's fdatasync, and lines arriving meanwhile form the next batch.
 */
export class SegmentWriter {
  readonly path: string;
  readonly fsync: FsyncMode;
  readonly #options: SegmentWriterOptions;
  readonly #log: Logger;
  #queue: Batch[] = [];
  #open: Batch | null = null;
  #fd: number | null = null;
  #size = 0;
  #dirty = false;
  #scheduled = false;
  #draining = false;
  #exclusive = 0;
  #closed = false;
  #syncing: Promise<void> | null = null;
  #idleWaiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(options: SegmentWriterOptions) {
    this.#options = options;
    this.path = options.path;
    this.fsync = options.fsync;
    this.#log = options.logger ?? silentLogger;
    if (options.fsync === 'interval') {
      this.#timer = setInterval(() => {
        this.#syncIfDirty().catch((error: unknown) => this.#log.warn({ err: error, path: this.path }, 'periodic fsync failed'));
      }, options.fsyncIntervalMs ?? 1000);
      this.#timer.unref();
    }
  }

  /** Bytes in the current file, as far as this writer knows (0 before the first open). */
  get size(): number {
    return this.#size;
  }

  /** Accepts one line (without `\n`); resolves when its batch is written (and fsynced with `always`). */
  append(line: string, kind: RecordKind): Promise<void> {
    if (this.#closed) return Promise.reject(new PapyraError('PAPYRA_BACKEND_CLOSED', `The writer of ${this.path} is closed.`));
    let batch = this.#open;
    if (batch === null || batch.chars > MAX_BATCH_CHARS) {
      batch = newBatch();
      this.#open = batch;
      this.#queue.push(batch);
    }
    batch.lines.push(line);
    batch.kinds.push(kind);
    batch.chars += line.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.#drain());
    }
    return batch.promise;
  }

  /** Resolves when everything accepted so far is written (not necessarily fsynced). */
  written(): Promise<void> {
    if (!this.#draining && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Resolves when everything accepted so far is written, and fsynced unless the mode is `never`. */
  async flush(): Promise<void> {
    await this.written();
    if (this.fsync !== 'never') await this.#syncIfDirty();
  }

  /**
   * Runs `fn` (a rewrite of the file) with appends held back: pending lines are written first, new
   * ones wait, and the file is reopened before the next append because `fn` may have replaced it.
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.written();
    this.#exclusive += 1;
    try {
      while (this.#draining) await this.written();
      await this.#closeFile();
      return await fn();
    } finally {
      this.#exclusive -= 1;
      if (this.#exclusive === 0 && this.#queue.length > 0) void this.#drain();
    }
  }

  /** Writes and (unless `never`) fsyncs what is pending, then closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.flush();
    if (this.#timer) clearInterval(this.#timer);
    await this.#closeFile();
  }

  async #drain(): Promise<void> {
    this.#scheduled = false;
    if (this.#draining || this.#exclusive > 0) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0 && this.#exclusive === 0) {
        const batch = this.#queue.shift()!;
        if (batch === this.#open) this.#open = null;
        try {
          await this.#commit(batch);
          batch.resolve();
        } catch (error) {
          const typed = fsError(error, this.path, 'append to');
          this.#log.error({ err: typed, records: batch.lines.length }, 'append failed');
          this.#options.onError?.(typed, batch.lines.length);
          batch.reject(typed);
        }
      }
    } finally {
      this.#draining = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  async #commit(batch: Batch): Promise<void> {
    if (this.#fd === null) this.#openFile();
    const { lines, kinds } = batch;
    const rotation = this.#options.rotation;
    let from = 0;
    let total = 0;
    if (rotation) {
      // The hook may switch files between two lines of the batch.
      let pending = 0;
      for (let i = 0; i < lines.length; i++) {
        const bytes = Buffer.byteLength(lines[i]!) + 1;
        if (this.#size + pending > 0 && rotation.shouldRotate(this.#size + pending, bytes)) {
          if (i > from) total += this.#writeOut(Buffer.from(lines.slice(from, i).join('\n') + '\n'));
          await this.#closeFile();
          rotation.rotate();
          this.#openFile();
          from = i;
          pending = 0;
        }
        pending += bytes;
      }
    }
    total += this.#writeOut(Buffer.from((from === 0 ? lines : lines.slice(from)).join('\n') + '\n'));
    if (this.fsync === 'always') await this.#syncIfDirty();

    // Every line is ASCII when bytes equal characters (the usual case): no per-line byte count.
    const ascii = total === batch.chars + lines.length;
    const byKind = { event: { records: 0, bytes: 0 }, audit: { records: 0, bytes: 0 }, dead_letter: { records: 0, bytes: 0 } };
    for (let i = 0; i < lines.length; i++) {
      const size = ascii ? lines[i]!.length + 1 : Buffer.byteLength(lines[i]!) + 1;
      const slot = byKind[kinds[i]!];
      slot.records += 1;
      slot.bytes += size;
    }
    this.#options.onCommit?.({ records: lines.length, bytes: total, latencyMs: performance.now() - batch.startedAt, byKind });
  }

  /** Writes all of `data` at the end of the file; returns its length. */
  #writeOut(data: Buffer): number {
    const fd = this.#fd!;
    const before = this.#size;
    let done = 0;
    try {
      while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    } catch (error) {
      // Cut a partial write off, so the next batch does not glue onto half a line.
      if (done > 0) {
        try {
          ftruncateSync(fd, before);
        } catch {
          this.#size = before + done;
        }
      }
      throw error;
    }
    this.#size = before + done;
    this.#dirty = true;
    return done;
  }

  #openFile(): void {
    let created = false;
    let fd: number;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw fsError(error, dirname(this.path), 'create the directory of');
    }
    // After the directory exists: the lock file lives there too.
    this.#options.beforeOpen?.();
    try {
      created = !existsSync(this.path);
      fd = openSync(this.path, 'a', FILE_MODE);
    } catch (error) {
      throw fsError(error, this.path, 'open for append');
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw notAFileError(this.path);
    }
    // A new file's directory entry must be durable too.
    if (created && this.fsync !== 'never') fsyncDirSync(dirname(this.path));
    this.#fd = fd;
    this.#size = stat.size;
    this.#log.debug({ path: this.path, size: stat.size, created }, 'opened for append');
  }

  async #closeFile(): Promise<void> {
    if (this.#fd === null) return;
    if (this.fsync !== 'never') await this.#syncIfDirty();
    else await this.#syncing;
    const fd = this.#fd;
    this.#fd = null;
    this.#dirty = false;
    try {
      closeSync(fd);
    } catch (error) {
      this.#log.warn({ err: error, path: this.path }, 'close failed');
    }
  }

  /** One fdatasync at a time; callers that arrive during one wait for it and then sync again if needed. */
  async #syncIfDirty(): Promise<void> {
    while (this.#syncing) await this.#syncing;
    if (!this.#dirty || this.#fd === null) return;
    this.#dirty = false;
    const fd = this.#fd;
    this.#syncing = datasync(fd).then(
      () => {
        this.#syncing = null;
      },
      (error: unknown) => {
        this.#syncing = null;
        this.#dirty = true;
        throw fsError(error, this.path, 'fsync');
      },
    );
    await this.#syncing;
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that does not await must not crash the process with an unhandled rejection here;
  // the error still reaches every caller that awaits the promise.
  promise.catch(() => {});
  return { lines: [], kinds: [], chars: 0, startedAt: performance.now(), promise, resolve, reject };
}
