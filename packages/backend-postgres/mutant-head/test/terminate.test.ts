import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from '@jest/globals';
import { createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';
import { recordingLogger } from './faults.js';

describeDb('connections terminated by the server mid-run', () => {
  const db = testSchema('terminate');
  afterAll(() => db.drop());

  const terminate = async (app: string) =>
    (await db.sql<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [app])).rows[0]!.n;

  it('loses no accepted write, duplicates none, and does not hang', async () => {
    const app = `papyra-test-${randomBytes(4).toString('hex')}`;
    const table = freshTable();
    const { logger, lines } = recordingLogger();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, applicationName: app, batchSize: 25, logger });
    const written: PersistedEvent[] = [];
    const pending: Promise<void>[] = [];
    await backend.ensureSchema();
    let killed = 0;
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 150; i++) {
        const e = createEvent({ systemId: 's', actorAddress: `s:${round}`, eventType: 'ActorStarted', payload: { i } });
        written.push(e);
        pending.push(backend.recordEvent(e));
      }
      await new Promise((r) => setTimeout(r, 5));
      killed += await terminate(app);
    }
    const outcomes = await Promise.allSettled(pending);
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(killed).toBeGreaterThan(0); // the scenario really cut connections
    // Idle pool connections are cut too: the pool's error event must not crash the process.
    await backend.flush().catch(() => backend.flush());
    killed += await terminate(app);
    await new Promise((r) => setTimeout(r, 50));

    // Writes resume on fresh connections.
    const after = createEvent({ systemId: 's', actorAddress: 's:after', eventType: 'ActorStopped' });
    written.push(after);
    await backend.recordEvent(after);
    await backend.flush().catch(() => backend.flush());

    const { rows } = await db.sql<{ id: string }>(`SELECT id FROM "${db.name}"."${table}" ORDER BY seq`);
    expect(rows.map((r) => r.id)).toEqual(written.map((e) => e.id));
    expect(backend.metrics.snapshot().recordsDropped).toBe(0);
    // The cut idle connections were reported through the logger, not thrown.
    expect(lines.some((l) => l.msg?.includes('idle PostgreSQL connection failed'))).toBe(true);
    await backend.close();
  });
});
