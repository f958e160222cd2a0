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

/**
 * The check run before anything uses a store (SPEC §5). Resolves when the store may be used;
 * rejects with `PAPYRA_STARTUP_ANOMALIES` or `PAPYRA_STARTUP_RECOVERY_INCOMPLETE`, the reports in
 * `details`.
 */
export async function runStartupCheck(backend: PersistenceBackend, options: StartupCheckOptions = {}): Promise<StartupCheckResult> {
  const mode = options.mode ?? 'fail_on_anomaly';
  if (!STARTUP_MODES.includes(mode)) {
    throw new PapyraError('PAPYRA_INVALID_CONFIG', `Unknown startup mode ${JSON.stringify(mode)}; use one of ${STARTUP_MODES.join(', ')}.`);
  }
  const log = (options.logger ?? silentLogger).child({ component: 'startup-check', backend: backend.name });
  if (!backend.capabilities.scan) {
    log.info({ mode }, 'backend cannot scan; startup check skipped');
    return { mode, skipped: true, scan: null, recovery: null };
  }

  const scan = await backend.scan();
  const anomalies = scan.anomalies.length;
  await callHook(log, 'onScan', options.onScan, scan);
  if (anomalies === 0) {
    log.debug({ mode }, 'startup scan clean');
    return { mode, skipped: false, scan, recovery: null };
  }

  switch (mode) {
    case 'ignore':
      log.warn({ mode, anomalies, types: typesOf(scan) }, 'persistence anomalies ignored at startup');
      return { mode, skipped: false, scan, recovery: null };
    case 'scan_only':
      log.warn({ mode, anomalies, types: typesOf(scan) }, 'persistence anomalies found at startup (scan only, nothing changed)');
      return { mode, skipped: false, scan, recovery: null };
    case 'fail_on_anomaly':
      log.error({ mode, anomalies, types: typesOf(scan) }, 'persistence anomalies found; refusing to start');
      throw new PapyraError(
        'PAPYRA_STARTUP_ANOMALIES',
        `The ${backend.name} store has ${anomalies} anomal${anomalies === 1 ? 'y' : 'ies'}; repair it (papyra persistence recover --mode repair) or start with mode 'recover'.`,
        { details: { scan } },
      );
    case 'recover': {
      const config = options.recovery ?? { mode: 'repair' };
      if (!backend.capabilities.recover) {
        throw new PapyraError('PAPYRA_STARTUP_RECOVERY_INCOMPLETE', `The ${backend.name} backend cannot recover; ${anomalies} anomalies remain.`, {
          details: { scan },
        });
      }
      const recovery = await backend.recover(config);
      await callHook(log, 'onRecovery', options.onRecovery, recovery);
      const remaining = recovery.postScan.anomalies.length;
      if (remaining > 0) {
        log.error({ mode, recovery: config.mode, remaining }, 'startup recovery left anomalies');
        throw new PapyraError(
          'PAPYRA_STARTUP_RECOVERY_INCOMPLETE',
          `Recovery (${config.mode}) of the ${backend.name} store left ${remaining} anomal${remaining === 1 ? 'y' : 'ies'}.`,
          { details: { scan, recovery } },
        );
      }
      log.info({ mode, recovery: config.mode, dropped: recovery.droppedRecords }, 'store recovered at startup');
      return { mode, skipped: false, scan, recovery };
    }
  }
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
