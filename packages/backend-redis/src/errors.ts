import { PapyraError, redactError, redactSecrets } from '@papyra/persistence-contract';

/** The message of any error, with URL passwords removed: safe for logs and error messages. */
export function describeError(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}

/** A server reply error (WRONGTYPE, OOM, NOGROUP…), as opposed to a connection problem. */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/** Redis could not be reached (or did not answer) in time. The CLI maps this code to exit 69. */
export function unavailableError(what: string, cause?: unknown, details: Record<string, unknown> = {}): PapyraError {
  const reason = cause === undefined ? '' : `: ${describeError(cause)}`;
  // ioredis errors carry the command they failed on (AUTH with the password): keep a redacted copy.
  return new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', `Redis is unavailable (${what})${reason}`, {
    ...(cause !== undefined && { cause: redactError(cause) }),
    details,
  });
}

/** Any failure of a Redis command, classified: reply errors are PAPYRA_IO, the rest unavailability. */
export function commandError(what: string, error: unknown): PapyraError {
  if (PapyraError.isInstance(error)) return error;
  if (isReplyError(error)) {
    return new PapyraError('PAPYRA_IO', `Redis refused ${what}: ${describeError(error)}`, { cause: redactError(error) });
  }
  return unavailableError(what, error);
}

export function abortedError(what: string): PapyraError {
  return new PapyraError('PAPYRA_ABORTED', `${what} was aborted.`);
}
