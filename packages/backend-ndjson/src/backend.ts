import { resolve } from 'node:path';
import {
  PapyraError,
  PersistenceMetrics,
  applyListQuery,
  backendClosedError,
  encodeRecord,
  hasRetention,
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
  type RetentionItem,
  type RetentionPolicy,
  type ScanReport,
  type WallClock,
} from '@papyra/persistence-contract';
import { invalidConfig } from './errors.js';
import { findLeftovers, openSegment } from './segments/files.js';
import { DEFAULT_MAX_LINE_BYTES, forEachLineBackward } from './segments/lines.js';
import { SegmentLock } from './segments/lock.js';
import { clearLeftovers, compactSegment, repairSegment, type SegmentCompaction } from './segments/repair.js';
import { classifyLine, forEachRecord, scanSegment } from './segments/scanner.js';
import { SegmentWriter, type FsyncMode } from './segments/writer.js';

export interface NdjsonBackendOptions {
  /** The NDJSON file. Created (mode 0600, parent directories 0700) on the first write. */
  path: string;
  /** Default `'interval'`: a process crash loses nothing written, a power loss at most `fsyncIntervalMs`. */
  fsync?: FsyncMode;
  /** For `fsync: 'interval'`; default 1000. */
  fsyncIntervalMs?: number;
  retention?: RetentionPolicy;
  /** Wall clock for age retention; default `Date.now`. */
  clock?: WallClock;
  logger?: Logger;
  /** Lines longer than this are CORRUPTED_LINE anomalies and never held in memory; default 16 MiB. */
  maxLineBytes?: number;
}

const FSYNC_MODES: readonly FsyncMode[] = ['never', 'interval', 'always'];
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
  readonly #lock: SegmentLock;
  readonly #writer: SegmentWriter;
  #closing: Promise<void> | null = null;

  constructor(options: NdjsonBackendOptions) {
    if (typeof options?.path !== 'string' || options.path === '') throw invalidConfig('NdjsonBackend needs a non-empty `path`.');
    const fsync = options.fsync ?? 'interval';
    if (!FSYNC_MODES.includes(fsync)) throw invalidConfig(`fsync must be one of ${FSYNC_MODES.join(', ')}, got ${JSON.stringify(fsync)}.`, { fsync });
    for (const key of ['fsyncIntervalMs', 'maxLineBytes'] as const) {
      const value = options[key];
      if (value !== undefined && (!Number.isInteger(value) || value <= 0)) throw invalidConfig(`${key} must be a positive integer, got ${JSON.stringify(value)}.`, { [key]: value });
    }
    this.path = resolve(options.path);
    this.fsync = fsync;
    this.retention = normalizeRetention(options.retention);
    this.#clock = options.clock ?? systemClock;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#log = (options.logger ?? silentLogger).child({ component: 'persistence', backend: NAME });
    this.#lock = new SegmentLock(this.path);
    this.#writer = new SegmentWriter({
      path: this.path,
      fsync,
      ...(options.fsyncIntervalMs !== undefined && { fsyncIntervalMs: options.fsyncIntervalMs }),
      logger: this.#log,
      beforeOpen: () => this.#lock.acquire('write'),
      onCommit: (commit) => {
        for (const kind of ['event', 'audit', 'dead_letter'] as const) {
          const slot = commit.byKind[kind];
          if (slot.records > 0) this.metrics.recordWritten(kind, slot.records, slot.bytes, commit.latencyMs);
        }
      },
      onError: (error, records) => this.metrics.writeFailed(records, error),
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

  /** Read-only: every line anomaly with its line and byte offset, and our leftover temp files. */
  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#assertOpen();
    await this.#writer.written();
    return (await this.#scan(options, 'scan')).report;
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#assertOpen();
    const mode = config?.mode;
    if (mode !== 'ignore' && mode !== 'repair' && mode !== 'quarantine') {
      throw invalidConfig(`Recovery mode must be ignore, repair or quarantine, got ${JSON.stringify(mode)}.`, { mode });
    }
    if (mode === 'quarantine' && !config.quarantineDir) throw invalidConfig('Quarantine recovery needs a quarantineDir.');
    try {
      const report =
        mode === 'ignore'
          ? await this.#recoverIgnore(options)
          : await this.#rewriting(
              () => this.#repair({ mode, ...(config.quarantineDir !== undefined && { quarantineDir: config.quarantineDir }) }, options),
              () => this.#recoverMissing({ mode, ...(config.quarantineDir !== undefined && { quarantineDir: config.quarantineDir }) }),
            );
      this.metrics.recovered(true);
      if (report.repairedFiles.length > 0 || report.quarantinedFiles.length > 0) {
        this.#log.info({ mode, dropped: report.droppedRecords, kept: report.keptRecords, quarantined: report.quarantinedFiles }, 'store recovered');
      }
      return report;
    } catch (error) {
      this.metrics.recovered(false, error);
      throw error;
    }
  }

  /** Physically applies the retention policy (atomic rewrite). Never runs by itself. */
  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#assertOpen();
    try {
      const result = await this.#rewriting(
        () => compactSegment(this.path, this.retention, this.#clock(), { maxLineBytes: this.#maxLineBytes, ...this.#operation(options, 'compact') }),
        (): SegmentCompaction => ({ beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 }),
      );
      this.metrics.compacted(true);
      const report: CompactionReport = {
        backend: NAME,
        ...result,
        removedRecords: result.beforeRecords - result.afterRecords,
        reclaimedBytes: result.beforeBytes - result.afterBytes,
      };
      if (report.removedRecords > 0) this.#log.info({ ...report }, 'store compacted');
      return report;
    } catch (error) {
      this.metrics.compacted(false, error);
      throw error;
    }
  }

  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#writer.flush();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#writer.close();
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
    let line: string;
    try {
      if (record?.kind !== kind) throw new PapyraError('PAPYRA_INVALID_RECORD', `Expected a record of kind ${kind}, got ${JSON.stringify(record?.kind)}.`);
      line = encodeRecord(record);
    } catch (error) {
      this.metrics.writeFailed(1, error);
      return Promise.reject(error);
    }
    return this.#writer.append(line, kind);
  }

  async #list<T extends PersistedRecord>(kind: RecordKind, query: ListQuery | undefined): Promise<T[]> {
    this.#assertOpen();
    const q = normalizeListQuery(query);
    if (q.limit === 0) return [];
    await this.#writer.written();
    const now = this.#clock();
    return q.limit === undefined ? this.#listAll<T>(kind, q, now) : this.#listNewest<T>(kind, q, q.limit, now);
  }

  /** Streams the whole file forwards; memory grows with the records of this kind only. */
  async #listAll<T extends PersistedRecord>(kind: RecordKind, q: ListQuery, now: number): Promise<T[]> {
    const records: T[] = [];
    const items: RetentionItem[] = [];
    const retain = hasRetention(this.retention);
    await forEachRecord(
      this.path,
      (record, raw) => {
        if (record.kind !== kind) return;
        records.push(record as T);
        if (retain) items.push({ kind, timestamp: record.timestamp, bytes: raw.length + 1 });
      },
      { maxLineBytes: this.#maxLineBytes },
    );
    if (!retain) return applyListQuery(records, q);
    const mask = retainedMask(items, this.retention, now);
    return applyListQuery(
      records.filter((_, i) => mask[i]),
      q,
    );
  }

  /**
   * Reads backwards from the end until `limit` records of this kind pass retention and `since`, or
   * retention's count/byte budget is spent (nothing older is retained then). The contract helpers
   * then decide on that suffix exactly as on the whole file: retention counts from the newest.
   */
  async #listNewest<T extends PersistedRecord>(kind: RecordKind, q: ListQuery, limit: number, now: number): Promise<T[]> {
    const { maxAgeMs, maxRecords, maxTotalBytes } = this.retention;
    const records: T[] = [];
    const items: RetentionItem[] = [];
    let eligible = 0;
    let keptCount = 0;
    let keptBytes = 0;
    await forEachLineBackward(
      this.path,
      (raw) => {
        const verdict = classifyLine(raw, this.#maxLineBytes);
        if (!verdict.ok || verdict.record.kind !== kind) return;
        const { record } = verdict;
        const bytes = raw.length + 1;
        records.push(record as T);
        items.push({ kind, timestamp: record.timestamp, bytes });
        if (maxAgeMs !== undefined && record.timestamp < now - maxAgeMs) return;
        keptCount += 1;
        keptBytes += bytes;
        if ((maxRecords !== undefined && keptCount > maxRecords) || (maxTotalBytes !== undefined && keptBytes > maxTotalBytes)) return false;
        if (q.since === undefined || record.timestamp >= q.since) eligible += 1;
        return eligible < limit;
      },
      { maxLineBytes: this.#maxLineBytes },
    );
    records.reverse();
    const mask = retainedMask(items.reverse(), this.retention, now);
    return applyListQuery(
      records.filter((_, i) => mask[i]),
      q,
    );
  }

  async #scan(options: OperationOptions, phase: 'scan' | 'recover'): Promise<{ report: ScanReport; records: number }> {
    try {
      const segment = await scanSegment(this.path, { maxLineBytes: this.#maxLineBytes, ...this.#operation(options, phase) });
      const report: ScanReport = { backend: NAME, anomalies: [...segment.anomalies, ...(await findLeftovers(this.path))] };
      this.metrics.scanned(report);
      if (report.anomalies.length > 0) this.#log.warn({ anomalies: report.anomalies.length, types: typesOf(report.anomalies) }, 'scan found anomalies');
      return { report, records: segment.records };
    } catch (error) {
      this.metrics.scanFailed(error);
      throw error;
    }
  }

  async #recoverIgnore(options: OperationOptions): Promise<RecoveryReport> {
    await this.#writer.written();
    const { report, records } = await this.#scan(options, 'recover');
    // Nothing is changed, so the post-scan is the scan.
    return { backend: NAME, mode: 'ignore', scan: report, postScan: report, repairedFiles: [], quarantinedFiles: [], keptRecords: records, droppedRecords: 0 };
  }

  async #repair(config: { mode: 'repair' | 'quarantine'; quarantineDir?: string }, options: OperationOptions): Promise<RecoveryReport> {
    const repair = await repairSegment(this.path, { ...config, maxLineBytes: this.#maxLineBytes, ...this.#operation(options, 'recover') });
    const leftovers = await findLeftovers(this.path);
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
  async #recoverMissing(config: { mode: 'repair' | 'quarantine'; quarantineDir?: string }): Promise<RecoveryReport> {
    const leftovers = await findLeftovers(this.path);
    if (leftovers.length === 0) return emptyRecovery(config.mode);
    this.#lock.acquire('rewrite');
    try {
      const scan: ScanReport = { backend: NAME, anomalies: leftovers };
      this.metrics.scanned(scan);
      const quarantinedFiles = await clearLeftovers(leftovers, config);
      const postScan = (await this.#scan({}, 'recover')).report;
      return { backend: NAME, mode: config.mode, scan, postScan, repairedFiles: [], quarantinedFiles, keptRecords: 0, droppedRecords: 0 };
    } finally {
      this.#lock.release('rewrite');
    }
  }

  /**
   * Runs a rewrite of the file: our own appends are held back and reopen the file afterwards, and
   * the lock keeps other processes (and other instances here) out. A missing file needs no rewrite.
   */
  #rewriting<T>(fn: () => Promise<T>, whenMissing: () => T | Promise<T>): Promise<T> {
    return this.#writer.exclusive(async () => {
      const probe = await openSegment(this.path);
      if (!probe) return whenMissing();
      await probe.handle.close();
      this.#lock.acquire('rewrite');
      try {
        return await fn();
      } finally {
        this.#lock.release('rewrite');
      }
    });
  }

  #operation(options: OperationOptions, phase: 'scan' | 'recover' | 'compact') {
    const { signal, onProgress } = options;
    return {
      ...(signal && { signal }),
      ...(onProgress && { onProgress: (processed: number, total: number) => onProgress({ phase, processed, total, unit: 'bytes' as const }) }),
    };
  }
}

function emptyRecovery(mode: 'repair' | 'quarantine'): RecoveryReport {
  const clean: ScanReport = { backend: NAME, anomalies: [] };
  return { backend: NAME, mode, scan: clean, postScan: clean, repairedFiles: [], quarantinedFiles: [], keptRecords: 0, droppedRecords: 0 };
}

function typesOf(anomalies: readonly Anomaly[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of anomalies) out[a.type] = (out[a.type] ?? 0) + 1;
  return out;
}
