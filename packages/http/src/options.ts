import { performance } from 'node:perf_hooks';
import type { ActorSystem } from '@papyra/core';
import { silentLogger, type Logger, type PersistenceBackend } from '@papyra/persistence-contract';
import { invalidConfig } from './errors.js';

/** What the endpoints read of an `ActorSystem` (public API only). */
export type ObservedSystem = Pick<ActorSystem, 'systemId' | 'state' | 'startupCheck' | 'metrics' | 'persistence'>;

/** What the endpoints use of a backend: its name, capabilities, metrics, `scan()` and `probe()`. Never a write, recovery or compaction. */
export type ObservedBackend = Pick<PersistenceBackend, 'name' | 'capabilities' | 'metrics' | 'scan' | 'probe'>;

export interface PapyraEndpointsOptions {
  system: ObservedSystem;
  /** The backend to probe, scan and report on. Default: the system's `persistence`. */
  backend?: ObservedBackend;
  /** `/readyz` fails with `backend_probe_timeout` when `backend.probe()` takes longer. Default 1,000 ms. */
  probeTimeoutMs?: number;
  /**
   * `/readyz` fails with `persistence_stalled` when the oldest record accepted but not yet written
   * is older than this, or when writes timed out within this window and none succeeded since.
   * Default 10,000 ms.
   */
  stalledAfterMs?: number;
  /** Mailbox fill ratio (depth / capacity) counted as saturated. Default 1 (full). */
  mailboxSaturation?: number;
  /** `/readyz` fails with `mailboxes_saturated` once some mailbox stayed saturated this long. Default 10,000 ms. */
  saturatedForMs?: number;
  /**
   * Whether `/readyz` fails (`startup_check_failed`) when the cached scan finds anomalies. Default:
   * when the system's startup check ran in `fail_on_anomaly` mode.
   */
  failOnAnomalies?: boolean;
  /** Where `/healthz` gets its answer: a (cached) scan, or the system's last startup check. Default `scan`. */
  healthSource?: 'scan' | 'startup_check';
  /** How long a scan result is reused by `/healthz` and `/readyz`. Default 30,000 ms. */
  scanTtlMs?: number;
  /** A scan taking longer is abandoned (aborted) and reported as failed. Default 30,000 ms. */
  scanTimeoutMs?: number;
  /** Monotonic milliseconds; injectable for tests. Default `performance.now`. */
  monotonic?: () => number;
  /** Wall clock (epoch ms) for `checked_at`. Default `Date.now`. */
  now?: () => number;
  /** pino-compatible; handler errors are logged here. Default: silent. */
  logger?: Logger;
}

export interface ResolvedOptions {
  system: ObservedSystem;
  backend: ObservedBackend | undefined;
  probeTimeoutMs: number;
  stalledAfterMs: number;
  mailboxSaturation: number;
  saturatedForMs: number;
  failOnAnomalies: boolean | undefined;
  healthSource: 'scan' | 'startup_check';
  scanTtlMs: number;
  scanTimeoutMs: number;
  monotonic: () => number;
  now: () => number;
  logger: Logger;
}

export function resolveOptions(options: PapyraEndpointsOptions): ResolvedOptions {
  if (typeof options?.system?.metrics?.snapshot !== 'function') throw invalidConfig('The Papyra endpoints need a `system` (an ActorSystem).');
  const positive = (name: keyof PapyraEndpointsOptions, value: unknown, fallback: number, allowZero = false): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
      throw invalidConfig(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number.`, { [name]: value });
    }
    return value;
  };
  const healthSource = options.healthSource ?? 'scan';
  if (healthSource !== 'scan' && healthSource !== 'startup_check') {
    throw invalidConfig("healthSource must be 'scan' or 'startup_check'.", { healthSource });
  }
  return {
    system: options.system,
    backend: options.backend ?? options.system.persistence,
    probeTimeoutMs: positive('probeTimeoutMs', options.probeTimeoutMs, 1_000),
    stalledAfterMs: positive('stalledAfterMs', options.stalledAfterMs, 10_000),
    mailboxSaturation: positive('mailboxSaturation', options.mailboxSaturation, 1),
    saturatedForMs: positive('saturatedForMs', options.saturatedForMs, 10_000, true),
    failOnAnomalies: options.failOnAnomalies,
    healthSource,
    scanTtlMs: positive('scanTtlMs', options.scanTtlMs, 30_000, true),
    scanTimeoutMs: positive('scanTimeoutMs', options.scanTimeoutMs, 30_000),
    monotonic: options.monotonic ?? (() => performance.now()),
    now: options.now ?? Date.now,
    logger: (options.logger ?? silentLogger).child({ component: 'http' }),
  };
}
