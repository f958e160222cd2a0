import {
  PapyraError,
  PersistenceMetrics,
  normalizeListQuery,
  totalOf,
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
import { invalidArgument } from './errors.js';
import { bounded, probePath } from './probe.js';
import { appendRecord, normalizeFileOptions, segmentOperation, writerMetrics, type FileBackendOptions, type RewriteRecovery } from './segments/file-backend.js';
import { findLeftovers, openSegment } from './segments/files.js';
import { listRecords, visibleRecords } from './segments/list.js';
import { SegmentLock, type LockSystem } from './segments/lock.js';
import { resolveDataPath } from './segments/naming.js';
import { SerialQueue } from './segments/serial.js';
import { clearLeftovers, compactSegment, repairSegment, type SegmentCompaction } from './segments/repair.js';
import { scanSegment } from './segments/scanner.js';
import { collectStatistics } from './segments/stats.js';
import { nodeSegmentFs, type SegmentFs } from './segments/fs.js';
import { SegmentWriter, type FsyncMode } from './segments/writer.js';

export interface NdjsonBackendOptions extends FileBackendOptions {
  /**
   * The NDJSON file. Created (mode 0600, parent directories 0700) on the first write. It may be a
   * symbolic link: the lock and every rewrite apply to its target, and the link stays a link.
   */
  path: string;
  /** How the lock sees this process and machine (pid, hostname, /proc); for tests. */
  lockSystem?: LockSystem;
}

const PROBE_TIMEOUT_MS = 5_000;
const NAME = 'ndjson';

/** Papyra persistence in one NDJSON file (SPEC §7). */
export class NdjsonBackend implements PersistenceBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = Object.freeze({ scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();
  readonly path: string;
  readonly fsync: FsyncMode;
  readonly #clock: WallClock;
  readonly #log: Logger;
  readonly #maxLineBytes: number;
  readonly #fs: SegmentFs;
  readonly #lock: SegmentLock;
  readonly #writer: SegmentWriter;
  /** Recoveries and compactions of this instance, one at a time. */
  readonly #rewrites = new SerialQueue();
  readonly #guard = new ClosedGuard(NAME);
  #closing: Promise<void> | null = null;

  constructor(options: NdjsonBackendOptions) {
    const settings = normalizeFileOptions(NAME, options);
    this.path = settings.path;
    this.fsync = settings.fsync;
    this.retention = settings.retention;
    this.#clock = settings.clock;
    this.#maxLineBytes = settings.maxLineBytes;
    this.#log = settings.log;
    this.#fs = options.fs ?? nodeSegmentFs;
    this.#lock = new SegmentLock(this.path, options.lockSystem ? { system: options.lockSystem } : {});
    this.#writer = new SegmentWriter({
      path: this.path,
      fsync: this.fsync,
      ...(settings.fsyncIntervalMs !== undefined && { fsyncIntervalMs: settings.fsyncIntervalMs }),
      logger: this.#log,
      fs: this.#fs,
      beforeOpen: () => this.#lock.acquire('write'),
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

  /**
   * Streams the visible records (what lists show: retention applied, damaged lines skipped) of
   * `kinds`, `since <= timestamp < until`, oldest first per kind, each with its line as stored.
   * Memory is bounded whatever the file's size: one pass per kind (after a counting pass when
   * `maxRecords` or `maxTotalBytes` is set), a batch of records held at a time.
   */
  async *records(options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    this.#guard.assertOpen();
    throwIfAborted('read', options);
    await this.#writer.written();
    yield* visibleRecords([this.path], options, { retention: this.retention, now: this.#clock(), maxLineBytes: this.#maxLineBytes });
  }

  /**
   * `storeStats()` of the file: the visible records per kind, their bytes counted as retention
   * counts them (each line as stored, with its `\n`), oldest and newest timestamp, in one streaming
   * pass (two with `maxRecords` or `maxTotalBytes`).
   */
  async stats(options: { signal?: AbortSignal } = {}): Promise<StoreStats> {
    this.#guard.assertOpen();
    await this.#writer.written();
    const { kinds } = await collectStatistics([this.path], {
      retention: this.retention,
      now: this.#clock(),
      maxLineBytes: this.#maxLineBytes,
      ...(options.signal && { signal: options.signal }),
    });
    return { backend: NAME, kinds, total: totalOf(kinds) };
  }

  /** Read-only: every line anomaly with its line and byte offset, and our leftover temp files. */
  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#guard.assertOpen();
    await this.#writer.written();
    return (await this.#scan(options, 'scan')).report;
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#guard.assertOpen();
    const recovery = checkRecoveryConfig(config);
    return observeRecovery(this.metrics, this.#log, () =>
      recovery.mode === 'ignore'
        ? this.#recoverIgnore(options)
        : this.#rewriting(
            () => this.#repair(recovery as RewriteRecovery, options),
            () => this.#recoverMissing(recovery as RewriteRecovery),
          ),
    );
  }

  /** Physically applies the retention policy (atomic rewrite). Never runs by itself. */
  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#guard.assertOpen();
    return observeCompaction(this.metrics, this.#log, async () => {
      const result = await this.#rewriting(
        () =>
          compactSegment(this.path, this.retention, this.#clock(), { maxLineBytes: this.#maxLineBytes, fs: this.#fs, ...segmentOperation(options, 'compact') }),
        (): SegmentCompaction => ({ beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 }),
      );
      return compactionReport(NAME, result);
    });
  }

  /**
   * Readiness: a stat of the file (or, before the first write, of the nearest existing directory
   * on its path) and a check that this process may write there. Never changes anything. Rejects
   * with PAPYRA_NOT_A_FILE, PAPYRA_PERMISSION_DENIED, PAPYRA_READ_ONLY or PAPYRA_IO; with
   * PAPYRA_BACKEND_UNAVAILABLE when the file system has not answered within `timeoutMs` (default
   * 5000, e.g. a hung network mount), and PAPYRA_ABORTED on the signal.
   */
  async probe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.#guard.assertOpen();
    const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw invalidArgument(`timeoutMs must be a positive number, got ${JSON.stringify(timeoutMs)}.`);
    throwIfAborted('probe', options);
    await bounded(
      probePath(resolveDataPath(this.path)),
      timeoutMs,
      options.signal,
      () =>
        new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', `The file system holding ${this.path} did not answer within ${timeoutMs} ms.`, {
          details: { path: this.path, timeoutMs },
        }),
    );
  }

  async flush(): Promise<void> {
    this.#guard.assertOpen();
    await this.#writer.flush();
  }

  close(): Promise<void> {
    this.#guard.markClosed();
    this.#closing ??= (async () => {
      try {
        await this.#writer.close();
      } finally {
        this.#lock.release('write');
      }
    })();
    return this.#closing;
  }

  #append(record: PersistedRecord, kind: RecordKind): Promise<void> {
    try {
      this.#guard.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return appendRecord(this.#writer, this.metrics, record, kind);
  }

  async #list<T extends PersistedRecord>(kind: RecordKind, query: ListQuery | undefined): Promise<T[]> {
    this.#guard.assertOpen();
    const q = normalizeListQuery(query);
    if (q.limit === 0) return [];
    await this.#writer.written();
    return listRecords<T>([this.path], kind, q, { retention: this.retention, now: this.#clock(), maxLineBytes: this.#maxLineBytes });
  }

  #scan(options: OperationOptions, phase: 'scan' | 'recover'): Promise<{ report: ScanReport; records: number }> {
    return observeScan(this.metrics, this.#log, async () => {
      const segment = await scanSegment(this.path, { maxLineBytes: this.#maxLineBytes, ...segmentOperation(options, phase) });
      return { report: { backend: NAME, anomalies: [...segment.anomalies, ...(await findLeftovers(resolveDataPath(this.path)))] }, records: segment.records };
    });
  }

  async #recoverIgnore(options: OperationOptions): Promise<RecoveryReport> {
    await this.#writer.written();
    const { report, records } = await this.#scan(options, 'recover');
    // Nothing is changed, so the post-scan is the scan.
    return { backend: NAME, mode: 'ignore', scan: report, postScan: report, repairedFiles: [], quarantinedFiles: [], keptRecords: records, droppedRecords: 0 };
  }

  async #repair(config: RewriteRecovery, options: OperationOptions): Promise<RecoveryReport> {
    const repair = await repairSegment(this.path, { ...config, maxLineBytes: this.#maxLineBytes, fs: this.#fs, ...segmentOperation(options, 'recover') });
    const leftovers = await findLeftovers(resolveDataPath(this.path));
    const scan: ScanReport = { backend: NAME, anomalies: [...repair.scan.anomalies, ...leftovers] };
    this.metrics.scanned(scan);
    const quarantinedFiles = repair.quarantined ? [repair.quarantined] : [];
    quarantinedFiles.push(...(await clearLeftovers(leftovers, config)));
    const changed = repair.repaired || leftovers.length > 0;
    const postScan = changed ? (await this.#scan({}, 'recover')).report : scan;
    return {
      backend: NAME,
      mode: config.mode,
      scan,
      postScan,
      repairedFiles: repair.repaired ? [this.path] : [],
      quarantinedFiles,
      keptRecords: repair.keptRecords,
      droppedRecords: repair.droppedLines,
    };
  }

  /**
   * A missing file needs no repair, but a writer killed while taking the lock may have left its
   * temp file beside it: scan reports that, so recovery clears it.
   */
  async #recoverMissing(config: RewriteRecovery): Promise<RecoveryReport> {
    const leftovers = await findLeftovers(resolveDataPath(this.path));
    if (leftovers.length === 0) return cleanRecovery(NAME, config.mode);
    return this.#lock.holding('rewrite', async () => {
      const scan: ScanReport = { backend: NAME, anomalies: leftovers };
      this.metrics.scanned(scan);
      const quarantinedFiles = await clearLeftovers(leftovers, config);
      const postScan = (await this.#scan({}, 'recover')).report;
      return { backend: NAME, mode: config.mode, scan, postScan, repairedFiles: [], quarantinedFiles, keptRecords: 0, droppedRecords: 0 };
    });
  }

  /**
   * Runs a rewrite of the file: our own appends are held back and reopen the file afterwards, the
   * lock keeps other processes (and other instances here) out, and the queue keeps this instance's
   * other rewrites out (the lock is re-entrant for its holder). A missing file needs no rewrite.
   */
  #rewriting<T>(fn: () => Promise<T>, whenMissing: () => T | Promise<T>): Promise<T> {
    return this.#rewrites.run(() =>
      this.#writer.exclusive(async () => {
        const probe = await openSegment(this.path);
        if (!probe) return whenMissing();
        await probe.handle.close();
        return this.#lock.holding('rewrite', fn);
      }),
    );
  }
}
