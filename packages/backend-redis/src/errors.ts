import { PapyraError, redactError, redactSecrets } from '@papyra/persistence-contract';

/** The message of any error, with URL passwords removed: safe for logs and error messages. */
export function describeError(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}

/** A server reply error (WRONGTYPE, OOM, NOGROUP…), as opposed to a connection problem. */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Reply prefixes that describe the server's state, not the entry: the same command succeeds once
 * the state passes (a cluster heals, a script ends, a dataset loads, a disk frees up, a failover
 * completes). MOVED/ASK reach us only when a Cluster client ran out of redirections mid-failover.
 */
const TRANSIENT_REPLIES = /^(CLUSTERDOWN|BUSY|LOADING|MISCONF|READONLY|TRYAGAIN|MASTERDOWN|NOREPLICAS|OOM|MOVED|ASK)\b/;
/** Replies that no retry can fix: the credentials or the deployment mode are wrong. */
const CONFIG_REPLIES = /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid (username-password pair|password)/;

/** A refused password or missing credentials: a configuration error (CLI exit 78), not an outage. */
export function isConfigReply(error: unknown): boolean {
  return error instanceof Error && CONFIG_REPLIES.test(error.message);
}

/** A MOVED/ASK redirection: seen by a standalone client, it means the server is a cluster node. */
export function isRedirection(error: unknown): boolean {
  return isReplyError(error) && /^(MOVED|ASK) /.test((error as Error).message);
}

export type Failure = 'transient' | 'refused' | 'config';

/**
 * How the writer treats a failed XADD. `transient`: the server (or the way to it) is not able to
 * store anything right now; resend in order, within the outage bound. `refused`: Redis refused this
 * entry itself (WRONGTYPE, a syntax/argument error): it is dropped and counted. `config`: nothing
 * will be stored until the configuration changes (wrong password, a cluster node reached without
 * cluster mode): dropped, counted, and reported as PAPYRA_INVALID_CONFIG.
 */
export function classifyFailure(error: unknown, clusterClient: boolean): Failure {
  if (isConfigReply(error)) return 'config';
  if (!isReplyError(error)) return 'transient';
  if (isRedirection(error)) return clusterClient ? 'transient' : 'config';
  return TRANSIENT_REPLIES.test((error as Error).message) ? 'transient' : 'refused';
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

/** The connection settings are wrong (credentials, cluster mode). The CLI maps this code to exit 78. */
export function configError(what: string, cause?: unknown, details: Record<string, unknown> = {}): PapyraError {
  const hint = isRedirection(cause) ? ' The server is a Redis Cluster node: use cluster mode (`cluster: true` with `url` or `nodes`).' : '';
  return new PapyraError('PAPYRA_INVALID_CONFIG', `Redis configuration: ${what}.${hint}`, {
    ...(cause !== undefined && { cause: redactError(cause) }),
    details,
  });
}

/** Any failure of a Redis command, classified: config replies, reply errors (PAPYRA_IO), the rest unavailability. */
export function commandError(what: string, error: unknown, clusterClient = false): PapyraError {
  if (PapyraError.isInstance(error)) return error;
  const failure = classifyFailure(error, clusterClient);
  if (failure === 'config') return configError(`${what}: ${describeError(error)}`, error);
  if (isReplyError(error) && failure === 'refused') {
    return new PapyraError('PAPYRA_IO', `Redis refused ${what}: ${describeError(error)}`, { cause: redactError(error) });
  }
  return unavailableError(what, error);
}
