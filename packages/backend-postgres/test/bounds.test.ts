import { afterAll, expect, it } from '@jest/globals';
import { PapyraError, createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import pg from 'pg';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

const events = (n: number, from = 0): PersistedEvent[] =>
  Array.from({ length: n }, (_, i) => createEvent({ systemId: 's', actorAddress: `s:${from + i}`, eventType: 'ActorStarted' }));
const codeOf = (e: unknown) => (PapyraError.isInstance(e) ? e.code : `not a PapyraError: ${String(e)}`);

/** How long `work` took to settle, and its error if it rejected. */
async function timed(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: Date.now() - start, error };
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Bounds here are well under a second; the limit is generous for a loaded 2-core machine. Without
// bounds every call below waits as long as the lock or the held connection (for ever).
const LIMIT_MS = 8_000;

describeDb('every operation is bounded: locked tables, held pools', () => {
  const db = testSchema('bounds');
  afterAll(() => db.drop());
  const stored = async (table: string) => (await db.sql<{ id: string }>(`SELECT id FROM "${db.name}"."${table}" ORDER BY seq`)).rows.map((r) => r.id);

  /** A second session holding ACCESS EXCLUSIVE on the table until `release()`. */
  async function lockTable(table: string) {
    const locker = new pg.Client({ connectionString: DATABASE_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${db.name}"."${table}" IN ACCESS EXCLUSIVE MODE`);
    return {
      async release() {
        await locker.query('COMMIT');
        await locker.end();
      },
    };
  }

  it('a locked table: writes buffer, flush, lists and probe fail with PAPYRA_LOCKED within the bound, writes resume on unlock, close drops and counts', async () => {
    const table = freshTable();
    const bounds = { lockTimeoutMs: 300, statementTimeoutMs: 2_000, acquireTimeoutMs: 2_000 };
    const writer = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, ...bounds });
    // The reader runs on an application's pool: its bounds are set per transaction (SET LOCAL).
    const appPool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    const reader = new PostgresBackend({ pool: appPool, schema: db.name, table, ...bounds });
    const before = events(5);
    await Promise.all(before.map((e) => writer.recordEvent(e)));

    let lock = await lockTable(table);
    const during = events(40, 100);
    try {
      const writes = await timed(Promise.all(during.map((e) => writer.recordEvent(e))));
      expect(writes.error).toBeUndefined(); // buffered
      expect(writes.ms).toBeLessThan(LIMIT_MS);
      for (const [what, work] of [
        ['flush', () => writer.flush()],
        ['list with writes pending', () => writer.listEvents()],
        ['list', () => reader.listEvents()],
        ['scan', () => reader.scan()],
        ['probe', () => reader.probe({ timeoutMs: 1_000 })],
      ] as const) {
        const outcome = await timed(work()); // one at a time, each from its start
        expect([what, codeOf(outcome.error)]).toEqual([what, 'PAPYRA_LOCKED']);
        expect(outcome.ms).toBeLessThan(LIMIT_MS);
      }
    } finally {
      await lock.release();
    }
    await until(() =>
      writer.flush().then(
        () => true,
        () => false,
      ),
    );
    expect(await stored(table)).toEqual([...before, ...during].map((e) => e.id));
    await expect(reader.probe()).resolves.toBeUndefined();

    lock = await lockTable(table);
    const lost = events(10, 200);
    try {
      await Promise.all(lost.map((e) => writer.recordEvent(e)));
      const close = await timed(writer.close());
      expect(codeOf(close.error)).toBe('PAPYRA_LOCKED');
      expect(close.ms).toBeLessThan(LIMIT_MS);
    } finally {
      await lock.release();
    }
    const rows = await stored(table);
    expect(rows).toEqual([...before, ...during].map((e) => e.id));
    expect(rows.length + writer.metrics.snapshot().recordsDropped).toBe(before.length + during.length + lost.length);
    await reader.close();
    // The application's connections kept their own settings.
    const client = await appPool.connect();
    expect((await client.query('SHOW lock_timeout')).rows[0]).toEqual({ lock_timeout: '0' });
    client.release();
    await appPool.end();
  });

  it('an application pool whose only connection is held: PAPYRA_POOL_EXHAUSTED (not "unreachable") within the acquire bound', async () => {
    const table = freshTable();
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const backend = new PostgresBackend({ pool, schema: db.name, table, acquireTimeoutMs: 300 });
    await backend.ensureSchema();
    const held = await pool.connect();
    const accepted = events(20);
    try {
      const writes = await timed(Promise.all(accepted.map((e) => backend.recordEvent(e))));
      expect(writes.error).toBeUndefined(); // buffered
      expect(writes.ms).toBeLessThan(LIMIT_MS);
      for (const [what, work] of [
        ['flush', () => backend.flush()],
        ['list', () => backend.listEvents()],
        ['probe', () => backend.probe({ timeoutMs: 300 })],
      ] as const) {
        const outcome = await timed(work()); // one at a time, each from its start
        expect([what, codeOf(outcome.error)]).toEqual([what, 'PAPYRA_POOL_EXHAUSTED']);
        expect(outcome.ms).toBeLessThan(LIMIT_MS);
      }
    } finally {
      held.release();
    }
    await backend.flush();
    expect(await stored(table)).toEqual(accepted.map((e) => e.id));
    expect(backend.metrics.snapshot().recordsDropped).toBe(0);
    await backend.close();
    await pool.end();
  });

  it('probe: resolves on a healthy server and a missing table, changes nothing, honours an abort signal', async () => {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table });
    await expect(backend.probe()).resolves.toBeUndefined();
    expect((await db.sql('SELECT to_regclass($1) AS t', [`"${db.name}"."${table}"`])).rows[0]!.t).toBeNull();
    const e = events(1);
    await backend.recordEvent(e[0]!);
    await expect(backend.probe({ timeoutMs: 2_000 })).resolves.toBeUndefined();
    expect(await stored(table)).toEqual([e[0]!.id]);
    const controller = new AbortController();
    controller.abort();
    expect(codeOf(await backend.probe({ signal: controller.signal }).catch((x: unknown) => x))).toBe('PAPYRA_ABORTED');
    expect(codeOf(await backend.probe({ timeoutMs: 0 }).catch((x: unknown) => x))).toBe('PAPYRA_INVALID_ARGUMENT');
    await backend.close();
    expect(codeOf(await backend.probe().catch((x: unknown) => x))).toBe('PAPYRA_BACKEND_CLOSED');
  });
});
