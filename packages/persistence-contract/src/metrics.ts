import type { AnomalyType, ScanReport } from './anomalies.js';
import type { RecordKind } from './records.js';

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface PersistenceMetricsSnapshot {
  recordsWritten: number;
  bytesWritten: number;
  writeErrors: number;
  recordsDropped: number;
  scans: number;
  scanErrors: number;
  anomaliesDetected: number;
  recoveries: number;
  recoveryErrors: number;
  compactions: number;
  compactionErrors: number;
  recordsWrittenByKind: Record<RecordKind, number>;
  bytesWrittenByKind: Record<RecordKind, number>;
  anomaliesByType: Partial<Record<AnomalyType, number>>;
  /** Failures by operation and error type (a `PAPYRA_*` code or the error's name). */
  errorsByType: Record<FailedOperation, Record<string, number>>;
  /** Milliseconds from a write being accepted to it being as durable as the backend promises. */
  writeLatencyMs: LatencySummary;
}

export type FailedOperation = 'write' | 'scan' | 'recovery' | 'compaction';

/** One observation, for exporters that want every sample (OpenTelemetry histograms). */
export type MetricsSample =
  | { type: 'write'; kind: RecordKind; records: number; bytes: number; latencyMs: number }
  | { type: 'write_error'; records: number; errorType: string }
  | { type: 'drop'; records: number; reason: string }
  | { type: 'scan'; anomalies: number }
  | { type: 'scan_error'; errorType: string }
  | { type: 'recovery'; ok: boolean; errorType?: string }
  | { type: 'compaction'; ok: boolean; errorType?: string };

const RESERVOIR = 2048;
const zeroByKind = (): Record<RecordKind, number> => ({ event: 0, audit: 0, dead_letter: 0 });

/** The counters every backend keeps. Counters only grow until `reset()`. */
export class PersistenceMetrics {
  #counters = PersistenceMetrics.#zero();
  #latencies: number[] = [];
  #next = 0;
  #latencyCount = 0;
  #latencyMax = 0;
  #listeners = new Set<(sample: MetricsSample) => void>();

  static #zero() {
    return {
      recordsWritten: 0,
      bytesWritten: 0,
      writeErrors: 0,
      recordsDropped: 0,
      scans: 0,
      scanErrors: 0,
      anomaliesDetected: 0,
      recoveries: 0,
      recoveryErrors: 0,
      compactions: 0,
      compactionErrors: 0,
      recordsWrittenByKind: zeroByKind(),
      bytesWrittenByKind: zeroByKind(),
      anomaliesByType: {} as Partial<Record<AnomalyType, number>>,
      errorsByType: { write: {}, scan: {}, recovery: {}, compaction: {} } as Record<FailedOperation, Record<string, number>>,
    };
  }

  /** Records of one kind reached the store. */
  recordWritten(kind: RecordKind, records: number, bytes: number, latencyMs: number): void {
    const c = this.#counters;
    c.recordsWritten += records;
    c.bytesWritten += bytes;
    c.recordsWrittenByKind[kind] += records;
    c.bytesWrittenByKind[kind] += bytes;
    for (let i = 0; i < records; i++) this.#observeLatency(latencyMs);
    this.#emit({ type: 'write', kind, records, bytes, latencyMs });
  }

  writeFailed(records: number, error: unknown): void {
    this.#counters.writeErrors += records;
    const type = this.#countError('write', error, records);
    this.#emit({ type: 'write_error', records, errorType: type });
  }

  dropped(records: number, reason: string): void {
    this.#counters.recordsDropped += records;
    this.#emit({ type: 'drop', records, reason });
  }

  scanned(report: ScanReport): void {
    this.#counters.scans += 1;
    this.#counters.anomaliesDetected += report.anomalies.length;
    for (const a of report.anomalies) this.#counters.anomaliesByType[a.type] = (this.#counters.anomaliesByType[a.type] ?? 0) + 1;
    this.#emit({ type: 'scan', anomalies: report.anomalies.length });
  }

  scanFailed(error?: unknown): void {
    this.#counters.scanErrors += 1;
    this.#emit({ type: 'scan_error', errorType: this.#countError('scan', error) });
  }

  /** A recovery finished (`ok`) or failed with `error`. */
  recovered(ok = true, error?: unknown): void {
    if (ok) {
      this.#counters.recoveries += 1;
      this.#emit({ type: 'recovery', ok });
    } else {
      this.#counters.recoveryErrors += 1;
      this.#emit({ type: 'recovery', ok, errorType: this.#countError('recovery', error) });
    }
  }

  /** A compaction finished (`ok`) or failed with `error`. */
  compacted(ok = true, error?: unknown): void {
    if (ok) {
      this.#counters.compactions += 1;
      this.#emit({ type: 'compaction', ok });
    } else {
      this.#counters.compactionErrors += 1;
      this.#emit({ type: 'compaction', ok, errorType: this.#countError('compaction', error) });
    }
  }

  snapshot(): PersistenceMetricsSnapshot {
    const c = this.#counters;
    return {
      ...c,
      recordsWrittenByKind: { ...c.recordsWrittenByKind },
      bytesWrittenByKind: { ...c.bytesWrittenByKind },
      anomaliesByType: { ...c.anomaliesByType },
      errorsByType: {
        write: { ...c.errorsByType.write },
        scan: { ...c.errorsByType.scan },
        recovery: { ...c.errorsByType.recovery },
        compaction: { ...c.errorsByType.compaction },
      },
      writeLatencyMs: this.#latencySummary(),
    };
  }

  reset(): void {
    this.#counters = PersistenceMetrics.#zero();
    this.#latencies = [];
    this.#next = 0;
    this.#latencyCount = 0;
    this.#latencyMax = 0;
  }

  /** Every sample as it happens; returns the unsubscribe function. Listener errors are swallowed. */
  subscribe(listener: (sample: MetricsSample) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #countError(operation: FailedOperation, error: unknown, count = 1): string {
    const type = errorType(error);
    const byType = this.#counters.errorsByType[operation];
    byType[type] = (byType[type] ?? 0) + count;
    return type;
  }

  #observeLatency(ms: number): void {
    this.#latencyCount += 1;
    if (ms > this.#latencyMax) this.#latencyMax = ms;
    // A ring of recent samples keeps memory bounded; percentiles describe recent behaviour.
    if (this.#latencies.length < RESERVOIR) this.#latencies.push(ms);
    else this.#latencies[this.#next] = ms;
    this.#next = (this.#next + 1) % RESERVOIR;
  }

  #latencySummary(): LatencySummary {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
    return { count: this.#latencyCount, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: this.#latencyMax };
  }

  #emit(sample: MetricsSample): void {
    for (const listener of this.#listeners) {
      try {
        listener(sample);
      } catch {
        // an exporter's bug must not break writes
      }
    }
  }
}

function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'Error';
}
