import { PapyraError } from '@papyra/persistence-contract';

/** Exit codes of the papyra command (sysexits.h values for the common failures). */
export const ExitCode = {
  ok: 0,
  /** startup-check / doctor: anomalies under fail_on_anomaly. */
  failed: 1,
  /** scan: anomalies found · recover / startup-check: anomalies remain. */
  anomalies: 2,
  usage: 64,
  /** --require-existing: the store does not exist (EX_NOINPUT). */
  noInput: 66,
  unavailable: 69,
  internal: 70,
  /** No space left, quota exceeded, read-only file system (EX_IOERR). */
  ioError: 74,
  locked: 75,
  config: 78,
  /** Interrupted by SIGINT or SIGTERM (128 + SIGINT, as shells report it). */
  interrupted: 130,
} as const;

/** The exit codes, as the help's epilogue lists them. */
export const EXIT_CODES_TEXT =
  '0 ok · 1 startup check refused · 2 anomalies · 64 usage · 66 store missing (--require-existing) · 69 backend unreachable · 70 internal · 74 disk full or read-only · 75 store locked · 78 configuration · 130 interrupted';

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
  PAPYRA_STORE_MISSING: ExitCode.noInput,
  PAPYRA_NO_SPACE: ExitCode.ioError,
  PAPYRA_READ_ONLY: ExitCode.ioError,
  PAPYRA_ABORTED: ExitCode.interrupted,
  // Every connection of the pool is busy: temporary, as a lock is.
  PAPYRA_POOL_EXHAUSTED: ExitCode.locked,
  PAPYRA_CONCURRENT_MODIFICATION: ExitCode.locked,
  // An archive that fails its manifest: the same exit as `verify` finding damage.
  PAPYRA_ARCHIVE_DAMAGED: ExitCode.anomalies,
};

// Driver errors that escape a backend unwrapped still mean "cannot reach the server".
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT']);

/** The errno under a backend's error: its `details.errno`, or the code of its cause chain. */
function errnoOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const errno = PapyraError.isInstance(e) ? e.details['errno'] : (e as { code?: unknown }).code;
    if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return errno;
  }
  return undefined;
}

/**
 * A full disk, an exhausted quota or a read-only file system is the operator's to fix, not a bug:
 * it becomes a typed error saying what to do (exit 74, no stack trace). Anything else is unchanged.
 */
export function storageError(error: unknown): unknown {
  const errno = errnoOf(error);
  if (errno === undefined) return error;
  const details = PapyraError.isInstance(error) ? error.details : {};
  const where = typeof details['path'] === 'string' ? ` (${details['path']})` : '';
  if (errno === 'ENOSPC' || errno === 'EDQUOT') {
    const what = errno === 'ENOSPC' ? 'No space left on the device' : 'The disk quota is exhausted';
    return new PapyraError(
      'PAPYRA_NO_SPACE',
      `${what}${where} [${errno}]. A rewrite (recover, compact) needs room for a second copy of the store; free space and run the command again.`,
      {
        cause: error,
        details: { ...details, errno },
      },
    );
  }
  if (errno === 'EROFS') {
    return new PapyraError(
      'PAPYRA_READ_ONLY',
      `The store is on a read-only file system${where} [EROFS]. Remount it read-write, or copy the store to a writable place and point --path at the copy.`,
      {
        cause: error,
        details: { ...details, errno },
      },
    );
  }
  return error;
}

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
