import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PapyraError, silentLogger, type Logger, type RecordKind } from '@papyra/persistence-contract';
import { fsError, notAFileError } from '../errors.js';
import { fsyncDirSync } from './files.js';
import { nodeSegmentFs, type SegmentFs } from './fs.js';
import { FILE_MODE, resolveDataPath } from './naming.js';

/** `never`: the OS decides; `interval`: fdatasync every `fsyncIntervalMs` when dirty; `always`: a write resolves after its batch's fdatasync. */
export type FsyncMode = 'never' | 'interval' | 'always';

/** Above this many characters a batch is sealed and the next records start another one. */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

/**
 * Without `always`, a batch is also sealed at this many lines and written at once when the writer
 * is idle: a burst then does not hold its lines until the end of the event loop turn (they die
 * young, so far less GC work) nor build one huge string. With `always` every batch costs an fsync,
 * so only the size bound applies.
 */
const EAGER_BATCH_LINES = 1000;

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
  /** The file system to write through; default `node:fs` (tests inject faults here). */
  fs?: SegmentFs;
}

interface Batch {
  lines: string[];
  kinds: RecordKind[];
  chars: number;
  /** Lines and characters per kind, so a commit of ASCII lines needs no per-line pass. */
  byKind: Record<RecordKind, { records: number; chars: number }>;
  startedAt: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Appends lines with group commit: the lines accepted during one turn of the event loop go out
 * together, in one `write` per batch, and the callers of a batch share one promise. With `always`
 * that promise resolves after the batch's fdatasync, and lines arriving meanwhile form the next
 * batch. Otherwise a burst is cut into batches of `EAGER_BATCH_LINES`, each written as soon as it is full.
 */
export class SegmentWriter {
  readonly path: string;
  readonly fsync: FsyncMode;
  readonly #options: SegmentWriterOptions;
  readonly #log: Logger;
  readonly #fs: SegmentFs;
  #queue: Batch[] = [];
  #open: Batch | null = null;
  #fd: number | null = null;
  #size = 0;
  #dirty = false;
  #entryPending = false;
  #scheduled = false;
  #draining = false;
  #exclusive = 0;
  #closed = false;
  #syncing: Promise<void> | null = null;
  /**
   * A failed fdatasync whose lost bytes are still in the file. Sticky: the kernel may have dropped
   * those pages and reports the error once ("fsyncgate"), so a later fsync succeeding proves nothing
   * about them; every later flush() and close() rejects with it.
   */
  #syncFailure: PapyraError | null = null;
  /** Set when a refused batch could not be cut off the file: every later append is refused with it. */
  #broken: PapyraError | null = null;
  #idleWaiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #eagerLines: number;

  constructor(options: SegmentWriterOptions) {
    this.#options = options;
    this.path = options.path;
    this.fsync = options.fsync;
    this.#log = options.logger ?? silentLogger;
    this.#fs = options.fs ?? nodeSegmentFs;
    this.#eagerLines = options.fsync === 'always' ? Infinity : EAGER_BATCH_LINES;
    if (options.fsync === 'interval') {
      // A failure here is also kept in #syncFailure, so the next flush() or close() reports it.
      this.#timer = setInterval(() => {
        this.#syncIfDirty().catch((error: unknown) => this.#log.error({ err: error, path: this.path }, 'periodic fsync failed'));
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
    if (this.#broken) return Promise.reject(this.#broken);
    let batch = this.#open;
    if (batch === null) {
      batch = newBatch();
      this.#open = batch;
      this.#queue.push(batch);
    }
    batch.lines.push(line);
    batch.kinds.push(kind);
    batch.chars += line.length;
    const slot = batch.byKind[kind];
    slot.records += 1;
    slot.chars += line.length;
    if (batch.chars > MAX_BATCH_CHARS || batch.lines.length >= this.#eagerLines) {
      this.#open = null;
      if (this.#canCommitNow(batch)) this.#commitNow(batch);
    }
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

  /**
   * Resolves when everything accepted so far is written, and fsynced unless the mode is `never`.
   * Rejects, now and on every later call, once an fdatasync has failed over bytes still in the file.
   */
  async flush(): Promise<void> {
    await this.written();
    if (this.fsync !== 'never') await this.#syncIfDirty();
    if (this.#syncFailure) throw this.#syncFailure;
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

  /**
   * Writes and (unless `never`) fsyncs what is pending, then closes the file, also when that fails
   * (the error is reported; the descriptor is not kept). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      if (this.#syncFailure) throw this.#syncFailure;
      return;
    }
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    try {
      await this.flush();
    } finally {
      this.#releaseFd();
    }
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
          this.#failed(batch, error);
        }
      }
    } finally {
      this.#draining = false;
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /**
   * A sealed batch can be written synchronously, inside `append`, when nothing is ahead of it and
   * nothing can need an await: the file is open, no rewrite holds appends, no fsync per batch, no rotation.
   */
  #canCommitNow(batch: Batch): boolean {
    return this.#queue[0] === batch && !this.#draining && this.#exclusive === 0 && this.#fd !== null && this.fsync !== 'always' && !this.#options.rotation;
  }

  #commitNow(batch: Batch): void {
    this.#queue.shift();
    try {
      this.#reportCommit(batch, this.#writeOut(joinLines(batch.lines, 0)));
      batch.resolve();
    } catch (error) {
      this.#failed(batch, error);
    }
  }

  #failed(batch: Batch, error: unknown): void {
    const typed = fsError(error, this.path, 'append to');
    this.#log.error({ err: typed, records: batch.lines.length }, 'append failed');
    this.#options.onError?.(typed, batch.lines.length);
    batch.reject(typed);
  }

  async #commit(batch: Batch): Promise<void> {
    if (this.#broken) throw this.#broken;
    if (this.#fd === null) this.#openFile();
    const { lines } = batch;
    const rotation = this.#options.rotation;
    let from = 0;
    let total = 0;
    let rotated = false;
    if (rotation) {
      // The hook may switch files between two lines of the batch.
      let pending = 0;
      for (let i = 0; i < lines.length; i++) {
        const bytes = Buffer.byteLength(lines[i]!) + 1;
        if (this.#size + pending > 0 && rotation.shouldRotate(this.#size + pending, bytes)) {
          if (i > from) total += this.#writeOut(joinLines(lines.slice(from, i), 0));
          await this.#closeFile();
          rotation.rotate();
          this.#openFile();
          rotated = true;
          from = i;
          pending = 0;
        }
        pending += bytes;
      }
    }
    const last = this.#writeOut(joinLines(lines, from));
    total += last;
    if (this.fsync === 'always') {
      // Where this write began, from the file itself, not from what this writer last saw: another
      // instance in this process may have appended since. Nothing appends between the write and
      // this fstat (both synchronous; other processes are locked out).
      let end: number;
      try {
        end = this.#fs.fstatSync(this.#fd!).size;
      } catch (error) {
        this.#refuseFurther(error, 'its end could not be found');
        throw error;
      }
      const start = end - last;
      try {
        await this.#syncIfDirty();
      } catch (error) {
        // The batch is refused, so it must not stay in the file either (a retry would store it
        // twice); after a failed fsync the kernel may have dropped its pages anyway.
        if (rotated) this.#refuseFurther(error, 'part of a refused batch went to a file that is now closed');
        else this.#cutBack(start, end, error);
        throw error;
      }
    }
    this.#reportCommit(batch, total);
  }

  #reportCommit(batch: Batch, total: number): void {
    const onCommit = this.#options.onCommit;
    if (!onCommit) return;
    const { lines, kinds } = batch;
    // Bytes equal characters when every line is ASCII (the usual case); otherwise count per line.
    const ascii = total === batch.chars + lines.length;
    const slot = (kind: RecordKind) => ({ records: batch.byKind[kind].records, bytes: ascii ? batch.byKind[kind].chars + batch.byKind[kind].records : 0 });
    const byKind = { event: slot('event'), audit: slot('audit'), dead_letter: slot('dead_letter') };
    if (!ascii) for (let i = 0; i < lines.length; i++) byKind[kinds[i]!].bytes += Buffer.byteLength(lines[i]!) + 1;
    onCommit({ records: lines.length, bytes: total, latencyMs: performance.now() - batch.startedAt, byKind });
  }

  /**
   * Cuts the refused batch at [start, end) off the file. When that cannot be done (the truncate
   * fails, or another instance in this process appended behind it meanwhile), the batch may be read
   * back, so this writer refuses every later append: a retry must not store it twice.
   */
  #cutBack(start: number, end: number, cause: unknown): void {
    try {
      const fd = this.#fd!;
      if (this.#fs.fstatSync(fd).size !== end) return this.#refuseFurther(cause, 'records were appended behind it');
      this.#fs.ftruncateSync(fd, start);
    } catch (error) {
      return this.#refuseFurther(error, 'the truncate failed');
    }
    this.#size = start;
    // Every earlier batch of this writer was fsynced before this one was written, so the failed
    // fsync can have lost only this batch, which is gone from the file: nothing acknowledged is lost.
    this.#syncFailure = null;
  }

  #refuseFurther(cause: unknown, why: string): void {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code ?? (PapyraError.isInstance(cause) ? cause.details['errno'] : undefined);
    this.#broken = new PapyraError(
      'PAPYRA_IO',
      `Cannot append to ${this.path}: a refused batch could not be cut off the file (${why}), so it may be read back; this writer refuses further appends. Close it, run recover() and open the store again.`,
      { cause, details: { path: this.path, action: 'cut a refused batch off', ...(errno !== undefined && { errno }) } },
    );
    this.#log.error({ err: cause, path: this.path }, 'could not cut a refused batch off the file; refusing further appends');
  }

  /** Writes all of `text` at the end of the file; returns its length in bytes. */
  #writeOut(text: string): number {
    const fd = this.#fd!;
    const length = Buffer.byteLength(text);
    let done = 0;
    try {
      // A string goes out without an intermediate Buffer; only a short write needs the bytes.
      done = this.#fs.writeSync(fd, text);
      if (done < length) {
        const data = Buffer.from(text);
        while (done < length) done += this.#fs.writeSync(fd, data, done, length - done);
      }
    } catch (error) {
      // Cut a partial write off, so the next batch does not glue onto half a line. Its start is
      // taken from the file's end, not from this writer's last idea of the size: another instance
      // in this process may have appended since. Nothing appends between the write and the fstat
      // (both synchronous; other processes are locked out).
      if (done > 0) {
        try {
          const end = this.#fs.fstatSync(fd).size;
          this.#fs.ftruncateSync(fd, end - done);
          this.#size = end - done;
        } catch (truncateError) {
          this.#refuseFurther(truncateError, 'the truncate failed');
        }
      }
      throw error;
    }
    this.#size += done;
    this.#dirty = true;
    return done;
  }

  #openFile(): void {
    let created = false;
    let fd: number;
    try {
      this.#fs.mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (error) {
      throw fsError(error, dirname(this.path), 'create the directory of');
    }
    // After the directory exists: the lock file lives there too.
    this.#options.beforeOpen?.();
    try {
      created = !this.#fs.existsSync(this.path);
      // Readable too, to look at the last byte.
      fd = this.#fs.openSync(this.path, 'a+', FILE_MODE);
    } catch (error) {
      throw fsError(error, this.path, 'open for append');
    }
    try {
      const stat = this.#fs.fstatSync(fd);
      if (!stat.isFile()) throw notAFileError(this.path);
      this.#fd = fd;
      this.#size = stat.size;
      this.#sealTornTail();
      // A new file's directory entry must be durable too; until that fsync succeeds, every open
      // retries it. The entry is in the directory of the file the path resolves to (through a link).
      if (created) this.#entryPending = true;
      if (this.#entryPending && this.fsync !== 'never') fsyncDirSync(dirname(resolveDataPath(this.path)), this.#fs);
      this.#entryPending = false;
    } catch (error) {
      this.#fd = null;
      this.#fs.closeSync(fd);
      throw fsError(error, this.path, 'open for append');
    }
    this.#log.debug({ path: this.path, size: this.#size, created }, 'opened for append');
  }

  /**
   * A file left with a torn last line (a crash mid-write) gets a `\n` before our first line, or
   * that line would be glued onto the fragment and a repair would drop both. The fragment becomes
   * an ordinary damaged line that scan reports and repair removes.
   */
  #sealTornTail(): void {
    const end = this.#size;
    if (end === 0) return;
    const last = Buffer.alloc(1);
    this.#fs.readSync(this.#fd!, last, 0, 1, end - 1);
    if (last[0] === 0x0a) return;
    this.#writeOut('\n');
    this.#log.warn({ path: this.path, bytes: end }, 'sealed a torn last line left by an earlier writer; scan reports it and repair removes it');
  }

  /** Syncs (unless `never`) and closes the file; the descriptor is released even when the sync fails. */
  async #closeFile(): Promise<void> {
    if (this.#fd === null) return;
    try {
      if (this.fsync !== 'never') await this.#syncIfDirty();
      else await this.#syncing;
    } finally {
      this.#releaseFd();
    }
  }

  #releaseFd(): void {
    const fd = this.#fd;
    if (fd === null) return;
    this.#fd = null;
    this.#dirty = false;
    try {
      this.#fs.closeSync(fd);
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
    this.#syncing = this.#fs.fdatasync(fd).then(
      () => {
        this.#syncing = null;
      },
      (error: unknown) => {
        this.#syncing = null;
        this.#dirty = true;
        const typed = fsError(error, this.path, 'fsync');
        this.#syncFailure ??= typed;
        throw typed;
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
  const byKind = { event: { records: 0, chars: 0 }, audit: { records: 0, chars: 0 }, dead_letter: { records: 0, chars: 0 } };
  return { lines: [], kinds: [], chars: 0, byKind, startedAt: performance.now(), promise, resolve, reject };
}

/** `lines[from..]` as one NDJSON chunk. */
function joinLines(lines: readonly string[], from: number): string {
  return (from === 0 ? lines : lines.slice(from)).join('\n') + '\n';
}
