import { close, existsSync, openSync, read, renameSync, unlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { PersistenceMetrics, type Logger } from '@papyra/persistence-contract';
import { SegmentLock, SegmentWriter, fsError, writerMetrics, type FsyncMode } from '@papyra/backend-ndjson/segments';
import { invalidConfig } from './errors.js';
import { readJournal, rollForward } from './journal.js';
import { SetLayout } from './layout.js';

const readAt = promisify(read);
const closeFd = promisify(close);
const COUNT_CHUNK = 1024 * 1024;

export interface SetWriterConfig {
  path: string;
  maxBytes: number;
  maxFiles: number;
  fsync: FsyncMode;
  fsyncIntervalMs?: number;
  logger: Logger;
}

/** The writer of each set this process has open, by resolved path. */
const open = new Map<string, SetWriter>();

/**
 * Everything about a rotation set that there must be one of per process: the appending writer
 * (so two backend instances on one set share one file offset, one size, one rotation), the lock,
 * the queue of rewrites, and the metrics they feed. Backend instances attach to it and detach;
 * the last to detach closes it.
 */
export class SetWriter {
  readonly layout: SetLayout;
  readonly config: SetWriterConfig;
  readonly metrics = new PersistenceMetrics();
  readonly lock: SegmentLock;
  readonly writer: SegmentWriter;
  readonly #log: Logger;
  #refs = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** Line counts of deleted oldest files still running (see `#dropOldest`). */
  readonly #counting = new Set<Promise<void>>();

  /** The set's writer in this process, created on first use; options that differ from the open one are refused. */
  static attach(config: SetWriterConfig): SetWriter {
    let shared = open.get(config.path);
    if (shared) {
      const was = shared.config;
      for (const key of ['maxBytes', 'maxFiles', 'fsync', 'fsyncIntervalMs'] as const) {
        if (was[key] !== config[key]) {
          throw invalidConfig(
            `Another RotatingBackend in this process has ${config.path} open with ${key} ${JSON.stringify(was[key])}, not ${JSON.stringify(config[key])}.`,
            {
              path: config.path,
              [key]: config[key],
            },
          );
        }
      }
    } else {
      shared = new SetWriter(config);
      open.set(config.path, shared);
    }
    shared.#refs += 1;
    return shared;
  }

  private constructor(config: SetWriterConfig) {
    this.config = config;
    this.layout = new SetLayout(config.path, config.maxFiles);
    this.#log = config.logger;
    // One lock for the whole set, beside the active file.
    this.lock = new SegmentLock(config.path);
    this.writer = new SegmentWriter({
      path: config.path,
      fsync: config.fsync,
      ...(config.fsyncIntervalMs !== undefined && { fsyncIntervalMs: config.fsyncIntervalMs }),
      logger: this.#log,
      beforeOpen: () => {
        this.lock.acquire('write');
        // A compaction committed by a process that then died is completed before anything is appended.
        this.completeCompaction();
      },
      rotation: {
        shouldRotate: (currentBytes, lineBytes) => currentBytes + lineBytes > config.maxBytes,
        rotate: () => this.#rotate(),
      },
      ...writerMetrics(this.metrics),
    });
  }

  /** Runs scans, recoveries and compactions of the set one at a time, whichever instance asks. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Resolves when the records of every deleted oldest file are counted in the metrics. */
  async settled(): Promise<void> {
    while (this.#counting.size > 0) await Promise.all(this.#counting);
  }

  /** One instance is done; the last one closes the writer and releases the lock. */
  async detach(): Promise<void> {
    this.#refs -= 1;
    if (this.#refs > 0) {
      await this.writer.flush();
      return;
    }
    if (open.get(this.config.path) === this) open.delete(this.config.path);
    try {
      await this.writer.close();
      await this.#queue;
      await this.settled();
    } finally {
      this.lock.release('write');
    }
  }

  /** Completes a committed compaction left by a crash (a journal that is invalid is left for scan and recovery). */
  completeCompaction(): boolean {
    const journal = readJournal(this.layout);
    if (journal.state !== 'valid') return false;
    rollForward(this.layout, journal.steps);
    this.#log.info({ steps: journal.steps.length }, 'completed an interrupted compaction');
    return true;
  }

  /**
   * The rotation rule, run by the writer between two lines with the active file closed: the
   * files shift up by one slot into the first free one (so gaps left by compaction are filled
   * first), and when every slot is taken the oldest file is deleted. Each rename is atomic and they
   * run oldest first, so a crash between two leaves the files in order with at most a gap.
   */
  #rotate(): void {
    const last = this.config.maxFiles - 1;
    let free = 1;
    while (free <= last && existsSync(this.layout.slot(free))) free += 1;
    if (free > last) {
      free = last;
      this.#dropOldest(this.layout.slot(last));
    }
    for (let i = free; i >= 1; i--) {
      const from = this.layout.slot(i - 1);
      try {
        renameSync(from, this.layout.slot(i));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, from, 'rotate');
      }
    }
    // The writer fsyncs the directory when it creates the new active file.
  }

  /**
   * Deletes the oldest file to keep the set bounded, at a cost that does not depend on its size:
   * it is opened, unlinked, and its records (complete lines) are counted afterwards from the open
   * descriptor, in chunks, off the append path; then they are counted as dropped and logged. Its
   * blocks are freed when that count ends (`flush()` and `close()` wait for it).
   */
  #dropOldest(file: string): void {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (error) {
      throw fsError(error, file, 'delete the oldest file of the set');
    }
    try {
      unlinkSync(file);
    } catch (error) {
      void closeFd(fd).catch(() => {});
      throw fsError(error, file, 'delete the oldest file of the set');
    }
    const counting = countLines(fd)
      .then(
        (records) => {
          this.metrics.dropped(records, 'rotation');
          this.#log.info({ file, records }, 'rotation deleted the oldest file of the set');
        },
        (error: unknown) => this.#log.warn({ err: error, file }, 'rotation deleted the oldest file of the set; its records could not be counted'),
      )
      .finally(() => {
        this.#counting.delete(counting);
        return closeFd(fd).catch(() => {});
      });
    this.#counting.add(counting);
  }
}

/** Counts the `\n` bytes readable from a descriptor, one chunk at a time. */
async function countLines(fd: number): Promise<number> {
  const buf = Buffer.allocUnsafe(COUNT_CHUNK);
  let lines = 0;
  let pos = 0;
  for (;;) {
    const { bytesRead } = await readAt(fd, buf, 0, COUNT_CHUNK, pos);
    if (bytesRead === 0) return lines;
    for (let i = buf.indexOf(10, 0); i >= 0 && i < bytesRead; i = buf.indexOf(10, i + 1)) lines += 1;
    pos += bytesRead;
  }
}
