import { PapyraError, redactError, redactSecrets } from '@papyra/persistence-contract';

// Node socket errors and pg-pool messages that mean "the server is not there right now".
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const NETWORK_MESSAGE =
  /connection terminated|timeout exceeded when trying to connect|connection timeout|terminating connection|the database system is (starting up|shutting down)|client has encountered a connection error/i;

/** Codes of the errors a later attempt may cure: the server is gone, frozen, locked or the pool is full. */
const TRANSIENT_CODES = ['PAPYRA_BACKEND_UNAVAILABLE', 'PAPYRA_LOCKED', 'PAPYRA_POOL_EXHAUSTED'] as const;
type TransientCode = (typeof TRANSIENT_CODES)[number];

/**
 * True when an error means PostgreSQL is unreachable or dropped the connection, so the same
 * statement may succeed later: SQLSTATE classes 08 (connection) and 57P (operator intervention,
 * e.g. pg_terminate_backend), 53300 (too many connections), socket errors, pg's own messages.
 */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (PapyraError.hasCode(error, 'PAPYRA_BACKEND_UNAVAILABLE')) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '53300') return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && NETWORK_MESSAGE.test(message);
}

/**
 * True when retrying the same statement later may succeed: a connection error, a timeout, a lock
 * wait that ran out (55P03), a cancelled statement (57014, statement_timeout), a serialization
 * failure or deadlock (40001, 40P01), an exhausted pool.
 */
export function isTransient(error: unknown): boolean {
  if (TRANSIENT_CODES.some((code) => PapyraError.hasCode(error, code))) return true;
  const state = sqlState(error);
  return isConnectionError(error) || state === '55P03' || state === '57014' || state === '40001' || state === '40P01';
}

/** True for a timeout of ours or of pg-pool: retrying at once would only wait that long again. */
export function isTimeout(error: unknown): boolean {
  if (PapyraError.isInstance(error)) return error.details['timeout'] === true;
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' && /timeout/i.test(message);
}

/**
 * True when PostgreSQL refused the data of a statement rather than the statement itself: data
 * exceptions (class 22), integrity constraints such as a CHECK or a trigger's RAISE (23, P0001),
 * program limits such as an oversized index row (54). Another row of the same batch may be fine.
 */
export function isRowError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23') || state.startsWith('54') || state === 'P0001');
}

/** SQLSTATE of a pg error, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function describe(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}

export function unavailableError(action: string, cause: unknown, details: Record<string, unknown> = {}): PapyraError {
  return new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', `PostgreSQL is unreachable while trying to ${action}: ${describe(cause)}`, {
    cause: redactError(cause),
    details: { backend: 'postgres', ...details },
  });
}

/** A bound of ours ran out: `PAPYRA_BACKEND_UNAVAILABLE` with `details.timeout`. */
export function timeoutError(what: string, ms: number): PapyraError {
  return new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', `PostgreSQL did not answer: ${what} took longer than ${ms} ms.`, {
    details: { backend: 'postgres', timeout: true, timeoutMs: ms },
  });
}

/** Every connection of the pool stayed checked out for the whole acquire bound. */
export function poolExhaustedError(ms: number, size: number | undefined): PapyraError {
  return new PapyraError(
    'PAPYRA_POOL_EXHAUSTED',
    `No PostgreSQL connection became free within ${ms} ms: every connection of the pool${size === undefined ? '' : ` (${size})`} is in use, held by the application or by slow statements; the server itself may be fine.`,
    { details: { backend: 'postgres', timeout: true, timeoutMs: ms, ...(size !== undefined && { poolSize: size }) } },
  );
}

// Failures the operator fixes in configuration, not by retrying: a missing database, a wrong
// password or role, no permission.
const STATE_CODES: Record<string, 'PAPYRA_INVALID_CONFIG' | 'PAPYRA_PERMISSION_DENIED' | 'PAPYRA_LOCKED'> = {
  '3D000': 'PAPYRA_INVALID_CONFIG',
  '28P01': 'PAPYRA_INVALID_CONFIG',
  '28000': 'PAPYRA_INVALID_CONFIG',
  '42501': 'PAPYRA_PERMISSION_DENIED',
  // lock_not_available: lock_timeout ran out (or NOWAIT) because another session holds the table.
  '55P03': 'PAPYRA_LOCKED',
};

/** Wraps any failure of a statement into a PapyraError whose message carries no credentials. */
export function toPapyraError(action: string, error: unknown): PapyraError {
  if (PapyraError.isInstance(error)) return error;
  const state = sqlState(error);
  // 57014 is statement_timeout (or a cancel): the server did not finish in time.
  if (isConnectionError(error) || state === '57014') return unavailableError(action, error, state === undefined ? {} : { sqlState: state });
  const code = state === undefined ? 'PAPYRA_IO' : (STATE_CODES[state] ?? 'PAPYRA_IO');
  const message =
    code === 'PAPYRA_LOCKED'
      ? `PostgreSQL could not ${action}: the table is locked by another session (${describe(error)})`
      : `PostgreSQL failed to ${action}: ${describe(error)}`;
  return new PapyraError(code, message, {
    cause: redactError(error),
    details: { backend: 'postgres', ...(state !== undefined && { sqlState: state }) },
  });
}

/** The error callers of a buffering writer see: the cause's own transient code, with the buffer size. */
export function outageError(error: unknown, buffered: number): PapyraError {
  const failure = toPapyraError('write records', error);
  const code: TransientCode = TRANSIENT_CODES.find((c) => c === failure.code) ?? 'PAPYRA_BACKEND_UNAVAILABLE';
  return new PapyraError(code, failure.message, { cause: failure, details: { ...failure.details, buffered } });
}
