import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  PersistenceMetrics,
  backendClosedError,
  normalizeListQuery,
  normalizeRetention,
  retainedMask,
  silentLogger,
  systemClock,
  type Anomaly,
  type BackendCapabilities,
  type CompactionReport,
  type ListQuery,
  type Logger,
  type OperationOptions,
  type PersistedAudit,
  type PersistedDeadLetter,
  type PersistedEvent,
  type PersistedRecord,
  type PersistenceBackend,
  type RecordKind,
  type RecoveryConfig,
  type RecoveryReport,
  type RetentionPolicy,
  type ScanReport,
  type WallClock,
} from '@papyra/persistence-contract';
import {
  DEFAULT_MAX_LINE_BYTES,
  SegmentLock,
  SegmentWriter,
  appendRecord,
  checkRecoveryConfig,
  clearLeftovers,
  collectRetentionItems,
  compactionReport,
  emptyRecovery,
  findLeftovers,
  fsError,
  listRecords,
  observeCompaction,
  observeRecovery,
  observeScan,
  quarantineCopy,
  repairSegment,
  rewriteExcluding,
  scanSegment,
  segmentOperation,
  writerMetrics,
  type ByteRange,
  type FileBackendOptions,
  type FsyncMode,
  type RewriteRecovery,
} from '@papyra/backend-ndjson/segments';
import { invalidConfig } from './errors.js';
import { commitJournal, readJournal, resolveView, rollForward, stagedOf, type JournalState, type JournalStep, type SetFile } from './journal.js';
import { SetLayout, listSet, type Listing } from './layout.js';

export interface RotatingBackendOptions extends FileBackendOptions {
  /** The active file; rotated files are `path.1` (newest) … `path.<maxFiles-1>` (oldest). */
  path: string;
  /** Rotate before a record would make the active file larger than this (a bigger record gets a file of its own). */
  maxBytes: number;
  /** Files in the set, the active one included; when all exist, rotation deletes the oldest. */
  maxFiles: number;
}

/** What one consistent look at the set found. */
interface SetView {
  listing: Listing;
  journal: JournalState;
  files: SetFile[];
}

const FSYNC_MODES: readonly FsyncMode[] = ['never', 'interval', 'always'];
const NAME = 'rotating';
/** Optimistic attempts of a read racing rotations before it holds this process's appends. */
const READ_ATTEMPTS = 4;

/** Papyra persistence in a bounded set of rotated NDJSON files (SPEC §7), built on the ndjson segment primitives. */
export class RotatingBackend implements PersistenceBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = Object.freeze({ scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly fsync: FsyncMode;
  readonly #layout: SetLayout;
  readonly #clock: WallClock;
  readonly #log: Logger;
  readonly #maxLineBytes: number;
  readonly #lock: SegmentLock;
  readonly #writer: SegmentWriter;
  /** Rotations done by this instance: a read that saw it change retries. */
  #rotations = 0;
  /** Scans, recoveries and compactions of this instance run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | null = null;

  constructor(options: RotatingBackendOptions) {
    if (typeof options?.path !== 'string' || options.path === '') throw invalidConfig('RotatingBackend needs a non-empty `path`.');
    const fsync = options.fsync ?? 'interval';
    if (!FSYNC_MODES.includes(fsync)) throw invalidConfig(`fsync must be one of ${FSYNC_MODES.join(', ')}, got ${JSON.stringify(fsync)}.`, { fsync });
    for (const key of ['maxBytes', 'maxFiles', 'fsyncIntervalMs', 'maxLineBytes'] as const) {
      const value = options[key];
      if ((value !== undefined || key === 'maxBytes' || key === 'maxFiles') && (!Number.isSafeInteger(value) || (value as number) <= 0)) {
        throw invalidConfig(`${key} must be a positive integer, got ${JSON.stringify(value)}.`, { [key]: value });
      }
    }
    this.path = resolve(options.path);
    this.maxBytes = options.maxBytes;
    this.maxFiles = options.maxFiles;
    this.fsync = fsync;
    this.retention = normalizeRetention(options.retention);
    this.#layout = new SetLayout(this.path, this.maxFiles);
    this.#clock = options.clock ?? systemClock;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#log = (options.logger ?? silentLogger).child({ component: 'persistence', backend: NAME });
    // One lock for the whole set, beside the active file.
    this.#lock = new SegmentLock(this.path);
    this.#writer = new SegmentWriter({
      path: this.path,
      fsync,
      ...(options.fsyncIntervalMs !== undefined && { fsyncIntervalMs: options.fsyncIntervalMs }),
      logger: this.#log,
      beforeOpen: () => {
        this.#lock.acquire('write');
        // A compaction committed by a process that then died is completed before anything is appended.
        this.#completeCompaction();
      },
      rotation: {
        shouldRotate: (currentBytes, lineBytes) => currentBytes + lineBytes > this.maxBytes,
        rotate: () => this.#rotate(),
      },
      ...writerMetrics(this.metrics),
    });
  }

  recordEvent(event: PersistedEvent): Promise<void> {
    return this.#append(event, 'event');
  }

  recordAudit(audit: PersistedAudit): Promise<void> {
    return this.#append(audit, 'audit');
  }

  recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void> {
    return this.#append(deadLetter, 'dead_letter');
  }

  listEvents(query?: ListQuery): Promise<PersistedEvent[]> {
    return this.#list<PersistedEvent>('event', query);
  }

  listAudits(query?: ListQuery): Promise<PersistedAudit[]> {
    return this.#list<PersistedAudit>('audit', query);
  }

  listDeadLetters(query?: ListQuery): Promise<PersistedDeadLetter[]> {
    return this.#list<PersistedDeadLetter>('dead_letter', query);
  }

  /** The members of the set that exist now, oldest first (as readers see them). */
  async files(): Promise<string[]> {
    this.#assertOpen();
    return (await this.#view()).files.map((f) => f.path);
  }

  /** Read-only: line anomalies of every file, our leftovers, an unfinished compaction, and orphans. */
  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#assertOpen();
    return this.#serial(async () => {
      await this.#writer.written();
      return (await observeScan(this.metrics, this.#log, () => this.#consistent((view) => this.#scan(view, options, 'scan')))).report;
    });
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#assertOpen();
    const recovery = checkRecoveryConfig(config);
    return this.#serial(() =>
      observeRecovery(this.metrics, this.#log, () =>
        recovery.mode === 'ignore'
          ? this.#recoverIgnore(options)
          : this.#rewriting(
              () => this.#repair(recovery, options),
              () => emptyRecovery(NAME, recovery.mode),
            ),
      ),
    );
  }

  /** Physically applies retention across the set, committed atomically by a journal. Never runs by itself. */
  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#assertOpen();
    return this.#serial(() =>
      observeCompaction(this.metrics, this.#log, () =>
        this.#rewriting(
          () => this.#compact(options),
          () => compactionReport(NAME, { beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 }),
        ),
      ),
    );
  }

  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#writer.flush();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#writer.close();
        await this.#queue;
      } finally {
        this.#lock.release('write');
      }
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing) throw backendClosedError(NAME);
  }

  #append(record: PersistedRecord, kind: RecordKind): Promise<void> {
    if (this.#closing) return Promise.reject(backendClosedError(NAME));
    return appendRecord(this.#writer, this.metrics, record, kind);
  }

  /**
   * The rotation rule, run by the writer between two lines with the active file closed: the
   * files shift up by one slot into the first free one (so gaps left by compaction are filled
   * first), and when every slot is taken the oldest file is deleted. Each rename is atomic and they
   * run oldest first, so a crash between two leaves the files in order with at most a gap.
   */
  #rotate(): void {
    const last = this.maxFiles - 1;
    let free = 1;
    while (free <= last && existsSync(this.#layout.slot(free))) free += 1;
    if (free > last) {
      free = last;
      this.#dropOldest(this.#layout.slot(last));
    }
    for (let i = free; i >= 1; i--) {
      const from = this.#layout.slot(i - 1);
      try {
        renameSync(from, this.#layout.slot(i));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, from, 'rotate');
      }
    }
    // The writer fsyncs the directory when it creates the new active file.
    this.#rotations += 1;
  }

  /** Deletes the oldest file to keep the set bounded; its records are counted as dropped. */
  #dropOldest(file: string): void {
    let records: number;
    try {
      // Complete lines: one per record, unless the file was damaged. Bounded by maxBytes (or one record).
      const bytes = readFileSync(file);
      records = 0;
      for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) records += 1;
      unlinkSync(file);
    } catch (error) {
      throw fsError(error, file, 'delete the oldest file of the set');
    }
    this.metrics.dropped(records, 'rotation');
    this.#log.info({ file, records }, 'rotation deleted the oldest file of the set');
  }

  /** Completes a committed compaction left by a crash (a journal that is invalid is left for scan and recovery). */
  #completeCompaction(): boolean {
    const journal = readJournal(this.#layout);
    if (journal.state !== 'valid') return false;
    rollForward(this.#layout, journal.steps);
    this.#log.info({ steps: journal.steps.length }, 'completed an interrupted compaction');
    return true;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #view(): Promise<SetView> {
    const listing = await listSet(this.#layout);
    const journal = listing.names.has(basename(this.#layout.journal)) ? readJournal(this.#layout) : ({ state: 'none' } as const);
    return { listing, journal, files: resolveView(this.#layout, listing, journal) };
  }

  /** Which file is in which slot (by inode), to see whether a rotation or a commit happened meanwhile. */
  async #fingerprint(files: readonly SetFile[]): Promise<string> {
    const inodes = await Promise.all(files.map((f) => stat(f.read).then((s) => `${f.slot}:${s.ino}`, () => `${f.slot}:gone`)));
    return `${this.#rotations}|${inodes.join(',')}`;
  }

  /**
   * Runs a read of several files as if the set stood still: when a rotation or a compaction moved
   * files meanwhile (here or in another process) the read is repeated; the last attempt holds this
   * process's appends, so only another process could still move files under it.
   */
  async #consistent<T>(read: (view: SetView) => Promise<T>): Promise<T> {
    for (let attempt = 1; attempt < READ_ATTEMPTS; attempt++) {
      const view = await this.#view();
      const before = await this.#fingerprint(view.files);
      const result = await read(view);
      if ((await this.#fingerprint((await this.#view()).files)) === before) return result;
    }
    return this.#writer.exclusive(async () => read(await this.#view()));
  }

  async #list<T extends PersistedRecord>(kind: RecordKind, query: ListQuery | undefined): Promise<T[]> {
    this.#assertOpen();
    const q = normalizeListQuery(query);
    if (q.limit === 0) return [];
    await this.#writer.written();
    const options = { retention: this.retention, now: this.#clock(), maxLineBytes: this.#maxLineBytes };
    return this.#consistent((view) =>
      listRecords<T>(
        view.files.map((f) => f.read),
        kind,
        q,
        options,
      ),
    );
  }

  /** Everything scan reports about one view of the set, files oldest first, then the files beside them. */
  async #scan(view: SetView, options: OperationOptions, phase: 'scan' | 'recover'): Promise<{ report: ScanReport; records: number }> {
    const anomalies: Anomaly[] = [];
    let records = 0;
    const sizes = await Promise.all(view.files.map((f) => stat(f.read).then((s) => s.size, () => 0)));
    const total = sizes.reduce((a, b) => a + b, 0);
    let done = 0;
    for (const [i, file] of view.files.entries()) {
      const segment = await scanSegment(file.read, { reportPath: file.path, maxLineBytes: this.#maxLineBytes, ...segmentOperation(options, phase, { offset: done, total }) });
      anomalies.push(...segment.anomalies);
      records += segment.records;
      done += sizes[i]!;
    }
    anomalies.push(...(await this.#leftovers(view)), ...journalAnomalies(this.#layout.journal, view.journal));
    for (const orphan of view.listing.orphans) {
      anomalies.push({ type: 'ORPHANED_ROTATED_FILE', path: orphan, line: null, offset: null, detail: `not a member of the rotation set (${this.#layout.base} … ${this.#layout.base}.${this.maxFiles - 1})` });
    }
    return { report: { backend: NAME, anomalies }, records };
  }

  /** Temp files of our interrupted operations, except the staged files a committed journal still needs. */
  async #leftovers(view: SetView): Promise<Anomaly[]> {
    const needed = stagedOf(this.#layout, view.journal);
    const found = new Map<string, Anomaly>();
    for (const owner of view.listing.tempOwners) {
      for (const anomaly of await findLeftovers(owner)) if (!needed.has(anomaly.path)) found.set(anomaly.path, anomaly);
    }
    return [...found.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async #recoverIgnore(options: OperationOptions): Promise<RecoveryReport> {
    await this.#writer.written();
    const { report, records } = await observeScan(this.metrics, this.#log, () => this.#consistent((view) => this.#scan(view, options, 'recover')));
    return { backend: NAME, mode: 'ignore', scan: report, postScan: report, repairedFiles: [], quarantinedFiles: [], keptRecords: records, droppedRecords: 0 };
  }

  /**
   * Repair: complete a committed compaction, repair each file on its own (valid lines kept
   * byte-for-byte, in order), remove our leftovers; quarantine also keeps the originals of rewritten
   * files and moves orphans into the quarantine directory.
   */
  async #repair(config: RewriteRecovery, options: OperationOptions): Promise<RecoveryReport> {
    const { report: scan } = await observeScan(this.metrics, this.#log, async () => this.#scan(await this.#view(), options, 'recover'));
    const quarantinedFiles: string[] = [];
    const journal = readJournal(this.#layout);
    if (journal.state === 'valid') this.#completeCompaction();
    else if (journal.state === 'invalid') quarantinedFiles.push(...(await clearLeftovers(journalAnomalies(this.#layout.journal, journal), config)));

    const view = await this.#view();
    const repairedFiles: string[] = [];
    let keptRecords = 0;
    let droppedRecords = 0;
    for (const file of view.files) {
      const repair = await repairSegment(file.path, {
        ...config,
        maxLineBytes: this.#maxLineBytes,
        ...(options.signal && { signal: options.signal }),
      });
      keptRecords += repair.keptRecords;
      droppedRecords += repair.droppedLines;
      if (repair.repaired) repairedFiles.push(file.path);
      if (repair.quarantined) quarantinedFiles.push(repair.quarantined);
    }
    quarantinedFiles.push(...(await clearLeftovers(await this.#leftovers(view), config)));
    if (config.mode === 'quarantine') {
      for (const orphan of view.listing.orphans) {
        quarantinedFiles.push(await quarantineCopy(orphan, config.quarantineDir!));
        await unlink(orphan).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw fsError(error, orphan, 'remove the quarantined orphan');
        });
      }
    }
    const changed = journal.state !== 'none' || repairedFiles.length > 0 || quarantinedFiles.length > 0 || scan.anomalies.some((a) => a.type === 'UNEXPECTED_FILE');
    const postScan = changed ? (await observeScan(this.metrics, this.#log, async () => this.#scan(await this.#view(), {}, 'recover'))).report : scan;
    return { backend: NAME, mode: config.mode, scan, postScan, repairedFiles, quarantinedFiles, keptRecords, droppedRecords };
  }

  /**
   * Compaction across the set. Retention is decided over all files together; each file that loses
   * records gets its new content staged in a temp file beside it (or is marked for deletion when
   * nothing of it is left). Then the journal naming those steps is committed by an atomic rename:
   * before that instant the old set stands, from it the new one (readers resolve the journal, and
   * whoever next holds the lock completes the renames). Nothing is renamed before the commit.
   */
  async #compact(options: OperationOptions): Promise<CompactionReport> {
    this.#completeCompaction();
    const files = (await this.#view()).files;
    const inventories = [];
    for (const file of files) {
      inventories.push(await collectRetentionItems(file.path, { maxLineBytes: this.#maxLineBytes, ...(options.signal && { signal: options.signal }) }));
    }
    const mask = retainedMask(
      inventories.flatMap((inv) => inv.items),
      this.retention,
      this.#clock(),
    );
    const beforeRecords = mask.length;
    const afterRecords = mask.filter(Boolean).length;
    const beforeBytes = inventories.reduce((sum, inv) => sum + inv.bytes, 0);
    let afterBytes = beforeBytes;
    const report = (): CompactionReport => compactionReport(NAME, { beforeRecords, afterRecords, beforeBytes, afterBytes });
    if (afterRecords === beforeRecords) return report();

    const steps: JournalStep[] = [];
    const staged: string[] = [];
    let next = 0;
    try {
      for (const [i, inv] of inventories.entries()) {
        const drop: ByteRange[] = inv.ranges.filter((_, j) => !mask[next + j]);
        next += inv.ranges.length;
        if (drop.length === 0) continue;
        const dropped = drop.reduce((sum, [start, end]) => sum + end - start, 0);
        afterBytes -= dropped;
        const target = basename(files[i]!.path);
        if (dropped === inv.bytes) {
          steps.push({ target, staged: null });
          continue;
        }
        const result = await rewriteExcluding(files[i]!.path, drop, { stage: true, ...(options.signal && { signal: options.signal }) });
        const temp = result?.staged;
        if (!temp) throw fsError(new Error('the file vanished during compaction'), files[i]!.path, 'compact');
        staged.push(temp);
        steps.push({ target, staged: basename(temp) });
      }
      commitJournal(this.#layout, steps);
    } catch (error) {
      for (const temp of staged) await unlink(temp).catch(() => {});
      throw error;
    }
    rollForward(this.#layout, steps);
    return report();
  }

  /**
   * Runs a rewrite of the set: our appends are held back (and reopen the active file afterwards),
   * and the set's lock keeps other processes and instances out. An empty directory needs nothing.
   */
  #rewriting<T>(fn: () => Promise<T>, whenMissing: () => T): Promise<T> {
    return this.#writer.exclusive(async () => {
      const listing = await listSet(this.#layout);
      const ours = [...listing.names].filter((name) => name !== `${this.#layout.base}.lock`);
      if (ours.length === 0) return whenMissing();
      return this.#lock.holding('rewrite', fn);
    });
  }
}

function journalAnomalies(path: string, journal: JournalState): Anomaly[] {
  if (journal.state === 'none') return [];
  const detail =
    journal.state === 'valid'
      ? 'journal of a committed compaction that was interrupted: recovery, the next compaction or the next write completes it'
      : `unreadable compaction journal (${journal.reason}): recovery removes it`;
  return [{ type: 'UNEXPECTED_FILE', path, line: null, offset: null, detail }];
}
