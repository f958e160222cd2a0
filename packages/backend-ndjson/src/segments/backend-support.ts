import {
  PapyraError,
  encodeRecord,
  type Anomaly,
  type CompactionReport,
  type Logger,
  type OperationOptions,
  type PersistedRecord,
  type PersistenceMetrics,
  type RecordKind,
  type RecoveryConfig,
  type RecoveryReport,
  type RetentionPolicy,
  type ScanReport,
  type WallClock,
} from '@papyra/persistence-contract';
import { invalidConfig } from '../errors.js';
import type { SegmentFs } from './fs.js';
import type { FsyncMode, SegmentWriter, SegmentWriterOptions } from './writer.js';

/*
 * What a file backend class does around the segment primitives, the same for every such backend:
 * metrics and log lines, argument checks and report assembly.
 */

/** The options every backend built on the segment primitives takes. */
export interface FileBackendOptions {
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
  /**
   * The file system appends and rewrites write through; default `node:fs`. For fault-injection
   * tests (`FaultyFs` in `testing/faulty-fs`): reads, locks and quarantine copies use `node:fs`.
   */
  fs?: SegmentFs;
}

/** The recovery modes that rewrite files. */
export interface RewriteRecovery {
  mode: 'repair' | 'quarantine';
  quarantineDir?: string;
}

/** The writer hooks that count committed and failed batches in the backend's metrics. */
export function writerMetrics(metrics: PersistenceMetrics): Pick<SegmentWriterOptions, 'onCommit' | 'onError'> {
  return {
    onCommit: (commit) => {
      for (const kind of ['event', 'audit', 'dead_letter'] as const) {
        const slot = commit.byKind[kind];
        if (slot.records > 0) metrics.recordWritten(kind, slot.records, slot.bytes, commit.latencyMs);
      }
    },
    onError: (error, records) => metrics.writeFailed(records, error),
  };
}

/** Checks and encodes one record and hands it to the writer; a record that cannot be written is a failed write. */
export function appendRecord(writer: SegmentWriter, metrics: PersistenceMetrics, record: PersistedRecord, kind: RecordKind): Promise<void> {
  let line: string;
  try {
    if (record?.kind !== kind) throw new PapyraError('PAPYRA_INVALID_RECORD', `Expected a record of kind ${kind}, got ${JSON.stringify(record?.kind)}.`);
    line = encodeRecord(record);
  } catch (error) {
    metrics.writeFailed(1, error);
    return Promise.reject(error);
  }
  return writer.append(line, kind);
}

/** Validates a recovery request (before anything runs). */
export function checkRecoveryConfig(config: RecoveryConfig): { mode: 'ignore' } | RewriteRecovery {
  const mode = config?.mode;
  if (mode !== 'ignore' && mode !== 'repair' && mode !== 'quarantine') {
    throw invalidConfig(`Recovery mode must be ignore, repair or quarantine, got ${JSON.stringify(mode)}.`, { mode });
  }
  if (mode === 'ignore') return { mode };
  if (mode === 'quarantine' && !config.quarantineDir) throw invalidConfig('Quarantine recovery needs a quarantineDir.');
  return { mode, ...(config.quarantineDir !== undefined && { quarantineDir: config.quarantineDir }) };
}

/** Counts one scan (or its failure) in the metrics, and warns about what it found. */
export async function observeScan<R extends { report: ScanReport }>(metrics: PersistenceMetrics, log: Logger, run: () => Promise<R>): Promise<R> {
  let result: R;
  try {
    result = await run();
  } catch (error) {
    metrics.scanFailed(error);
    throw error;
  }
  const { anomalies } = result.report;
  metrics.scanned(result.report);
  if (anomalies.length > 0) log.warn({ anomalies: anomalies.length, types: typesOf(anomalies) }, 'scan found anomalies');
  return result;
}

/** Counts one recovery (or its failure) in the metrics, and logs it when it changed files. */
export async function observeRecovery(metrics: PersistenceMetrics, log: Logger, run: () => Promise<RecoveryReport>): Promise<RecoveryReport> {
  try {
    const report = await run();
    metrics.recovered(true);
    if (report.repairedFiles.length > 0 || report.quarantinedFiles.length > 0) {
      log.info({ mode: report.mode, dropped: report.droppedRecords, kept: report.keptRecords, repaired: report.repairedFiles, quarantined: report.quarantinedFiles }, 'store recovered');
    }
    return report;
  } catch (error) {
    metrics.recovered(false, error);
    throw error;
  }
}

/** Counts one compaction (or its failure) in the metrics, and logs it when it removed records. */
export async function observeCompaction(metrics: PersistenceMetrics, log: Logger, run: () => Promise<CompactionReport>): Promise<CompactionReport> {
  try {
    const report = await run();
    metrics.compacted(true);
    if (report.removedRecords > 0) log.info({ ...report }, 'store compacted');
    return report;
  } catch (error) {
    metrics.compacted(false, error);
    throw error;
  }
}

/** The compaction report of a backend from the record and byte counts before and after. */
export function compactionReport(
  backend: string,
  counts: { beforeRecords: number; afterRecords: number; beforeBytes: number; afterBytes: number },
): CompactionReport {
  const { beforeRecords, afterRecords, beforeBytes, afterBytes } = counts;
  return { backend, beforeRecords, afterRecords, beforeBytes, afterBytes, removedRecords: beforeRecords - afterRecords, reclaimedBytes: beforeBytes - afterBytes };
}

/** The report of a rewriting recovery that found nothing to look at. */
export function emptyRecovery(backend: string, mode: RewriteRecovery['mode']): RecoveryReport {
  const clean: ScanReport = { backend, anomalies: [] };
  return { backend, mode, scan: clean, postScan: clean, repairedFiles: [], quarantinedFiles: [], keptRecords: 0, droppedRecords: 0 };
}

/**
 * The signal and progress options of a segment primitive for one phase of an operation. With
 * `span`, the primitive reads one file of several: its bytes count on from `span.offset` out of
 * `span.total`.
 */
export function segmentOperation(
  options: OperationOptions,
  phase: 'scan' | 'recover' | 'compact',
  span?: { offset: number; total: number },
): { signal?: AbortSignal; onProgress?: (processed: number, total: number) => void } {
  const { signal, onProgress } = options;
  return {
    ...(signal && { signal }),
    ...(onProgress && {
      onProgress: (processed: number, total: number) =>
        onProgress(span ? { phase, processed: span.offset + processed, total: span.total, unit: 'bytes' } : { phase, processed, total, unit: 'bytes' }),
    }),
  };
}

function typesOf(anomalies: readonly Anomaly[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of anomalies) out[a.type] = (out[a.type] ?? 0) + 1;
  return out;
}
