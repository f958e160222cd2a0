import { Redis } from 'ioredis';
import type { Logger } from '@papyra/persistence-contract';
import { describeError, unavailableError } from './errors.js';

/** A standalone or cluster client; only the commands both have are used. */
export type RedisClient = Redis;

export interface ConnectionTimeouts {
  /** TCP connect timeout per attempt. */
  connectTimeoutMs: number;
  /** How long a read waits for a connection before failing with PAPYRA_BACKEND_UNAVAILABLE. */
  readyTimeoutMs: number;
  /** A command without a reply after this long fails. */
  commandTimeoutMs: number;
}

/**
 * A client that fails fast instead of queueing: commands issued while disconnected reject at once
 * (the backend buffers writes itself, in order), and it keeps reconnecting with capped backoff so
 * buffered writes flow again when Redis returns.
 */
export function createClient(url: string, timeouts: ConnectionTimeouts, connectionName?: string): RedisClient {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    connectTimeout: timeouts.connectTimeoutMs,
    // A socket that never connected is destroyed after this on close (ioredis waits 2 s by default).
    disconnectTimeout: 200,
    commandTimeout: timeouts.commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
    ...(connectionName !== undefined && { connectionName }),
  });
}

/** Starts connecting a client that has not started yet; failures surface through `waitReady`. */
export function startConnecting(client: RedisClient): void {
  if (client.status === 'wait') client.connect().catch(() => undefined);
}

/** Resolves once the client is ready; rejects with PAPYRA_BACKEND_UNAVAILABLE after `timeoutMs`. */
export function waitReady(client: RedisClient, timeoutMs: number, what: string): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  startConnecting(client);
  if (client.status === 'end') return Promise.reject(unavailableError(`${what}: the connection has ended`));
  return new Promise((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown) => {
      lastError = error;
    };
    const done = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const onEnd = () => {
      done();
      reject(unavailableError(`${what}: the connection has ended`, lastError));
    };
    const timer = setTimeout(() => {
      done();
      reject(unavailableError(`${what}: no connection within ${timeoutMs} ms`, lastError));
    }, timeoutMs);
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('end', onEnd);
  });
}

/**
 * Logs connection loss and recovery once per outage (ioredis emits an error per attempt), and keeps
 * an 'error' listener attached so a failed attempt never becomes an unhandled error event.
 */
export function watchConnection(client: RedisClient, log: Logger, onReady: () => void): () => void {
  let down = false;
  const onError = (error: unknown) => {
    if (down) return;
    down = true;
    log.warn({ err: { message: describeError(error) } }, 'redis connection lost; writes are buffered until it returns');
  };
  const ready = () => {
    if (down) log.info('redis connection restored');
    down = false;
    onReady();
  };
  client.on('error', onError);
  client.on('ready', ready);
  return () => {
    client.off('error', onError);
    client.off('ready', ready);
  };
}

/** Ends a connection we created: QUIT when connected (pending replies arrive first), else drop it. */
export async function closeClient(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') {
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([client.quit().then(() => undefined, () => undefined), timer]);
  }
  client.disconnect();
}
