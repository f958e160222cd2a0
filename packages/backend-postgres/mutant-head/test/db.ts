import { randomBytes } from 'node:crypto';
import { describe } from '@jest/globals';
import pg from 'pg';

export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if (process.env['CI'] === 'true') throw new Error(`PostgreSQL at DATABASE_URL is unreachable and CI=true: ${(error as Error).message}`);
    console.warn(`\n!!! SKIPPING PostgreSQL tests: cannot reach DATABASE_URL (${(error as Error).message}). Set DATABASE_URL or start PostgreSQL.\n`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export const databaseReachable = await reachable();

/** `describe` when PostgreSQL is reachable; a loud skip otherwise (a failure under CI=true). */
export const describeDb: (name: string, fn: () => void) => void = databaseReachable ? describe : describe.skip;

/** A random schema for one test file, dropped with everything in it by `drop()`. */
export function testSchema(prefix: string) {
  const name = `papyra_${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  return {
    name,
    admin,
    sql: <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => admin.query<R>(text, values),
    async drop() {
      await admin.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await admin.end();
    },
  };
}

let tableCounter = 0;
/** A fresh table name, so tests in one file do not see each other's rows. */
export const freshTable = (): string => `t${++tableCounter}_${randomBytes(3).toString('hex')}`;
