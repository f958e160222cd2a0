import { createRequire } from 'node:module';
import type { Attributes, Meter, MeterProvider } from '@opentelemetry/api';
import { silentLogger, type Logger } from '@papyra/persistence-contract';
import { observeBackend, type MetricsBackend } from './backend.js';
import { invalidConfig } from './errors.js';
import { observeRuntime, type MetricsSystem } from './runtime.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export interface PapyraMetricsOptions {
  /** The meter to create instruments on. Give this or `meterProvider`. */
  meter?: Meter;
  /** A provider to get the `@papyra/opentelemetry` meter from. */
  meterProvider?: MeterProvider;
  /** An `ActorSystem` (or anything with the same `systemId` and `metrics`): runtime metrics. */
  system?: MetricsSystem;
  /** A `PersistenceBackend` (or anything with `name` and `metrics`): persistence metrics. */
  backend?: MetricsBackend;
  /**
   * Constant attributes added to every measurement, e.g. `{ 'papyra.store': 'audit' }` to tell two
   * backends of the same kind apart. Keep them low-cardinality.
   */
  attributes?: Attributes;
  /** pino-compatible; says when a label is folded into `_OTHER`. Default: silent. */
  logger?: Logger;
}

export interface PapyraMetricsRegistration extends Disposable {
  /** Stops observing: removes the callbacks and subscriptions. Idempotent. */
  unregister(): void;
}

/** Maps a backend's and/or an actor system's metrics onto OpenTelemetry instruments (`papyra.*`). */
export function registerPapyraMetrics(options: PapyraMetricsOptions): PapyraMetricsRegistration {
  const meter = options.meter ?? options.meterProvider?.getMeter('@papyra/opentelemetry', version);
  if (!meter) throw invalidConfig('registerPapyraMetrics needs a `meter` or a `meterProvider`.');
  if (!options.backend && !options.system) throw invalidConfig('registerPapyraMetrics needs a `backend`, a `system`, or both.');

  const base = options.attributes ?? {};
  const undo: Array<() => void> = [];
  if (options.backend) undo.push(observeBackend(meter, options.backend, base, options.logger ?? silentLogger));
  if (options.system) undo.push(observeRuntime(meter, options.system, base));

  const unregister = () => {
    for (const fn of undo.splice(0)) fn();
  };
  return { unregister, [Symbol.dispose]: unregister };
}
