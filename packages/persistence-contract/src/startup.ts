import type { RecoveryConfig, RecoveryReport, ScanReport } from './anomalies.js';
import type { PersistenceBackend } from './backend.js';
import { PapyraError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';

export type StartupMode = 'ignore' | 'scan_only' | 'fail_on_anomaly' | 'recover';
export const STARTUP_MODES: readonly StartupMode[] = ['ignore', 'scan_only', 'fail_on_anomaly', 'recover'];

export interface StartupCheckOptions {
  /** Default `fail_on_anomaly`. */
  mode?: StartupMode;
  /** For `recover`; default `{ mode: 'repair' }`. */
  recovery?: RecoveryConfig;
  logger?: Logger;
  onScan?: (report: ScanReport) => void | Promise<void>;
  onRecovery?: (report: RecoveryReport) => void | Promise<void>;
}

export interface StartupCheckResult {
  mode: StartupMode;
  /** The backend cannot scan, so nothing was checked. */
  skipped: boolean;
  scan: ScanReport | null;
  recovery: RecoveryReport | null;
}

/** Why a store may not be used: the code `runStartupCheck` rejects with, and the reports behind it. */
export type StartupFailure =
  | { code: 'PAPYRA_STARTUP_ANOMALIES'; message: string; scan: ScanReport; recovery: null }
  | { code: 'PAPYRA_STARTUP_RECOVERY_INCOMPLETE'; message: string; scan: ScanReport; recovery: RecoveryReport | null };

/** The outcome of a startup check, as a value: `ok` with the result, or the failure. */
export type StartupOutcome = ({ ok: true } & StartupCheckResult) | ({ ok: false; mode: StartupMode } & StartupFailure);

/**
 * The startup check as a value (SPEC §5): never throws for a store that fails the check, so a
 * caller that only diagnoses (a CLI, a health endpoint) reads the outcome without casting error
 * details, and nothing is logged as "refusing to start". Still throws for a bad mode
 * (`PAPYRA_INVALID_CONFIG`) and for errors of the backend itself (unreachable, locked, …).
 */
export async function checkStartup(backend: PersistenceBackend, options: StartupCheckOptions = {}): Promise<StartupOutcome> {
  const mode = options.mode ?? 'fail_on_anomaly';
  if (!STARTUP_MODES.includes(mode)) {
    throw new PapyraError('PAPYRA_INVALID_CONFIG', `Unknown startup mode ${JSON.stringify(mode)}; use one of ${STARTUP_MODES.join(', ')}.`);
  }
  const log = (options.logger ?? silentLogger).child({ component: 'startup-check', backend: backend.name });
  if (!backend.capabilities.scan) {
    log.info({ mode }, 'backend cannot scan; startup check skipped');
    return { ok: true, mode, skipped: true, scan: null, recovery: null };
  }

  const scan = await backend.scan();
  const anomalies = scan.anomalies.length;
  await callHook(log, 'onScan', options.onScan, scan);
  if (anomalies === 0) {
    log.debug({ mode }, 'startup scan clean');
    return { ok: true, mode, skipped: false, scan, recovery: null };
  }

  switch (mode) {
    case 'ignore':
      log.warn({ mode, anomalies, types: typesOf(scan) }, 'persistence anomalies ignored at startup');
      return { ok: true, mode, skipped: false, scan, recovery: null };
    case 'scan_only':
      log.warn({ mode, anomalies, types: typesOf(scan) }, 'persistence anomalies found at startup (scan only, nothing changed)');
      return { ok: true, mode, skipped: false, scan, recovery: null };
    case 'fail_on_anomaly':
      return {
        ok: false,
        mode,
        code: 'PAPYRA_STARTUP_ANOMALIES',
        message: `The ${backend.name} store has ${plural(anomalies)}; repair it (papyra persistence recover --mode repair) or start with mode 'recover'.`,
        scan,
        recovery: null,
      };
    case 'recover': {
      const config = options.recovery ?? { mode: 'repair' };
      if (!backend.capabilities.recover) {
        const message = `The ${backend.name} backend cannot recover; ${plural(anomalies)} remain.`;
        return { ok: false, mode, code: 'PAPYRA_STARTUP_RECOVERY_INCOMPLETE', message, scan, recovery: null };
      }
      const recovery = await backend.recover(config);
      await callHook(log, 'onRecovery', options.onRecovery, recovery);
      const remaining = recovery.postScan.anomalies.length;
      if (remaining > 0) {
        const message = `Recovery (${config.mode}) of the ${backend.name} store left ${plural(remaining)}.`;
        return { ok: false, mode, code: 'PAPYRA_STARTUP_RECOVERY_INCOMPLETE', message, scan, recovery };
      }
      log.info({ mode, recovery: config.mode, dropped: recovery.droppedRecords }, 'store recovered at startup');
      return { ok: true, mode, skipped: false, scan, recovery };
    }
  }
}

/**
 * The check run before anything uses a store (SPEC §5). Resolves when the store may be used;
 * rejects with `PAPYRA_STARTUP_ANOMALIES` or `PAPYRA_STARTUP_RECOVERY_INCOMPLETE`, whose
 * `details` are typed: read them with `startupFailureOf(error)`.
 */
export async function runStartupCheck(backend: PersistenceBackend, options: StartupCheckOptions = {}): Promise<StartupCheckResult> {
  const outcome = await checkStartup(backend, options);
  if (outcome.ok) {
    const { ok: _ok, ...result } = outcome;
    return result;
  }
  const log = (options.logger ?? silentLogger).child({ component: 'startup-check', backend: backend.name });
  log.error({ mode: outcome.mode, code: outcome.code, anomalies: outcome.scan.anomalies.length, types: typesOf(outcome.scan) }, 'refusing to start');
  const { code, message, scan, recovery } = outcome;
  throw new PapyraError(code, message, { details: { scan, recovery } });
}

/** The failure behind a `runStartupCheck` rejection, typed; null for any other error. */
export function startupFailureOf(error: unknown): StartupFailure | null {
  if (!PapyraError.isInstance(error)) return null;
  if (error.code !== 'PAPYRA_STARTUP_ANOMALIES' && error.code !== 'PAPYRA_STARTUP_RECOVERY_INCOMPLETE') return null;
  const { scan, recovery } = error.details as { scan: ScanReport; recovery: RecoveryReport | null };
  return error.code === 'PAPYRA_STARTUP_ANOMALIES'
    ? { code: error.code, message: error.message, scan, recovery: null }
    : { code: error.code, message: error.message, scan, recovery: recovery ?? null };
}

function plural(n: number): string {
  return `${n} anomal${n === 1 ? 'y' : 'ies'}`;
}

function typesOf(report: ScanReport): string[] {
  return [...new Set(report.anomalies.map((a) => a.type))];
}

async function callHook<T>(log: Logger, name: string, hook: ((report: T) => void | Promise<void>) | undefined, report: T): Promise<void> {
  if (!hook) return;
  try {
    await hook(report);
  } catch (err) {
    log.error({ err, hook: name }, 'startup hook failed');
  }
}
