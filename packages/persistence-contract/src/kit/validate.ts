import type { OperationOptions, RecoveryConfig, RecoveryMode } from '../anomalies.js';
import { isValidTimestamp, MAX_TIMESTAMP_MS } from '../codec.js';
import { PapyraError } from '../errors.js';
import type { PersistedRecord, RecordKind } from '../records.js';

type RecordOf<K extends RecordKind> = Extract<PersistedRecord, { kind: K }>;

/**
 * Checks a record handed to `record*()` before it is accepted: the kind the method writes, a
 * system id, an id that is a string or null, and a timestamp inside the valid range (finite, within
 * ±8.64e15 ms). Throws `PAPYRA_INVALID_RECORD`, so no backend accepts what its own scan would
 * later call an anomaly.
 */
export function validateRecord<K extends RecordKind>(record: unknown, kind: K): asserts record is RecordOf<K> {
  const r = record as Partial<PersistedRecord> | null | undefined;
  const fail = (problem: string) => {
    throw new PapyraError('PAPYRA_INVALID_RECORD', `Cannot write this ${kind} record: ${problem}.`, { details: { kind, problem } });
  };
  if (typeof r !== 'object' || r === null) return fail(`expected an object, got ${r === null ? 'null' : typeof r}`);
  if (r.kind !== kind) return fail(`its kind is ${JSON.stringify(r.kind)}, not ${JSON.stringify(kind)}`);
  if (typeof r.systemId !== 'string') return fail('systemId is not a string');
  if (r.id !== null && typeof r.id !== 'string') return fail('id is neither a string nor null');
  if (typeof r.timestamp !== 'number' || !isValidTimestamp(r.timestamp)) {
    return fail(`timestamp ${String(r.timestamp)} is not epoch milliseconds within ±${MAX_TIMESTAMP_MS}`);
  }
}

const RECOVERY_MODES: readonly RecoveryMode[] = ['ignore', 'repair', 'quarantine'];

/** Validates a recovery request before anything runs; throws `PAPYRA_INVALID_CONFIG`. */
export function checkRecoveryConfig(config: RecoveryConfig): RecoveryConfig {
  const mode = (config as RecoveryConfig | undefined)?.mode;
  if (!RECOVERY_MODES.includes(mode as RecoveryMode)) {
    throw new PapyraError('PAPYRA_INVALID_CONFIG', `Recovery mode must be one of ${RECOVERY_MODES.join(', ')}; got ${JSON.stringify(mode)}.`, {
      details: { mode },
    });
  }
  if (mode === 'quarantine' && !config.quarantineDir) {
    throw new PapyraError('PAPYRA_INVALID_CONFIG', "Recovery mode 'quarantine' needs a quarantineDir: where the removed bytes are kept.");
  }
  return mode === 'quarantine' ? { mode, quarantineDir: config.quarantineDir! } : { mode: mode as RecoveryMode };
}

/** Throws `PAPYRA_ABORTED` when the operation's signal has fired; call it between steps. */
export function throwIfAborted(operation: string, options: Pick<OperationOptions, 'signal'> = {}): void {
  const { signal } = options;
  if (signal?.aborted) {
    throw new PapyraError('PAPYRA_ABORTED', `The ${operation} was aborted; nothing after the last completed step was changed.`, {
      cause: signal.reason,
      details: { operation },
    });
  }
}
