import { PapyraError } from '@papyra/persistence-contract';
import type { QueryResult, QueryResultRow } from 'pg';
import { isConnectionError, poolExhaustedError, timeoutError, toPapyraError } from './errors.js';

/** What the backend needs of a connection checked out of a pool (a `pg.PoolClient` is one). */
export interface PostgresClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
}

/**
 * What the backend needs of a pool (a `pg.Pool` is one); tests wrap a real pool to inject faults.
 * The counters, when present (pg-pool has them), tell an exhausted pool from an unreachable server.
 */
export interface PostgresPool {
  connect(): Promise<PostgresClient>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
  readonly totalCount?: number;
  readonly idleCount?: number;
  readonly options?: { max?: number };
}

/** How long each step of an operation may take. */
export interface Bounds {
  /** Waiting for a connection from the pool, connecting included. */
  acquireTimeoutMs: number;
  /** PostgreSQL's `statement_timeout`; the client itself gives up `CLIENT_GRACE_MS` later (a frozen server answers nothing). */
  statementTimeoutMs: number;
  /** PostgreSQL's `lock_timeout`: how long a statement waits for a table lock before `PAPYRA_LOCKED`. */
  lockTimeoutMs: number;
  /** The pool's connections were opened with these statement and lock timeouts: no need to set them. */
  preset?: boolean;
}

export const CLIENT_GRACE_MS = 1_000;

/** A statement on the transaction's connection, bounded in time. */
export type Query = <R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]) => Promise<QueryResult<R>>;

const noop = () => {};

function abortedError(signal: AbortSignal): PapyraError {
  return new PapyraError('PAPYRA_ABORTED', 'The operation was aborted.', { cause: signal.reason });
}

/** Settles like `work`, or rejects with `onTimeout()` after `ms` or with PAPYRA_ABORTED when `signal` fires. */
export async function bounded<T>(work: Promise<T>, ms: number, onTimeout: () => Error, signal?: AbortSignal): Promise<T> {
  work.catch(noop); // abandoned work may still reject later; its failure is no longer anyone's
  if (signal?.aborted) throw abortedError(signal);
  let timer: NodeJS.Timeout | undefined;
  let onAbort = noop;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
        onAbort = () => reject(abortedError(signal!));
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Checks a connection out within `ms`. A pool that is full with none idle when the bound runs out
 * is exhausted (`PAPYRA_POOL_EXHAUSTED`); otherwise the server did not accept a connection in time
 * (`PAPYRA_BACKEND_UNAVAILABLE`). A connection that arrives after we gave up goes straight back.
 */
export async function acquire(pool: PostgresPool, ms: number, signal?: AbortSignal): Promise<PostgresClient> {
  const pending = pool.connect();
  const exhausted = () => pool.options?.max !== undefined && pool.totalCount !== undefined && pool.totalCount >= pool.options.max && pool.idleCount === 0;
  try {
    return await bounded(pending, ms, () => (exhausted() ? poolExhaustedError(ms, pool.options?.max) : timeoutError('connecting', ms)), signal);
  } catch (error) {
    pending.then((client) => client.release(), noop);
    // pg-pool's own connectionTimeoutMillis covers both waiting for a slot and connecting.
    if (!PapyraError.isInstance(error) && /timeout exceeded when trying to connect/i.test(String((error as Error)?.message)) && exhausted()) {
      throw poolExhaustedError(ms, pool.options?.max);
    }
    throw toPapyraError('connect', error);
  }
}

export interface TransactionOptions {
  signal?: AbortSignal;
  /** Roll back instead of committing (probes). */
  rollback?: boolean;
}

/**
 * Runs `fn` on one checked-out connection, every statement bounded: a statement the server does
 * not answer within the statement timeout plus `CLIENT_GRACE_MS` (a frozen server) is abandoned
 * and its connection discarded. A checked-out pg client has no 'error' listener (pg-pool removes
 * its idle one), so a server-side termination would crash the process: we hold one meanwhile.
 */
export async function withConnection<T>(
  pool: PostgresPool,
  bounds: Bounds,
  fn: (query: Query, discard: (error: Error) => void) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const client = await acquire(pool, bounds.acquireTimeoutMs, signal);
  let broken: Error | undefined;
  const discard = (err: Error) => {
    broken ??= err;
  };
  client.on('error', discard);
  const clientBound = bounds.statementTimeoutMs + CLIENT_GRACE_MS;
  const query: Query = async <R extends QueryResultRow>(text: string, values?: unknown[]) => {
    if (broken !== undefined) throw broken;
    try {
      return await bounded(client.query<R>(text, values), clientBound, () => timeoutError('a statement', clientBound), signal);
    } catch (error) {
      // Timed out, aborted or cut: the connection is in an unknown state.
      if (PapyraError.isInstance(error) || isConnectionError(error)) discard(error as Error);
      throw error;
    }
  };
  try {
    return await fn(query, discard);
  } finally {
    client.removeListener('error', discard);
    client.release(broken ?? false);
  }
}

/**
 * Runs `fn` in a transaction (see `withConnection`). Unless the pool's connections were opened
 * with these very timeouts (`bounds.preset`), they are set with `SET LOCAL`, so they hold for our
 * statements only and an application's pooled connections keep their own settings.
 */
export function inTransaction<T>(pool: PostgresPool, bounds: Bounds, fn: (query: Query) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return withConnection(
    pool,
    bounds,
    async (query, discard) => {
      await query(
        bounds.preset ? 'BEGIN' : `BEGIN; SET LOCAL statement_timeout = ${bounds.statementTimeoutMs}; SET LOCAL lock_timeout = ${bounds.lockTimeoutMs}`,
      );
      try {
        const result = await fn(query);
        await query(options.rollback ? 'ROLLBACK' : 'COMMIT');
        return result;
      } catch (error) {
        await query('ROLLBACK').catch(discard);
        throw error;
      }
    },
    options.signal,
  );
}

/** One statement, bounded: on its own when the connections carry the timeouts, else in a transaction that sets them. */
export function statement<R extends QueryResultRow>(pool: PostgresPool, bounds: Bounds, text: string, values: unknown[]): Promise<QueryResult<R>> {
  return bounds.preset ? withConnection(pool, bounds, (query) => query<R>(text, values)) : inTransaction(pool, bounds, (query) => query<R>(text, values));
}
