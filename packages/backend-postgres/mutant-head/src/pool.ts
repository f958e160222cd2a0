import type { QueryResult, QueryResultRow } from 'pg';

/** What the backend needs of a connection checked out of a pool (a `pg.PoolClient` is one). */
export interface PostgresClient {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  release(err?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
}

/** What the backend needs of a pool (a `pg.Pool` is one); tests wrap a real pool to inject faults. */
export interface PostgresPool {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
  connect(): Promise<PostgresClient>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
}

/**
 * Runs `fn` in a transaction on one connection. A checked-out pg client has no 'error' listener
 * (pg-pool removes its idle one), so a server-side termination would crash the process: we hold one
 * for the duration. A failed client is released with its error so the pool discards it.
 */
export async function inTransaction<T>(pool: PostgresPool, fn: (client: PostgresClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    broken ??= await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: Error) => rollbackError,
    );
    throw error;
  } finally {
    client.removeListener('error', onError);
    client.release(broken ?? false);
  }
}
