/*
 * The names, kinds and units of every Papyra metric, in one place: `@papyra/opentelemetry` creates
 * its instruments from this table and `@papyra/http` serves /metrics from it, so the two always
 * agree. Names follow OpenTelemetry's semantic-convention rules (singular namespaces, UCUM units,
 * no unit in the name); `prometheusName` gives the exposition name.
 */

export type InstrumentKind = 'counter' | 'updowncounter' | 'gauge' | 'histogram';

export interface InstrumentDefinition {
  readonly name: string;
  readonly kind: InstrumentKind;
  /** UCUM: `s`, `By`, `1`, or an annotation such as `{record}`. */
  readonly unit: string;
  readonly description: string;
  /** Attribute keys a point may carry besides the constant ones (`papyra.backend`, `papyra.system.id`). */
  readonly attributes: readonly string[];
  /** Where the value comes from: a backend's `metrics.snapshot()` or an `ActorSystem`'s. */
  readonly source: 'backend' | 'runtime';
}

const def = (
  source: InstrumentDefinition['source'],
  name: string,
  kind: InstrumentKind,
  unit: string,
  description: string,
  attributes: readonly string[] = [],
): InstrumentDefinition => Object.freeze({ source, name, kind, unit, description, attributes });

export const PAPYRA_INSTRUMENTS = Object.freeze({
  // A backend's own counters (PersistenceMetrics).
  recordsWritten: def('backend', 'papyra.persistence.record.written', 'counter', '{record}', 'Records that reached the store.', ['papyra.record.kind']),
  bytesWritten: def('backend', 'papyra.persistence.record.size', 'counter', 'By', 'UTF-8 bytes of the encoded records that reached the store.', [
    'papyra.record.kind',
  ]),
  writeErrors: def('backend', 'papyra.persistence.write.errors', 'counter', '{record}', 'Records whose write failed.', ['error.type']),
  recordsDropped: def(
    'backend',
    'papyra.persistence.record.dropped',
    'counter',
    '{record}',
    'Records dropped without being written (e.g. a full outage buffer).',
    ['papyra.drop.reason'],
  ),
  writeDuration: def(
    'backend',
    'papyra.persistence.write.duration',
    'histogram',
    's',
    'Time from a write being accepted to it being as durable as the backend promises, per record.',
    ['papyra.record.kind'],
  ),
  scans: def('backend', 'papyra.persistence.scans', 'counter', '{scan}', 'Scans run; failed ones carry error.type.', ['error.type']),
  anomalies: def('backend', 'papyra.persistence.anomalies', 'counter', '{anomaly}', 'Anomalies reported by scans.', ['papyra.anomaly.type']),
  recoveries: def('backend', 'papyra.persistence.recoveries', 'counter', '{recovery}', 'Recoveries run; failed ones carry error.type.', ['error.type']),
  compactions: def('backend', 'papyra.persistence.compactions', 'counter', '{compaction}', 'Compactions run; failed ones carry error.type.', ['error.type']),
  // An actor system's runtime counters.
  actors: def('runtime', 'papyra.actor.count', 'updowncounter', '{actor}', 'Actors spawned and not yet fully stopped, by state.', ['papyra.actor.state']),
  actorsSpawned: def('runtime', 'papyra.actor.spawned', 'counter', '{actor}', 'Actors spawned.'),
  actorsStopped: def('runtime', 'papyra.actor.stopped', 'counter', '{actor}', 'Actors stopped.'),
  crashes: def('runtime', 'papyra.actor.crashes', 'counter', '{crash}', 'Times an actor threw from a handler.'),
  restarts: def('runtime', 'papyra.actor.restarts', 'counter', '{restart}', 'Actor restarts by supervision.'),
  mailboxDepth: def('runtime', 'papyra.mailbox.depth', 'updowncounter', '{message}', 'Messages waiting in every mailbox.'),
  mailboxFill: def('runtime', 'papyra.mailbox.fill', 'gauge', '1', 'The fullest mailbox: its depth over its capacity (0 to 1).'),
  messagesProcessed: def('runtime', 'papyra.message.processed', 'counter', '{message}', 'Messages handled by actors.'),
  processingTime: def(
    'runtime',
    'papyra.message.processing.time',
    'counter',
    's',
    'Time spent handling messages; divide by papyra.message.processed for the mean.',
  ),
  deadLetters: def('runtime', 'papyra.message.dead_letters', 'counter', '{message}', 'Messages that could not be delivered.'),
  askTimeouts: def('runtime', 'papyra.ask.timeouts', 'counter', '{ask}', 'Asks that got no reply in time.'),
  pending: def(
    'runtime',
    'papyra.system.persistence.pending',
    'updowncounter',
    '{record}',
    'Records the system has queued for its backend and not yet settled.',
  ),
  oldestPendingAge: def(
    'runtime',
    'papyra.system.persistence.oldest_pending.age',
    'gauge',
    's',
    'Age of the oldest record accepted by the system and not yet written; 0 when none is pending.',
  ),
  systemWriteErrors: def(
    'runtime',
    'papyra.system.persistence.errors',
    'counter',
    '{record}',
    'Records the backend failed to write or did not confirm in time.',
    ['error.type'],
  ),
  systemDropped: def(
    'runtime',
    'papyra.system.persistence.dropped',
    'counter',
    '{record}',
    'Records never handed to the backend (queue full, too many writes hanging).',
  ),
} satisfies Record<string, InstrumentDefinition>);

/**
 * The Prometheus exposition name of an instrument, as OpenTelemetry's Prometheus exporter and
 * `@papyra/http` write it: dots become underscores and counters end in `_total` (histograms add
 * `_bucket`, `_sum` and `_count` to this name).
 */
export function prometheusName(instrument: Pick<InstrumentDefinition, 'name' | 'kind'>): string {
  const base = instrument.name.replace(/[^a-zA-Z0-9_]/g, '_');
  return instrument.kind === 'counter' ? `${base}_total` : base;
}
