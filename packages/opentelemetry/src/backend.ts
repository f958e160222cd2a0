import type { Attributes, BatchObservableCallback, BatchObservableResult, Meter, ObservableCounter } from '@opentelemetry/api';
import {
  PAPYRA_INSTRUMENTS as I,
  redactSecrets,
  type InstrumentDefinition,
  type Logger,
  type MetricsSample,
  type PersistenceMetrics,
} from '@papyra/persistence-contract';
import { LabelTally, MAX_LABELS, OTHER } from './tally.js';

/** The part of a `PersistenceBackend` this package reads. */
export interface MetricsBackend {
  readonly name: string;
  readonly metrics: Pick<PersistenceMetrics, 'snapshot' | 'subscribe'>;
}

/** Write latencies are sub-millisecond to seconds; OTel's default buckets (0, 5, 10 … 10 000) suit milliseconds. */
const LATENCY_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Maps a backend's `PersistenceMetrics` onto instruments; returns the undo function. */
export function observeBackend(meter: Meter, backend: MetricsBackend, base: Attributes, parentLogger: Logger): () => void {
  const logger = parentLogger.child({ component: 'opentelemetry', backend: backend.name });
  const attrs: Attributes = { ...base, 'papyra.backend': backend.name };
  const counter = ({ name, unit, description }: InstrumentDefinition) => meter.createObservableCounter(name, { unit, description });

  const records = counter(I.recordsWritten);
  const bytes = counter(I.bytesWritten);
  const writeErrors = counter(I.writeErrors);
  const dropped = counter(I.recordsDropped);
  const scans = counter(I.scans);
  const anomalies = counter(I.anomalies);
  const recoveries = counter(I.recoveries);
  const compactions = counter(I.compactions);
  const latency = meter.createHistogram(I.writeDuration.name, {
    unit: I.writeDuration.unit,
    description: I.writeDuration.description,
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
  });

  const dropReasons = new LabelTally('papyra.drop.reason', logger);
  const unsubscribe = backend.metrics.subscribe((sample: MetricsSample) => {
    switch (sample.type) {
      case 'write': {
        const at = { ...attrs, 'papyra.record.kind': sample.kind };
        const seconds = sample.latencyMs / 1000;
        for (let i = 0; i < sample.records; i++) latency.record(seconds, at);
        break;
      }
      case 'drop':
        dropReasons.add(sample.reason, sample.records);
        break;
    }
  });

  const observe: BatchObservableCallback = (result) => {
    const s = backend.metrics.snapshot();
    for (const kind of Object.keys(s.recordsWrittenByKind) as Array<keyof typeof s.recordsWrittenByKind>) {
      const at = { ...attrs, 'papyra.record.kind': kind };
      result.observe(records, s.recordsWrittenByKind[kind], at);
      result.observe(bytes, s.bytesWrittenByKind[kind], at);
    }
    for (const [type, n] of boundedLabels(s.errorsByType.write)) result.observe(writeErrors, n, { ...attrs, 'error.type': type });
    for (const [reason, n] of dropReasons.entries(s.recordsDropped)) result.observe(dropped, n, { ...attrs, 'papyra.drop.reason': reason });
    for (const [type, n] of Object.entries(s.anomaliesByType)) result.observe(anomalies, n, { ...attrs, 'papyra.anomaly.type': type });
    observeOutcomes(result, scans, s.scans, s.errorsByType.scan, attrs);
    observeOutcomes(result, recoveries, s.recoveries, s.errorsByType.recovery, attrs);
    observeOutcomes(result, compactions, s.compactions, s.errorsByType.compaction, attrs);
  };
  const observables = [records, bytes, writeErrors, dropped, scans, anomalies, recoveries, compactions];
  meter.addBatchObservableCallback(observe, observables);

  return () => {
    unsubscribe();
    meter.removeBatchObservableCallback(observe, observables);
  };
}

function observeOutcomes(result: BatchObservableResult, counter: ObservableCounter, ok: number, failures: Record<string, number>, attrs: Attributes): void {
  result.observe(counter, ok, attrs);
  for (const [type, n] of boundedLabels(failures)) result.observe(counter, n, { ...attrs, 'error.type': type });
}

/** Error types as labels: redacted, and past MAX_LABELS folded into `_OTHER` so cardinality stays bounded. */
function boundedLabels(byType: Record<string, number>): Array<[string, number]> {
  const out = new Map<string, number>();
  for (const [type, n] of Object.entries(byType)) {
    const label = out.size < MAX_LABELS || out.has(redactSecrets(type)) ? redactSecrets(type) : OTHER;
    out.set(label, (out.get(label) ?? 0) + n);
  }
  return [...out];
}
