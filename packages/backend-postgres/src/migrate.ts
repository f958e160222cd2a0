import type { Logger } from '@papyra/persistence-contract';
import { inTransaction, type Bounds, type PostgresPool } from './pool.js';
import { LATEST_VERSION, MIGRATIONS, migrationLockKey, type StoreNames } from './schema.js';

export interface MigrationResult {
  /** Schema version found before migrating (0 for a new store). */
  from: number;
  /** Schema version afterwards. */
  to: number;
}

/**
 * Brings the store to the latest schema version. Each migration runs in its own transaction holding
 * a transaction-scoped advisory lock, so processes migrating at once apply every step exactly once;
 * a crash between steps leaves a consistent, lower version that the next call continues from.
 */
export async function migrate(pool: PostgresPool, bounds: Bounds, names: StoreNames, logger: Logger): Promise<MigrationResult> {
  let from: number | undefined;
  for (;;) {
    const step = await inTransaction(pool, bounds, async (query) => {
      // Keyed by the schema the statements below really use: without the option that is the
      // search_path's (current_schema()), so a process naming the schema and one relying on its
      // search_path take the same lock.
      const schema = names.raw.schema ?? (await query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s ?? undefined;
      await query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey(schema)]);
      if (names.schema !== undefined) await query(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
      await query(
        `CREATE TABLE IF NOT EXISTS ${names.migrations} (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`,
      );
      const { rows } = await query<{ version: number | null }>(`SELECT max(version) AS version FROM ${names.migrations}`);
      const current = rows[0]?.version ?? 0;
      const next = MIGRATIONS.find((m) => m.version === current + 1);
      if (next === undefined) return { current, applied: false };
      for (const statement of next.sql(names)) await query(statement);
      await next.run?.(query, names);
      await query(`INSERT INTO ${names.migrations} (version, name) VALUES ($1, $2)`, [next.version, next.name]);
      logger.info({ table: names.label, version: next.version, migration: next.name }, 'applied PostgreSQL migration');
      return { current, applied: true };
    });
    from ??= step.current;
    if (!step.applied) {
      if (step.current > LATEST_VERSION) {
        logger.warn(
          { table: names.label, version: step.current, known: LATEST_VERSION },
          'store schema is newer than this version of @papyra/backend-postgres',
        );
      }
      return { from, to: step.current };
    }
  }
}
