import { PapyraError } from '@papyra/persistence-contract';

/** Exit codes of the papyra command (sysexits.h values for the common failures). */
export const ExitCode = {
  ok: 0,
  /** startup-check / doctor: anomalies under fail_on_anomaly. */
  failed: 1,
  /** scan: anomalies found · recover / startup-check: anomalies remain. */
  anomalies: 2,
  usage: 64,
  unavailable: 69,
  internal: 70,
  locked: 75,
  config: 78,
} as const;

/** A command line the CLI cannot run (exit 64). */
export function usageError(message: string, details?: Record<string, unknown>): PapyraError {
  return new PapyraError('PAPYRA_USAGE', message, details === undefined ? {} : { details });
}

/** A configuration (environment variable, config file, option value) the CLI cannot use (exit 78). */
export function configError(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}): PapyraError {
  return new PapyraError('PAPYRA_INVALID_CONFIG', message, options);
}

const BY_CODE: Record<string, number> = {
  PAPYRA_USAGE: ExitCode.usage,
  PAPYRA_INVALID_ARGUMENT: ExitCode.usage,
  PAPYRA_BACKEND_UNAVAILABLE: ExitCode.unavailable,
  PAPYRA_LOCKED: ExitCode.locked,
  PAPYRA_INVALID_CONFIG: ExitCode.config,
  // The store named by the options is a directory, unreadable, or cannot do what was asked.
  PAPYRA_NOT_A_FILE: ExitCode.config,
  PAPYRA_PERMISSION_DENIED: ExitCode.config,
  PAPYRA_UNSUPPORTED: ExitCode.config,
};

// Driver errors that escape a backend unwrapped still mean "cannot reach the server".
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (PapyraError.isInstance(error)) return BY_CODE[error.code] ?? ExitCode.internal;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && UNREACHABLE.has(code)) return ExitCode.unavailable;
  return ExitCode.internal;
}

/** The `PAPYRA_*` code of an error, or `PAPYRA_INTERNAL` for anything else. */
export function errorCode(error: unknown): string {
  return PapyraError.isInstance(error) ? error.code : 'PAPYRA_INTERNAL';
}
