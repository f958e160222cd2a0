import type { ScanCache } from './health.js';
import { errorCode } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { SingleFlight, within } from './util.js';

/** Why `/readyz` answers 503: stable strings, safe to alert on (the README says what each means). */
export const READINESS_REASONS = [
  'shutting_down',
  'system_not_running',
  'startup_check_failed',
  'backend_probe_failed',
  'backend_probe_timeout',
  'persistence_stalled',
  'persistence_failing',
  'mailboxes_saturated',
] as const;
export type ReadinessReason = (typeof READINESS_REASONS)[number];

export interface CheckResult {
  ok: boolean;
  reason?: ReadinessReason;
  [field: string]: unknown;
}

export interface ReadinessReport {
  ready: boolean;
  reasons: ReadinessReason[];
  checks: Record<'system' | 'startup' | 'backend' | 'persistence' | 'mailboxes', CheckResult>;
}

/** How long after `probeTimeoutMs` we stop waiting for a backend's own verdict. */
const DEADLINE_GRACE_MS = 100;

type ProbeOutcome = { ok: true; latencyMs: number } | { ok: false; reason: 'backend_probe_failed' | 'backend_probe_timeout'; error?: string; cause?: string };

/**
 * Readiness: the system runs, its startup check still holds, the backend answers a probe in time,
 * the persistence writer makes progress and no mailbox stays saturated. Progress and saturation
 * are judged across evaluations, so one instance serves every `/readyz` of a handler.
 */
export class Readiness {
  readonly #o: ResolvedOptions;
  readonly #scans: ScanCache | null;
  readonly #probes = new SingleFlight<ProbeOutcome>();
  /** Writer counters at the previous evaluation (or at construction). */
  #seen: { written: number; writeErrors: number; writeTimeouts: number } | null = null;
  /** When an evaluation last saw writes fail (or time out); cleared by a later successful write. */
  #failure: { at: number; timedOut: boolean } | null = null;
  #saturatedSince: number | null = null;
  draining = false;
  startupFailure: string | null = null;

  constructor(options: ResolvedOptions, scans: ScanCache | null) {
    this.#o = options;
    this.#scans = scans;
    // Baseline now, so timeouts before the first probe are noticed by it.
    const p = options.system.metrics.snapshot().persistence;
    if (p) this.#seen = { written: p.written, writeErrors: p.writeErrors, writeTimeouts: p.writeTimeouts };
  }

  async evaluate(): Promise<ReadinessReport> {
    const [startup, backend] = await Promise.all([this.#startup(), this.#probe()]);
    const snapshot = this.#o.system.metrics.snapshot();
    const state = this.#o.system.state;
    const checks: ReadinessReport['checks'] = {
      system: this.draining
        ? { ok: false, reason: 'shutting_down', state }
        : state === 'running'
          ? { ok: true, state }
          : { ok: false, reason: 'system_not_running', state },
      startup,
      backend,
      persistence: this.#progress(snapshot.persistence),
      mailboxes: this.#mailboxes(snapshot.mailboxMaxFill),
    };
    const reasons = Object.values(checks).flatMap((c) => (c.reason === undefined ? [] : [c.reason]));
    return { ready: reasons.length === 0, reasons, checks };
  }

  async #startup(): Promise<CheckResult> {
    if (this.startupFailure !== null) return { ok: false, reason: 'startup_check_failed', error: this.startupFailure };
    const check = this.#o.system.startupCheck;
    const enforce = this.#o.failOnAnomalies ?? check?.mode === 'fail_on_anomaly';
    if (!enforce || this.#scans === null) return { ok: true, mode: check?.mode ?? null };
    // A fresh scan if one finishes within the probe timeout, else the last one: a slow scan of a
    // big store must not make the probe itself time out.
    const outcome = await this.#scans.get(this.#o.probeTimeoutMs);
    const anomalies = outcome?.report?.anomalies.length ?? 0;
    if (anomalies > 0) return { ok: false, reason: 'startup_check_failed', mode: 'fail_on_anomaly', anomaly_count: anomalies };
    return { ok: true, mode: check?.mode ?? 'fail_on_anomaly', anomaly_count: 0, ...(outcome?.error ? { scan_error: outcome.error } : {}) };
  }

  async #probe(): Promise<CheckResult> {
    const backend = this.#o.backend;
    if (backend === undefined) return { ok: true, skipped: 'no backend' };
    if (typeof backend.probe !== 'function') return { ok: true, skipped: 'backend has no probe()' };
    const probe = backend.probe.bind(backend);
    const outcome = await this.#probes.run(() => this.#runProbe(probe));
    if (outcome.ok) return { ok: true, backend: backend.name, latency_ms: Math.round(outcome.latencyMs * 10) / 10 };
    const { reason, error, cause } = outcome;
    return { ok: false, reason, backend: backend.name, ...(error ? { error, ...(cause ? { cause } : {}) } : { timeout_ms: this.#o.probeTimeoutMs }) };
  }

  async #runProbe(probe: (options: { signal: AbortSignal; timeoutMs: number }) => Promise<void>): Promise<ProbeOutcome> {
    const timeoutMs = this.#o.probeTimeoutMs;
    const controller = new AbortController();
    const started = this.#o.monotonic();
    // Our own deadline too, a little later: a backend that honours `timeoutMs` reports why it gave
    // up (refused, no answer); one that ignores it must not hang the probe.
    const result = await within(
      Promise.resolve()
        .then(() => probe({ signal: controller.signal, timeoutMs }))
        .then(
          () => null,
          (error: unknown) => error,
        ),
      timeoutMs + DEADLINE_GRACE_MS,
    );
    if (!result.done) {
      controller.abort();
      return { ok: false, reason: 'backend_probe_timeout' };
    }
    const elapsed = this.#o.monotonic() - started;
    const error = result.value as { details?: { timeout?: unknown }; cause?: unknown } | null;
    if (error === null) return { ok: true, latencyMs: elapsed };
    // A backend that honours `timeoutMs` gives up at the deadline itself. With nothing to say but
    // that (no cause, or Papyra's `details.timeout`), nothing answered: a timeout. With a cause
    // (connection refused while reconnecting, a lock held), the store said no: a failure.
    const cause = error.cause ?? null;
    if (error.details?.timeout === true || (elapsed >= timeoutMs && cause === null)) return { ok: false, reason: 'backend_probe_timeout' };
    return { ok: false, reason: 'backend_probe_failed', error: errorCode(error), ...(cause === null ? {} : { cause: errorCode(cause) }) };
  }

  #progress(p: { pending: number; written: number; writeErrors: number; writeTimeouts: number; oldestPendingAgeMs: number | null } | null): CheckResult {
    if (p === null) return { ok: true, skipped: 'no persistence' };
    const now = this.#o.monotonic();
    const seen = this.#seen;
    this.#seen = { written: p.written, writeErrors: p.writeErrors, writeTimeouts: p.writeTimeouts };
    // Writes that failed or timed out since the last look, with none succeeding since, mean no
    // progress even when nothing stays pending for long (the writer gives up and moves on).
    if (seen !== null && p.writeErrors > seen.writeErrors) this.#failure = { at: now, timedOut: p.writeTimeouts > seen.writeTimeouts };
    else if (seen !== null && p.written > seen.written) this.#failure = null;
    if (this.#failure !== null && now - this.#failure.at > this.#o.stalledAfterMs) this.#failure = null;

    const age = p.oldestPendingAgeMs;
    const fields = { pending: p.pending, oldest_pending_age_ms: age === null ? null : Math.round(age), stalled_after_ms: this.#o.stalledAfterMs };
    if (age !== null && age >= this.#o.stalledAfterMs) return { ok: false, reason: 'persistence_stalled', ...fields };
    if (this.#failure?.timedOut) return { ok: false, reason: 'persistence_stalled', ...fields, write_timeouts: p.writeTimeouts };
    if (this.#failure) return { ok: false, reason: 'persistence_failing', ...fields, write_errors: p.writeErrors };
    return { ok: true, ...fields };
  }

  #mailboxes(maxFill: number): CheckResult {
    const now = this.#o.monotonic();
    if (maxFill < this.#o.mailboxSaturation) this.#saturatedSince = null;
    else this.#saturatedSince ??= now;
    const fields = { max_fill: Math.round(maxFill * 1000) / 1000, saturation: this.#o.mailboxSaturation };
    if (this.#saturatedSince !== null && now - this.#saturatedSince >= this.#o.saturatedForMs) {
      return { ok: false, reason: 'mailboxes_saturated', ...fields, saturated_for_ms: Math.round(now - this.#saturatedSince) };
    }
    return { ok: true, ...fields };
  }
}
