import type { Attributes, BatchObservableCallback, Meter } from '@opentelemetry/api';
import { OTHER } from './tally.js';

/** The fields of `ActorSystem.metrics.snapshot()` this package reads. */
export interface RuntimeMetricsSnapshot {
  actorsAlive: number;
  actorsSpawned: number;
  actorsStopped: number;
  /** Messages waiting in every mailbox. */
  mailboxDepth: number;
  messagesProcessed: number;
  /** Sum of the time spent in `receive`. */
  processingTimeMs: number;
  crashes: number;
  restarts: number;
  deadLetters: number;
  askTimeouts: number;
  /** The system's own persistence writer; null without a backend. */
  persistence: { pending: number; writeErrors: number; writeTimeouts: number; dropped: number } | null;
}

/** The part of an `ActorSystem` this package reads; structural, so `@papyra/core` is no dependency. */
export interface MetricsSystem {
  readonly systemId: string;
  readonly metrics: { snapshot(): RuntimeMetricsSnapshot };
}

/** Maps an actor system's runtime metrics onto instruments; returns the undo function. */
export function observeRuntime(meter: Meter, system: MetricsSystem, base: Attributes): () => void {
  const attrs: Attributes = { ...base, 'papyra.system.id': system.systemId };
  const counter = (name: string, unit: string, description: string) => meter.createObservableCounter(name, { unit, description });
  const upDown = (name: string, unit: string, description: string) => meter.createObservableUpDownCounter(name, { unit, description });

  const alive = upDown('papyra.actors.alive', '{actor}', 'Actors spawned and not yet fully stopped.');
  const spawned = counter('papyra.actors.spawned', '{actor}', 'Actors spawned.');
  const stopped = counter('papyra.actors.stopped', '{actor}', 'Actors stopped.');
  const crashes = counter('papyra.actor.crashes', '{crash}', 'Times an actor threw from a handler.');
  const restarts = counter('papyra.actor.restarts', '{restart}', 'Actor restarts by supervision.');
  const depth = upDown('papyra.mailbox.depth', '{message}', 'Messages waiting in every mailbox.');
  const processed = counter('papyra.messages.processed', '{message}', 'Messages handled by actors.');
  const processing = counter('papyra.messages.processing.time', 's', 'Time spent handling messages; divide by papyra.messages.processed for the mean.');
  const deadLetters = counter('papyra.dead_letters', '{message}', 'Messages that could not be delivered.');
  const askTimeouts = counter('papyra.ask.timeouts', '{ask}', 'Asks that got no reply in time.');
  const pending = upDown('papyra.system.persistence.pending', '{record}', 'Records the system has queued for its backend and not yet settled.');
  const writeErrors = counter('papyra.system.persistence.errors', '{record}', 'Records the backend failed to write or did not confirm in time.');
  const dropped = counter('papyra.system.persistence.dropped', '{record}', 'Records never handed to the backend (queue full, too many writes hanging).');

  const observe: BatchObservableCallback = (result) => {
    const s = system.metrics.snapshot();
    result.observe(alive, s.actorsAlive, attrs);
    result.observe(spawned, s.actorsSpawned, attrs);
    result.observe(stopped, s.actorsStopped, attrs);
    result.observe(crashes, s.crashes, attrs);
    result.observe(restarts, s.restarts, attrs);
    result.observe(depth, s.mailboxDepth, attrs);
    result.observe(processed, s.messagesProcessed, attrs);
    result.observe(processing, s.processingTimeMs / 1000, attrs);
    result.observe(deadLetters, s.deadLetters, attrs);
    result.observe(askTimeouts, s.askTimeouts, attrs);
    const p = s.persistence;
    if (p === null) return;
    result.observe(pending, p.pending, attrs);
    result.observe(dropped, p.dropped, attrs);
    result.observe(writeErrors, p.writeTimeouts, { ...attrs, 'error.type': 'timeout' });
    result.observe(writeErrors, p.writeErrors - p.writeTimeouts, { ...attrs, 'error.type': OTHER });
  };
  const observables = [alive, spawned, stopped, crashes, restarts, depth, processed, processing, deadLetters, askTimeouts, pending, writeErrors, dropped];
  meter.addBatchObservableCallback(observe, observables);
  return () => meter.removeBatchObservableCallback(observe, observables);
}
