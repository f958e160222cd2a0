import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '@papyra/persistence-contract';
import { configError, describeError, isConfigReply, unavailableError } from './errors.js';

/** A standalone or cluster client; only the commands both have are used. */
export type RedisClient = Redis;

export interface ClientTimeouts {
  /** TCP connect timeout per attempt. */
  connectTimeoutMs: number;
  /** A command without a reply after this long fails; `undefined` for the write connection. */
  commandTimeoutMs: number | undefined;
}

/** Where the backend connects: one server, or a cluster reached through seed nodes. */
export type Endpoint = { cluster: false; url: string } | { cluster: true; nodes: string[] };

/**
 * Reconnect delay: exponential from 50 ms, capped at 2 s, with full jitter so that many clients
 * cut off by one outage do not reconnect in lockstep.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Whether an ioredis client is a Cluster (ioredis marks both kinds with `isCluster`). */
export function isClusterClient(client: unknown): boolean {
  return (client as { isCluster?: unknown } | null)?.isCluster === true;
}

/** Parses a `redis://` / `rediss://` URL into ioredis node options (host, port, credentials, TLS). */
function nodeOptions(url: string): { host: string; port: number; redis: RedisOptions } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw configError(`not a Redis URL: ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw configError(`a Redis URL starts with redis:// or rediss://, got ${parsed.protocol}//`);
  const redis: RedisOptions = {};
  if (parsed.username) redis.username = decodeURIComponent(parsed.username);
  if (parsed.password) redis.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') redis.tls = {};
  return { host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(parsed.port || 6379), redis };
}

/**
 * A client that fails fast instead of queueing: commands issued while disconnected reject at once
 * (the backend buffers writes itself, in order), and it keeps reconnecting with jittered backoff
 * so buffered writes flow again when Redis returns. `commandTimeoutMs: undefined` makes the write
 * connection: no command timeout (a batch is never resent while its first copy may still be
 * applied), and an in-flight command fails as soon as its connection closes.
 */
export function createClient(endpoint: Endpoint, timeouts: ClientTimeouts, connectionName?: string): RedisClient {
  const common: RedisOptions = {
    lazyConnect: true,
    autoResendUnfulfilledCommands: false,
    // Commands in flight when a connection closes reject at once: the writer then knows to resend.
    maxRetriesPerRequest: 0,
    connectTimeout: timeouts.connectTimeoutMs,
    // A socket that never connected is destroyed after this on close (ioredis waits 2 s by default).
    disconnectTimeout: 200,
    ...(timeouts.commandTimeoutMs !== undefined && { commandTimeout: timeouts.commandTimeoutMs }),
    ...(connectionName !== undefined && { connectionName }),
  };
  if (!endpoint.cluster) {
    const { host, port, redis } = nodeOptions(endpoint.url);
    const db = Number(new URL(endpoint.url).pathname.slice(1) || 0);
    return new Redis({ ...common, ...redis, host, port, db, enableOfflineQueue: false, retryStrategy: (attempt) => backoffMs(attempt) });
  }
  if (endpoint.nodes.length === 0) throw configError('cluster mode needs at least one seed node');
  const seeds = endpoint.nodes.map(nodeOptions);
  const { host: _h, port: _p, ...credentials } = { host: '', port: 0, ...seeds[0]!.redis };
  const options: ClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    // CLUSTERDOWN/TRYAGAIN/redirections are retried briefly by ioredis, then reach the writer, which retries them itself.
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    retryDelayOnFailover: 100,
    maxRedirections: 8,
    slotsRefreshTimeout: timeouts.connectTimeoutMs,
    clusterRetryStrategy: (attempt) => backoffMs(attempt),
    redisOptions: { ...common, ...credentials },
  };
  return new Cluster(
    seeds.map(({ host, port }) => ({ host, port })),
    options,
  ) as unknown as RedisClient;
}

/**
 * The connection the writer uses for a client the application passed in: a duplicate with the
 * write-connection settings (no command timeout, in-flight commands fail when the socket closes,
 * no resend inside ioredis, no offline queue). The backend closes it; the application's client stays its own.
 */
export function duplicateForWrites(client: RedisClient): RedisClient {
  const overrides = { lazyConnect: true, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: 0, commandTimeout: undefined };
  if (isClusterClient(client)) {
    const cluster = client as unknown as Cluster;
    return cluster.duplicate([], { lazyConnect: true, enableOfflineQueue: false, redisOptions: overrides }) as unknown as RedisClient;
  }
  return client.duplicate({ ...overrides, enableOfflineQueue: false, retryStrategy: (attempt: number) => backoffMs(attempt) });
}

/** Starts connecting a client that has not started yet; failures surface through `waitReady`. */
export function startConnecting(client: RedisClient): void {
  if (client.status === 'wait') client.connect().catch(() => undefined);
}

/**
 * Resolves once the client is ready; rejects with PAPYRA_BACKEND_UNAVAILABLE after `timeoutMs`,
 * or at once with PAPYRA_INVALID_CONFIG when the server refuses our credentials.
 */
export function waitReady(client: RedisClient, timeoutMs: number, what: string, lastFailure?: () => unknown): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  const known = lastFailure?.();
  if (isConfigReply(known)) return Promise.reject(configError(`${what}: ${describeError(known)}`, known));
  startConnecting(client);
  if (client.status === 'end') return Promise.reject(unavailableError(`${what}: the connection has ended`));
  return new Promise((resolve, reject) => {
    let lastError: unknown;
    const onError = (error: unknown) => {
      lastError = error;
      if (isConfigReply(error)) {
        done();
        reject(configError(`${what}: ${describeError(error)}`, error));
      }
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
 * Logs connection loss and recovery once per outage (ioredis emits an error per attempt), keeps
 * an 'error' listener attached so a failed attempt never becomes an unhandled error event, and
 * remembers the last connection error (a refused password is a configuration error, not an outage).
 */
export function watchConnection(client: RedisClient, log: Logger, onReady: () => void, onError: (error: unknown) => void): () => void {
  let down = false;
  const error = (e: unknown) => {
    onError(e);
    if (down) return;
    down = true;
    log.warn({ err: { message: describeError(e) } }, 'redis connection lost; writes are buffered until it returns');
  };
  const ready = () => {
    if (down) log.info('redis connection restored');
    down = false;
    onReady();
  };
  client.on('error', error);
  client.on('ready', ready);
  return () => {
    client.off('error', error);
    client.off('ready', ready);
  };
}

/** Ends a connection we created: QUIT when connected (pending replies arrive first), else drop it. */
export async function closeClient(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') {
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([
      client.quit().then(
        () => undefined,
        () => undefined,
      ),
      timer,
    ]);
  }
  client.disconnect();
}
