import type { Anomaly, CompactionReport, RecoveryReport, ScanReport } from '../anomalies.js';
import type { Logger } from '../logger.js';
import type { PersistenceMetrics } from '../metrics.js';

/* Every backend counts its maintenance operations the same way: these wrappers are that way. */

/** Runs a scan, counting it (or its failure) in `metrics` and warning about what it found. */
export async function observeScan<R extends ScanReport | { report: ScanReport }>(metrics: PersistenceMetrics, log: Logger, run: () => Promise<R>): Promise<R> {
  let result: R;
  try {
    result = await run();
  } catch (error) {
    metrics.scanFailed(error);
    throw error;
  }
  const report: ScanReport = 'report' in result ? result.report : result;
  metrics.scanned(report);
  if (report.anomalies.length > 0) log.warn({ anomalies: report.anomalies.length, types: countTypes(report.anomalies) }, 'scan found anomalies');
  return result;
}

/** Runs a recovery, counting it (or its failure) and logging it when it changed the store. */
export async function observeRecovery(metrics: PersistenceMetrics, log: Logger, run: () => Promise<RecoveryReport>): Promise<RecoveryReport> {
  try {
    const report = await run();
    metrics.recovered(true);
    if (report.repairedFiles.length > 0 || report.quarantinedFiles.length > 0 || report.droppedRecords > 0) {
      const { mode, droppedRecords: dropped, keptRecords: kept, repairedFiles: repaired, quarantinedFiles: quarantined } = report;
      log.info({ mode, dropped, kept, repaired, quarantined }, 'store recovered');
    }
    return report;
  } catch (error) {
    metrics.recovered(false, error);
    throw error;
  }
}

/** Runs a compaction, counting it (or its failure) and logging it when it removed records. */
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

/** A compaction report from the record and byte counts before and after. */
export function compactionReport(
  backend: string,
  counts: { beforeRecords: number; afterRecords: number; beforeBytes: number; afterBytes: number },
): CompactionReport {
  const { beforeRecords, afterRecords, beforeBytes, afterBytes } = counts;
  return {
    backend,
    beforeRecords,
    afterRecords,
    beforeBytes,
    afterBytes,
    removedRecords: beforeRecords - afterRecords,
    reclaimedBytes: beforeBytes - afterBytes,
  };
}

/** The report of a recovery that had nothing to do: the store was clean before and after. */
export function cleanRecovery(backend: string, mode: RecoveryReport['mode'], keptRecords = 0): RecoveryReport {
  const clean: ScanReport = { backend, anomalies: [] };
  return { backend, mode, scan: clean, postScan: clean, repairedFiles: [], quarantinedFiles: [], keptRecords, droppedRecords: 0 };
}

function countTypes(anomalies: readonly Anomaly[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of anomalies) out[a.type] = (out[a.type] ?? 0) + 1;
  return out;
}
