import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from '@jest/globals';
import { runBackendConformance, type ConformanceContext } from '@papyra/persistence-contract/conformance';
import pg from 'pg';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, databaseReachable } from './db.js';

// Which schema each backend lives in, for reopen and corrupt.
const contexts = new WeakMap<PostgresBackend, ConformanceContext>();
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const TABLE = 'records';

const open = (ctx: ConformanceContext) => {
  const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: ctx.namespace, table: TABLE, retention: ctx.retention, clock: ctx.clock, poolSize: 2 });
  contexts.set(backend, ctx);
  return backend;
};

if (databaseReachable) {
  await runBackendConformance(
    { describe, it, beforeEach, afterEach },
    {
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
    },
  );
  describe('teardown', () => {
    it('ends the admin pool', async () => {
      await admin.end();
    });
  });
} else {
  await admin.end();
  describe.skip('postgres conformance (PostgreSQL unreachable)', () => {
    it('skipped', async () => {});
  });
}
