import { constants } from 'node:fs';
import { access, stat, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import {
  PapyraError,
  normalizeListQuery,
  retainedMask,
  totalOf,
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
  type PersistenceMetrics,
  type ReadOptions,
  type RecordKind,
  type RecoveryConfig,
  type RecoveryReport,
  type RetentionPolicy,
  type ScanReport,
  type StoredRecord,
  type StoreStats,
  type WallClock,
} from '@papyra/persistence-contract';
import {
  ClosedGuard,
  checkRecoveryConfig,
  cleanRecovery,
  compactionReport,
  observeCompaction,
  observeRecovery,
  observeScan,
  throwIfAborted,
} from '@papyra/persistence-contract/kit';
import {
  appendRecord,
  bounded,
  clearLeftovers,
  collectStatistics,
  collectRetentionItems,
  findLeftovers,
  fsError,
  listRecords,
  normalizeFileOptions,
  quarantineCopy,
  repairSegment,
  rewriteExcluding,
  scanSegment,
  segmentOperation,
  resolveDataPath,
  visibleRecords,
  type ByteRange,
  type FileBackendOptions,
  type FsyncMode,
  type RewriteRecovery,
  type SegmentSource,
} from '@papyra/backend-ndjson/segments';
import { commitJournal, readJournal, rollForward, stagedOf, type JournalState, type JournalStep } from './journal.js';
import { listSet, type SetLayout } from './layout.js';
import { SetWriter } from './set-writer.js';
import { openSnapshot, viewOf, type SetView, type Snapshot, type SnapshotOptions } from './snapshot.js';

export interface RotatingBackendOptions extends FileBackendOptions {
  /** The active file; rotated files are `path.1` (newest) … `path.<maxFiles-1>` (oldest). */
  path: string;
  /** Rotate before a record would make the active file larger than this (a bigger record gets a file of its own). */
  maxBytes: number;
  /** Files in the set, the active one included; when all exist, rotation deletes the oldest. */
  maxFiles: number;
  /**
   * Attempts of a read (list, scan) to open one consistent snapshot of the set while other
   * processes rotate or compact it, before failing with PAPYRA_CONCURRENT_MODIFICATION (default 12).
   */
  readAttempts?: number;
  /** See `ListRecordsOptions.staleWindow` of the segment primitives (default 10,000). */
  staleWindow?: number;
}

const NAME = 'rotating';

/** Papyra persistence in a bounded set of rotated NDJSON files (SPEC §7), built on the ndjson segment primitives. */
export class RotatingBackend implements PersistenceBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = Object.freeze({ scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
  readonly retention: RetentionPolicy;
  /** Shared by every instance on the same set in this process (they share one writer). */
  readonly metrics: PersistenceMetrics;
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  readonly fsync: FsyncMode;
  readonly #set: SetWriter;
  readonly #layout: SetLayout;
  readonly #clock: WallClock;
  readonly #log: Logger;
  readonly #maxLineBytes: number;
  readonly #snapshot: SnapshotOptions;
  readonly #staleWindow: number | undefined;
  readonly #guard = new ClosedGuard(NAME);
  #closing: Promise<void> | null = null;

  constructor(options: RotatingBackendOptions) {
    const settings = normalizeFileOptions(NAME, options, { required: ['maxBytes', 'maxFiles'], optional: ['readAttempts', 'staleWindow'] });
    this.path = settings.path;
    this.maxBytes = options.maxBytes;
    this.maxFiles = options.maxFiles;
    this.fsync = settings.fsync;
    this.retention = settings.retention;
    this.#clock = settings.clock;
    this.#maxLineBytes = settings.maxLineBytes;
    this.#log = settings.log;
    this.#snapshot = options.readAttempts !== undefined ? { attempts: options.readAttempts } : {};
    this.#staleWindow = options.staleWindow;
    this.#set = SetWriter.attach({
      // Through symbolic links: one set, one writer, however it is reached.
      path: resolveDataPath(this.path),
      maxBytes: this.maxBytes,
      maxFiles: this.maxFiles,
      fsync: this.fsync,
      ...(settings.fsyncIntervalMs !== undefined && { fsyncIntervalMs: settings.fsyncIntervalMs }),
      logger: this.#log,
    });
    this.#layout = this.#set.layout;
    this.metrics = this.#set.metrics;
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
    this.#guard.assertOpen();
    return (await viewOf(this.#layout)).files.map((f) => f.path);
  }

  /**
   * `storeStats()` of the set: the visible records per kind (what lists show), bytes counted as
   * retention counts them (each line as stored, with its `\n`), from one consistent snapshot in one
   * streaming pass (two with a count or byte retention limit).
   */
  async stats(options: { signal?: AbortSignal } = {}): Promise<StoreStats> {
    this.#guard.assertOpen();
    await this.#set.writer.written();
    const { kinds } = await this.#snapshotRead((snapshot) =>
      collectStatistics(
        snapshot.files.map((f) => f.segment),
        { retention: this.retention, now: this.#clock(), maxLineBytes: this.#maxLineBytes, ...(options.signal && { signal: options.signal }) },
      ),
    );
    return { backend: NAME, kinds, total: totalOf(kinds) };
  }

  /**
   * Streams the visible records of the set (what lists show) of `kinds`, `since <= timestamp <
   * until`, oldest first per kind, each with its line as stored, from one consistent snapshot held
   * open until the iteration ends. Memory is bounded whatever the set's size: one pass per kind
   * (after a counting pass when `maxRecords` or `maxTotalBytes` is set), a batch held at a time.
   */
  async *records(options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    this.#guard.assertOpen();
    throwIfAborted('read', options);
    await this.#set.writer.written();
    const snapshot = await openSnapshot(this.#layout, this.#snapshot);
    try {
      yield* visibleRecords(
        snapshot.files.map((f) => f.segment),
        options,
        { retention: this.retention, now: this.#clock(), maxLineBytes: this.#maxLineBytes },
      );
    } finally {
      await snapshot.close();
    }
  }

  /** Read-only: line anomalies of every file, our leftovers, an unfinished compaction, and orphans. */
  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#guard.assertOpen();
    return this.#set.serial(async () => {
      await this.#set.writer.written();
      return (await observeScan(this.metrics, this.#log, () => this.#snapshotRead((snapshot) => this.#scanSnapshot(snapshot, options, 'scan')))).report;
    });
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#guard.assertOpen();
    const recovery = checkRecoveryConfig(config);
    return this.#set.serial(() =>
      observeRecovery(this.metrics, this.#log, () =>
        recovery.mode === 'ignore'
          ? this.#recoverIgnore(options)
          : this.#rewriting(
              () => this.#repair(recovery as RewriteRecovery, options),
              () => cleanRecovery(NAME, recovery.mode),
            ),
      ),
    );
  }

  /** Physically applies retention across the set, committed atomically by a journal. Never runs by itself. */
  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#guard.assertOpen();
    return this.#set.serial(() =>
      observeCompaction(this.metrics, this.#log, () =>
        this.#rewriting(
          () => this.#compact(options),
          () => compactionReport(NAME, { beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 }),
        ),
      ),
    );
  }

  /**
   * Checks, read-only and within `timeoutMs` (default 5 s), that the set can be written: the active
   * file (or, before the first write, the nearest existing directory on its path) is there, is
   * what it should be, and is writable, as is the directory rotation renames in.
   */
  async probe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.#guard.assertOpen();
    const { timeoutMs = 5000 } = options;
    throwIfAborted('probe', options);
    await bounded(
      probeSet(this.#layout.path),
      timeoutMs,
      options.signal,
      () =>
        new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', `The rotation set ${this.path} did not answer within ${timeoutMs} ms.`, {
          details: { path: this.path, timeoutMs },
        }),
    );
  }

  /** Resolves when every accepted write is as durable as the fsync mode promises and rotation's counts are in the metrics. */
  async flush(): Promise<void> {
    this.#guard.assertOpen();
    await this.#set.writer.flush();
    await this.#set.settled();
  }

  close(): Promise<void> {
    this.#guard.markClosed();
    this.#closing ??= this.#set.detach();
    return this.#closing;
  }

  #append(record: PersistedRecord, kind: RecordKind): Promise<void> {
    try {
      this.#guard.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return appendRecord(this.#set.writer, this.metrics, record, kind);
  }

  /** Runs a read on one consistent snapshot of the set (see `openSnapshot`), closing it afterwards. */
  async #snapshotRead<T>(read: (snapshot: Snapshot) => Promise<T>): Promise<T> {
    const snapshot = await openSnapshot(this.#layout, this.#snapshot);
    try {
      return await read(snapshot);
    } finally {
      await snapshot.close();
    }
  }

  async #list<T extends PersistedRecord>(kind: RecordKind, query: ListQuery | undefined): Promise<T[]> {
    this.#guard.assertOpen();
    const q = normalizeListQuery(query);
    if (q.limit === 0) return [];
    await this.#set.writer.written();
    const options = {
      retention: this.retention,
      now: this.#clock(),
      maxLineBytes: this.#maxLineBytes,
      ...(this.#staleWindow !== undefined && { staleWindow: this.#staleWindow }),
    };
    return this.#snapshotRead((snapshot) =>
      listRecords<T>(
        snapshot.files.map((f) => f.segment),
        kind,
        q,
        options,
      ),
    );
  }

  #scanSnapshot(snapshot: Snapshot, options: OperationOptions, phase: 'scan' | 'recover'): Promise<{ report: ScanReport; records: number }> {
    return this.#scan(
      snapshot.view,
      snapshot.files.map((f) => ({ path: f.path, source: f.segment, size: f.segment.size })),
      options,
      phase,
    );
  }

  /** A view read under the set's lock, where nothing moves: its files are read by path. */
  async #scanLocked(options: OperationOptions): Promise<{ report: ScanReport; records: number }> {
    const view = await viewOf(this.#layout);
    const sizes = await Promise.all(
      view.files.map((f) =>
        stat(f.read).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    return this.#scan(
      view,
      view.files.map((f, i) => ({ path: f.path, source: f.read, size: sizes[i]! })),
      options,
      'recover',
    );
  }

  /** Everything scan reports about one view of the set, files oldest first, then the files beside them. */
  async #scan(
    view: SetView,
    files: readonly { path: string; source: SegmentSource; size: number }[],
    options: OperationOptions,
    phase: 'scan' | 'recover',
  ): Promise<{ report: ScanReport; records: number }> {
    const anomalies: Anomaly[] = [];
    let records = 0;
    const total = files.reduce((sum, f) => sum + f.size, 0);
    let done = 0;
    for (const file of files) {
      const segment = await scanSegment(file.source, {
        reportPath: file.path,
        maxLineBytes: this.#maxLineBytes,
        ...segmentOperation(options, phase, { offset: done, total }),
      });
      anomalies.push(...segment.anomalies);
      records += segment.records;
      done += file.size;
    }
    anomalies.push(...(await this.#leftovers(view)), ...journalAnomalies(view.journal));
    for (const orphan of view.listing.orphans) {
      anomalies.push({
        type: 'ORPHANED_ROTATED_FILE',
        path: orphan,
        line: null,
        offset: null,
        detail: `not a member of the rotation set (${this.#layout.base} … ${this.#layout.base}.${this.maxFiles - 1})`,
      });
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
    await this.#set.writer.written();
    const { report, records } = await observeScan(this.metrics, this.#log, () =>
      this.#snapshotRead((snapshot) => this.#scanSnapshot(snapshot, options, 'recover')),
    );
    return { backend: NAME, mode: 'ignore', scan: report, postScan: report, repairedFiles: [], quarantinedFiles: [], keptRecords: records, droppedRecords: 0 };
  }

  /**
   * Repair: complete a committed compaction, repair each file on its own (valid lines kept
   * byte-for-byte, in order), remove our leftovers; quarantine also keeps the originals of rewritten
   * files and moves orphans into the quarantine directory.
   */
  async #repair(config: RewriteRecovery, options: OperationOptions): Promise<RecoveryReport> {
    const { report: scan } = await observeScan(this.metrics, this.#log, () => this.#scanLocked(options));
    const quarantinedFiles: string[] = [];
    const journal = readJournal(this.#layout);
    if (journal.state === 'valid') this.#set.completeCompaction();
    else if (journal.state === 'invalid') quarantinedFiles.push(...(await clearLeftovers(journalAnomalies(journal), config)));

    const view = await viewOf(this.#layout);
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
    const changed =
      journal.state !== 'none' || repairedFiles.length > 0 || quarantinedFiles.length > 0 || scan.anomalies.some((a) => a.type === 'UNEXPECTED_FILE');
    const postScan = changed ? (await observeScan(this.metrics, this.#log, () => this.#scanLocked({}))).report : scan;
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
    this.#set.completeCompaction();
    const files = (await viewOf(this.#layout)).files;
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
    return this.#set.writer.exclusive(async () => {
      const listing = await listSet(this.#layout);
      const ours = [...listing.names].filter((name) => !this.#layout.lockNames.includes(name));
      if (ours.length === 0) return whenMissing();
      return this.#set.lock.holding('rewrite', fn);
    });
  }
}

function journalAnomalies(journal: JournalState): Anomaly[] {
  if (journal.state === 'none') return [];
  const detail =
    journal.state === 'valid'
      ? 'journal of a committed compaction that was interrupted: recovery, the next compaction or the next write completes it'
      : `unreadable compaction journal (${journal.reason}): recovery removes it`;
  return [{ type: 'UNEXPECTED_FILE', path: journal.path, line: null, offset: null, detail }];
}

/** The active file if it exists (a regular file, writable), else the nearest existing directory on its path (writable). */
async function probeSet(path: string): Promise<void> {
  let target = path;
  for (;;) {
    const s = await stat(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && dirname(target) !== target) return null;
      throw fsError(error, target, 'probe');
    });
    if (s === null) {
      target = dirname(target);
      continue;
    }
    if (target === path && !s.isFile()) throw fsError(Object.assign(new Error('not a regular file'), { code: 'EISDIR' }), path, 'probe');
    if (target !== path && !s.isDirectory()) throw fsError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), target, 'probe');
    await access(target, constants.W_OK).catch((error: unknown) => {
      throw fsError(error, target, 'probe');
    });
    // Rotation renames and creates files in the directory.
    if (target === path) {
      await access(dirname(path), constants.W_OK | constants.X_OK).catch((error: unknown) => {
        throw fsError(error, dirname(path), 'probe');
      });
    }
    return;
  }
}
