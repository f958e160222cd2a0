import { randomUUID } from 'node:crypto';
import type { ConformanceContext, ConformanceHarness } from '@papyra/persistence-contract/conformance';
import pg from 'pg';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL } from './db.js';

const TABLE = 'records';

/**
 * The conformance harness of this backend: each context in its own schema. `end()` closes the
 * admin pool that damages stores and drops schemas.
 */
export function postgresHarness(): { harness: ConformanceHarness<PostgresBackend>; end: () => Promise<void> } {
  // Which schema each backend lives in, for reopen and corrupt.
  const contexts = new WeakMap<PostgresBackend, ConformanceContext>();
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const open = (ctx: ConformanceContext) => {
    const backend = new PostgresBackend({
      connectionString: DATABASE_URL,
      schema: ctx.namespace,
      table: TABLE,
      retention: ctx.retention,
      clock: ctx.clock,
      poolSize: 2,
    });
    contexts.set(backend, ctx);
    return backend;
  };
  const harness: ConformanceHarness<PostgresBackend> = {
    name: 'postgres',
    make: async (ctx) => open(ctx),
    reopen: async (backend) => open(contexts.get(backend)!),
    // A table has no torn tails (every INSERT is atomic) and no orphan files: those kinds are skipped.
    corruptions: ['corrupt_line', 'invalid_record'],
    async corrupt(backend, kind) {
      const ctx = contexts.get(backend)!;
      const data = kind === 'corrupt_line' ? '{"kind": "event", "timest' : '{"kind": "bogus", "timestamp": 1}';
      // Make sure the table exists even if nothing was written yet.
      await backend.ensureSchema();
      await admin.query(`INSERT INTO "${ctx.namespace}"."${TABLE}" (id, kind, system_id, timestamp_ms, data) VALUES ($1, 'event', 'local', 0, $2)`, [
        randomUUID(),
        data,
      ]);
    },
    async cleanup(ctx) {
      await admin.query(`DROP SCHEMA IF EXISTS "${ctx.namespace}" CASCADE`);
    },
  };
  return { harness, end: () => admin.end() };
}
