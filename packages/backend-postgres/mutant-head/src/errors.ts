import { PapyraError, redactError, redactSecrets } from '@papyra/persistence-contract';

// Node socket errors and pg-pool messages that mean "the server is not there right now".
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const NETWORK_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection timeout|terminating connection|the database system is (starting up|shutting down)|client has encountered a connection error/i;

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

// Failures the operator fixes in configuration, not by retrying: a missing database, a wrong
// password or role, no permission.
const STATE_CODES: Record<string, 'PAPYRA_INVALID_CONFIG' | 'PAPYRA_PERMISSION_DENIED'> = {
  '3D000': 'PAPYRA_INVALID_CONFIG',
  '28P01': 'PAPYRA_INVALID_CONFIG',
  '28000': 'PAPYRA_INVALID_CONFIG',
  '42501': 'PAPYRA_PERMISSION_DENIED',
};

/** Wraps any failure of a statement into a PapyraError whose message carries no credentials. */
export function toPapyraError(action: string, error: unknown): PapyraError {
  if (PapyraError.isInstance(error)) return error;
  if (isConnectionError(error)) return unavailableError(action, error);
  const state = sqlState(error);
  const code = state === undefined ? 'PAPYRA_IO' : (STATE_CODES[state] ?? 'PAPYRA_IO');
  return new PapyraError(code, `PostgreSQL failed to ${action}: ${describe(error)}`, {
    cause: redactError(error),
    details: { backend: 'postgres', ...(state !== undefined && { sqlState: state }) },
  });
}
