import type { Attributes, BatchObservableCallback, Meter } from '@opentelemetry/api';
import { PAPYRA_INSTRUMENTS as I, type InstrumentDefinition } from '@papyra/persistence-contract';
import { OTHER } from './tally.js';

/** The fields of `ActorSystem.metrics.snapshot()` this package reads. */
export interface RuntimeMetricsSnapshot {
  actorsAlive: number;
  actorsStopping: number;
  actorsRestarting: number;
  actorsSpawned: number;
  actorsStopped: number;
  /** Messages waiting in every mailbox. */
  mailboxDepth: number;
  /** The fullest mailbox's depth over its capacity (newer `@papyra/core`). */
  mailboxMaxFill?: number;
  messagesProcessed: number;
  /** Sum of the time spent in `receive`. */
  processingTimeMs: number;
  crashes: number;
  restarts: number;
  deadLetters: number;
  askTimeouts: number;
  /** The system's own persistence writer; null without a backend. */
  persistence: { pending: number; oldestPendingAgeMs?: number | null; writeErrors: number; writeTimeouts: number; dropped: number } | null;
}

/** The part of an `ActorSystem` this package reads; structural, so `@papyra/core` is no dependency. */
export interface MetricsSystem {
  readonly systemId: string;
  readonly metrics: { snapshot(): RuntimeMetricsSnapshot };
}

/** Maps an actor system's runtime metrics onto instruments; returns the undo function. */
export function observeRuntime(meter: Meter, system: MetricsSystem, base: Attributes): () => void {
  const attrs: Attributes = { ...base, 'papyra.system.id': system.systemId };
  const counter = ({ name, unit, description }: InstrumentDefinition) => meter.createObservableCounter(name, { unit, description });
  const upDown = ({ name, unit, description }: InstrumentDefinition) => meter.createObservableUpDownCounter(name, { unit, description });
  const gauge = ({ name, unit, description }: InstrumentDefinition) => meter.createObservableGauge(name, { unit, description });

  const actors = upDown(I.actors);
  const spawned = counter(I.actorsSpawned);
  const stopped = counter(I.actorsStopped);
  const crashes = counter(I.crashes);
  const restarts = counter(I.restarts);
  const depth = upDown(I.mailboxDepth);
  const fill = gauge(I.mailboxFill);
  const processed = counter(I.messagesProcessed);
  const processing = counter(I.processingTime);
  const deadLetters = counter(I.deadLetters);
  const askTimeouts = counter(I.askTimeouts);
  const pending = upDown(I.pending);
  const oldestPending = gauge(I.oldestPendingAge);
  const writeErrors = counter(I.systemWriteErrors);
  const dropped = counter(I.systemDropped);

  const observe: BatchObservableCallback = (result) => {
    const s = system.metrics.snapshot();
    const running = Math.max(0, s.actorsAlive - s.actorsStopping - s.actorsRestarting);
    result.observe(actors, running, { ...attrs, 'papyra.actor.state': 'running' });
    result.observe(actors, s.actorsStopping, { ...attrs, 'papyra.actor.state': 'stopping' });
    result.observe(actors, s.actorsRestarting, { ...attrs, 'papyra.actor.state': 'restarting' });
    result.observe(spawned, s.actorsSpawned, attrs);
    result.observe(stopped, s.actorsStopped, attrs);
    result.observe(crashes, s.crashes, attrs);
    result.observe(restarts, s.restarts, attrs);
    result.observe(depth, s.mailboxDepth, attrs);
    if (s.mailboxMaxFill !== undefined) result.observe(fill, s.mailboxMaxFill, attrs);
    result.observe(processed, s.messagesProcessed, attrs);
    result.observe(processing, s.processingTimeMs / 1000, attrs);
    result.observe(deadLetters, s.deadLetters, attrs);
    result.observe(askTimeouts, s.askTimeouts, attrs);
    const p = s.persistence;
    if (p === null) return;
    result.observe(pending, p.pending, attrs);
    if (p.oldestPendingAgeMs !== undefined) result.observe(oldestPending, (p.oldestPendingAgeMs ?? 0) / 1000, attrs);
    result.observe(dropped, p.dropped, attrs);
    result.observe(writeErrors, p.writeTimeouts, { ...attrs, 'error.type': 'timeout' });
    result.observe(writeErrors, p.writeErrors - p.writeTimeouts, { ...attrs, 'error.type': OTHER });
  };
  const observables = [
    actors,
    spawned,
    stopped,
    crashes,
    restarts,
    depth,
    processed,
    processing,
    deadLetters,
    askTimeouts,
    pending,
    writeErrors,
    dropped,
    fill,
    oldestPending,
  ];
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
