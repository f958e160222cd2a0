import type { RuntimeMetricsSnapshot } from '@papyra/core';
import {
  PAPYRA_INSTRUMENTS as I,
  prometheusName,
  redactSecrets,
  type MetricsSample,
  type PersistenceMetricsSnapshot,
  type RecordKind,
} from '@papyra/persistence-contract';
import type { Family, Sample } from './exposition.js';
import type { ObservedBackend, ObservedSystem } from './options.js';

/** The label @papyra/opentelemetry uses for what it cannot name, and its cardinality bound. */
const OTHER = '_OTHER';
const MAX_LABELS = 32;

/** The same bucket boundaries (seconds) as @papyra/opentelemetry's write-duration histogram. */
const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const le = (bound: number) => (Number.isInteger(bound) ? bound.toFixed(1) : String(bound));

/**
 * What a snapshot cannot tell and an exporter needs every sample for: the write-duration histogram
 * and drops by reason. Counts samples from its creation on (like @papyra/opentelemetry).
 */
export class SampleRecorder {
  readonly #buckets = new Map<RecordKind, { counts: number[]; sum: number; count: number }>();
  readonly #dropReasons = new Map<string, number>();
  readonly unsubscribe: () => void;

  constructor(backend: ObservedBackend) {
    this.unsubscribe = backend.metrics.subscribe((sample: MetricsSample) => {
      if (sample.type === 'write') this.#observe(sample.kind, sample.latencyMs / 1000, sample.records);
      else if (sample.type === 'drop') this.#drop(sample.reason, sample.records);
    });
  }

  #observe(kind: RecordKind, seconds: number, n: number): void {
    let h = this.#buckets.get(kind);
    if (h === undefined) this.#buckets.set(kind, (h = { counts: LATENCY_BUCKETS_S.map(() => 0), sum: 0, count: 0 }));
    const i = LATENCY_BUCKETS_S.findIndex((b) => seconds <= b);
    if (i >= 0) h.counts[i]! += n;
    h.sum += seconds * n;
    h.count += n;
  }

  #drop(rawReason: string, n: number): void {
    let reason = redactSecrets(rawReason);
    if (!this.#dropReasons.has(reason) && this.#dropReasons.size >= MAX_LABELS) reason = OTHER;
    this.#dropReasons.set(reason, (this.#dropReasons.get(reason) ?? 0) + n);
  }

  histogram(base: Record<string, string>): Sample[] {
    const samples: Sample[] = [];
    for (const [kind, h] of this.#buckets) {
      const labels = { ...base, papyra_record_kind: kind };
      let cumulative = 0;
      LATENCY_BUCKETS_S.forEach((bound, i) => {
        cumulative += h.counts[i]!;
        samples.push({ suffix: '_bucket', labels: { ...labels, le: le(bound) }, value: cumulative });
      });
      samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: h.count });
      samples.push({ suffix: '_sum', labels, value: h.sum });
      samples.push({ suffix: '_count', labels, value: h.count });
    }
    return samples;
  }

  /** Drops per reason, adding up to `total`: what no sample explained (before subscription) is `_OTHER`. */
  dropReasons(total: number): Array<[string, number]> {
    let explained = 0;
    for (const n of this.#dropReasons.values()) explained += n;
    if (explained > total) {
      this.#dropReasons.clear(); // the counters were reset
      explained = 0;
    }
    const out = [...this.#dropReasons].filter(([reason]) => reason !== OTHER);
    const other = total - explained + (this.#dropReasons.get(OTHER) ?? 0);
    if (other > 0) out.push([OTHER, other]);
    return out;
  }
}

/** Error types as label values: redacted, at most MAX_LABELS, the rest folded into `_OTHER`. */
function bounded(byType: Record<string, number>): Array<[string, number]> {
  const out = new Map<string, number>();
  for (const [type, n] of Object.entries(byType)) {
    const clean = redactSecrets(type);
    const label = out.size < MAX_LABELS || out.has(clean) ? clean : OTHER;
    out.set(label, (out.get(label) ?? 0) + n);
  }
  return [...out];
}

type Instrument = (typeof I)[keyof typeof I];

/** A family named and typed from the shared instrument table, so /metrics and @papyra/opentelemetry agree. */
function family(instrument: Instrument, samples: Sample[]): Family {
  const type = instrument.kind === 'updowncounter' ? 'gauge' : instrument.kind;
  return { name: prometheusName(instrument), type, help: instrument.description, samples };
}

/** The backend's metrics: the `backend` instruments of PAPYRA_INSTRUMENTS, with the same labels as @papyra/opentelemetry. */
export function backendFamilies(name: string, s: PersistenceMetricsSnapshot, recorder: SampleRecorder | null): Family[] {
  const base = { papyra_backend: name };
  const byKind = (values: Record<RecordKind, number>) =>
    (Object.keys(values) as RecordKind[]).map((kind) => ({ labels: { ...base, papyra_record_kind: kind }, value: values[kind] }));
  const outcomes = (ok: number, failures: Record<string, number>) => [
    { labels: base, value: ok },
    ...bounded(failures).map(([type, n]) => ({ labels: { ...base, error_type: type }, value: n })),
  ];
  const dropReasons = recorder?.dropReasons(s.recordsDropped) ?? (s.recordsDropped > 0 ? [[OTHER, s.recordsDropped] as [string, number]] : []);
  const families = [
    family(I.recordsWritten, byKind(s.recordsWrittenByKind)),
    family(I.bytesWritten, byKind(s.bytesWrittenByKind)),
    family(
      I.writeErrors,
      bounded(s.errorsByType.write).map(([type, n]) => ({ labels: { ...base, error_type: type }, value: n })),
    ),
    family(
      I.recordsDropped,
      dropReasons.map(([reason, n]) => ({ labels: { ...base, papyra_drop_reason: reason }, value: n })),
    ),
    family(I.scans, outcomes(s.scans, s.errorsByType.scan)),
    family(
      I.anomalies,
      Object.entries(s.anomaliesByType).map(([type, n]) => ({ labels: { ...base, papyra_anomaly_type: type }, value: n ?? 0 })),
    ),
    family(I.recoveries, outcomes(s.recoveries, s.errorsByType.recovery)),
    family(I.compactions, outcomes(s.compactions, s.errorsByType.compaction)),
  ];
  if (recorder !== null) families.push(family(I.writeDuration, recorder.histogram(base)));
  return families;
}

/** The runtime's metrics: the `runtime` instruments of PAPYRA_INSTRUMENTS, valued as @papyra/opentelemetry values them. */
export function runtimeFamilies(systemId: string, s: RuntimeMetricsSnapshot): Family[] {
  const labels = { papyra_system_id: systemId };
  const one = (instrument: Instrument, value: number) => family(instrument, [{ labels, value }]);
  const families = [
    family(I.actors, [
      { labels: { ...labels, papyra_actor_state: 'running' }, value: Math.max(0, s.actorsAlive - s.actorsStopping - s.actorsRestarting) },
      { labels: { ...labels, papyra_actor_state: 'stopping' }, value: s.actorsStopping },
      { labels: { ...labels, papyra_actor_state: 'restarting' }, value: s.actorsRestarting },
    ]),
    one(I.actorsSpawned, s.actorsSpawned),
    one(I.actorsStopped, s.actorsStopped),
    one(I.crashes, s.crashes),
    one(I.restarts, s.restarts),
    one(I.mailboxDepth, s.mailboxDepth),
    one(I.mailboxFill, s.mailboxMaxFill),
    one(I.messagesProcessed, s.messagesProcessed),
    one(I.processingTime, s.processingTimeMs / 1000),
    one(I.deadLetters, s.deadLetters),
    one(I.askTimeouts, s.askTimeouts),
  ];
  const p = s.persistence;
  if (p === null) return families;
  families.push(
    one(I.pending, p.pending),
    one(I.oldestPendingAge, (p.oldestPendingAgeMs ?? 0) / 1000),
    family(I.systemWriteErrors, [
      { labels: { ...labels, error_type: 'timeout' }, value: p.writeTimeouts },
      { labels: { ...labels, error_type: OTHER }, value: p.writeErrors - p.writeTimeouts },
    ]),
    one(I.systemDropped, p.dropped),
  );
  return families;
}

/** `/metrics?format=json`: the two snapshots as they are, error types redacted. */
export function metricsJson(system: ObservedSystem, backend: ObservedBackend | undefined): Record<string, unknown> {
  const b = backend?.metrics.snapshot();
  const redactKeys = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [redactSecrets(k), v]));
  return {
    system: { id: system.systemId, state: system.state, ...system.metrics.snapshot() },
    backend:
      backend === undefined || b === undefined
        ? null
        : {
            name: backend.name,
            ...b,
            errorsByType: {
              write: redactKeys(b.errorsByType.write),
              scan: redactKeys(b.errorsByType.scan),
              recovery: redactKeys(b.errorsByType.recovery),
              compaction: redactKeys(b.errorsByType.compaction),
            },
          },
  };
}
