import { redactSecrets, type Anomaly, type ScanReport } from '@papyra/persistence-contract';
import { errorCode } from './errors.js';
import type { ObservedBackend, ResolvedOptions } from './options.js';
import { within } from './util.js';

/** A finished scan (or its failure), as cached. */
export interface ScanOutcome {
  /** Monotonic ms when it finished. */
  at: number;
  /** Epoch ms when it finished. */
  checkedAt: number;
  report: ScanReport | null;
  /** The error code when the scan failed or timed out. */
  error: string | null;
}

/**
 * Scan results reused for `ttlMs`, with at most one scan running at a time: concurrent callers join
 * the scan in flight, and a scan that overran its timeout (its caller got an error) still blocks a
 * new one until the backend lets go of it.
 */
export class ScanCache {
  readonly #backend: ObservedBackend;
  readonly #o: ResolvedOptions;
  #last: ScanOutcome | null = null;
  #pending: Promise<ScanOutcome> | null = null;
  #busy = false;

  constructor(backend: ObservedBackend, options: ResolvedOptions) {
    this.#backend = backend;
    this.#o = options;
  }

  /** The latest outcome, refreshed when older than the TTL; waits at most `maxWaitMs` for a refresh, then returns the previous one (or null). */
  async get(maxWaitMs = Infinity): Promise<ScanOutcome | null> {
    const last = this.#last;
    if (last !== null && this.#o.monotonic() - last.at < this.#o.scanTtlMs) return last;
    if (this.#pending === null && !this.#busy) this.#pending = this.#scan();
    if (this.#pending === null) return last;
    const waited = await within(this.#pending, maxWaitMs);
    return waited.done ? waited.value : this.#last;
  }

  async #scan(): Promise<ScanOutcome> {
    const controller = new AbortController();
    this.#busy = true;
    const scanning = Promise.resolve()
      .then(() => this.#backend.scan({ signal: controller.signal }))
      .then(
        (report) => ({ report, error: null }),
        (error: unknown) => ({ report: null, error: errorCode(error) }),
      )
      .finally(() => {
        this.#busy = false;
      });
    const result = await within(scanning, this.#o.scanTimeoutMs);
    if (!result.done) controller.abort();
    const outcome: ScanOutcome = {
      at: this.#o.monotonic(),
      checkedAt: this.#o.now(),
      ...(result.done ? result.value : { report: null, error: 'scan_timeout' }),
    };
    this.#last = outcome;
    this.#pending = null;
    return outcome;
  }
}

/** Anomalies listed in a response at most; `anomaly_count` has the total. */
const MAX_LISTED = 100;

/** The anomaly as `/healthz` shows it: no `detail`, which can quote the stored bytes. */
export function publicAnomaly(a: Anomaly): { type: string; path: string; line: number | null; offset: number | null } {
  return { type: String(a.type), path: redactSecrets(a.path), line: a.line, offset: a.offset };
}

export function anomalyFields(anomalies: readonly Anomaly[]): Record<string, unknown> {
  return {
    anomalies: anomalies.slice(0, MAX_LISTED).map(publicAnomaly),
    anomaly_count: anomalies.length,
    ...(anomalies.length > MAX_LISTED ? { anomalies_truncated: true } : {}),
  };
}

export interface HealthAnswer {
  status: 200 | 503;
  body: Record<string, unknown>;
}

/** `/healthz`: Python Papyra's payload (`ok`, `mode`, `backend`, `scan_supported`, `anomalies` with string types). */
export async function health(options: ResolvedOptions, scans: ScanCache | null, startupFailure: string | null): Promise<HealthAnswer> {
  const backend = options.backend;
  const base = { backend: backend?.name ?? null };
  if (options.healthSource === 'startup_check') {
    const check = options.system.startupCheck;
    if (startupFailure !== null) {
      return { status: 503, body: { ok: false, mode: 'startup_check', ...base, error: startupFailure, anomalies: [], anomaly_count: 0 } };
    }
    const scan = check?.recovery?.postScan ?? check?.scan ?? null;
    return {
      status: 200,
      body: {
        ok: true,
        mode: 'startup_check',
        ...base,
        checked: check !== null,
        startup_mode: check?.mode ?? null,
        scan_supported: check !== null && !check.skipped,
        ...anomalyFields(scan?.anomalies ?? []),
        ...(check?.recovery ? { recovered: { kept_records: check.recovery.keptRecords, dropped_records: check.recovery.droppedRecords } } : {}),
      },
    };
  }
  if (backend === undefined || scans === null) {
    return { status: 200, body: { ok: true, mode: 'scan', ...base, scan_supported: false, anomalies: [], anomaly_count: 0 } };
  }
  const outcome = (await scans.get())!;
  const timing = { checked_at: new Date(outcome.checkedAt).toISOString(), age_ms: Math.round(options.monotonic() - outcome.at) };
  if (outcome.report === null) {
    return { status: 503, body: { ok: false, mode: 'scan', ...base, scan_supported: true, error: outcome.error, anomalies: [], anomaly_count: 0, ...timing } };
  }
  const anomalies = outcome.report.anomalies;
  return {
    status: anomalies.length === 0 ? 200 : 503,
    body: { ok: anomalies.length === 0, mode: 'scan', ...base, scan_supported: true, ...anomalyFields(anomalies), ...timing },
  };
}
