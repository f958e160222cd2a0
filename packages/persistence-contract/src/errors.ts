const marker = Symbol.for('papyra.error');

/** Every code a Papyra package throws. Third-party backends may add their own `PAPYRA_*` codes. */
export type PapyraErrorCode =
  | 'PAPYRA_INVALID_RECORD'
  | 'PAPYRA_INVALID_CONFIG'
  | 'PAPYRA_INVALID_ARGUMENT'
  | 'PAPYRA_BACKEND_CLOSED'
  | 'PAPYRA_BACKEND_UNAVAILABLE'
  | 'PAPYRA_UNSUPPORTED'
  | 'PAPYRA_IO'
  | 'PAPYRA_NOT_A_FILE'
  | 'PAPYRA_PERMISSION_DENIED'
  | 'PAPYRA_LOCKED'
  | 'PAPYRA_ABORTED'
  | 'PAPYRA_STARTUP_ANOMALIES'
  | 'PAPYRA_STARTUP_RECOVERY_INCOMPLETE'
  | `PAPYRA_${string}`;

export interface PapyraErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * The one error type of every Papyra package. Match on `code`, not on `instanceof`: two copies of
 * this package in one process still recognise each other's errors through `isInstance`.
 */
export class PapyraError extends Error {
  readonly [marker] = true;
  readonly code: PapyraErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: PapyraErrorCode, message: string, options: PapyraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PapyraError';
    this.code = code;
    this.details = options.details ?? {};
  }

  static isInstance(error: unknown): error is PapyraError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  /** True when `error` is a Papyra error with this code. */
  static hasCode(error: unknown, code: PapyraErrorCode): error is PapyraError {
    return PapyraError.isInstance(error) && error.code === code;
  }

  toJSON(): { name: string; code: string; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The error every method of a closed backend rejects with. */
export function backendClosedError(backend: string): PapyraError {
  return new PapyraError('PAPYRA_BACKEND_CLOSED', `The ${backend} backend is closed; create a new instance to use the store again.`, {
    details: { backend },
  });
}

/** The error a backend gives for an operation its capabilities say it lacks. */
export function unsupportedError(backend: string, operation: string): PapyraError {
  return new PapyraError('PAPYRA_UNSUPPORTED', `The ${backend} backend does not support ${operation}.`, {
    details: { backend, operation },
  });
}
