import { afterAll, expect, it } from '@jest/globals';
import { createAudit, createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

describeDb('systems sharing one table', () => {
  const db = testSchema('isolation');
  afterAll(() => db.drop());
  const open = (table: string, extra: Partial<ConstructorParameters<typeof PostgresBackend>[0]> = {}) =>
    new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, poolSize: 2, ...extra });
  // Records name their own system; the backend's systemId decides where they are stored and seen.
  const events = (system: string, n: number, from: number): PersistedEvent[] =>
    Array.from({ length: n }, (_, i) => createEvent({ systemId: system, actorAddress: `${system}:${i}`, eventType: 'ActorStarted', timestamp: from + i }));

  it('each system sees, retains, scans and compacts only its own rows; allSystems is the explicit cross-system view', async () => {
    const table = freshTable();
    const retention = { maxRecords: 3 };
    const a = open(table, { systemId: 'a', retention });
    const b = open(table, { systemId: 'b', retention });
    const local = open(table); // systemId 'local' by default: neither a nor b
    const ea = events('a', 5, 1_000);
    const eb = events('b', 5, 2_000); // newer than a's, so a table-wide maxRecords would hide all of a's
    for (const e of ea) await a.recordEvent(e);
    for (const e of eb) await b.recordEvent(e);
    await a.recordAudit(
      createAudit({
        systemId: 'a',
        totalActors: 1,
        aliveActors: 1,
        stoppingActors: 0,
        restartingActors: 0,
        registrySize: 1,
        registryOrphans: [],
        registryDead: [],
        deadLettersCount: 0,
      }),
    );

    expect(await a.listEvents()).toEqual(ea.slice(-3));
    expect(await b.listEvents()).toEqual(eb.slice(-3));
    expect(await b.listAudits()).toEqual([]);
    expect(await local.listEvents()).toEqual([]);

    // A damaged row of b is b's business: a's scan does not report it, b's does.
    await db.sql(`INSERT INTO "${db.name}"."${table}" (id, kind, system_id, timestamp_ms, data) VALUES ('broken-b', 'dead_letter', 'b', 0, 'not json')`);
    expect((await a.scan()).anomalies).toEqual([]);
    expect((await b.scan()).anomalies.map((x) => x.type)).toEqual(['CORRUPTED_ENTRY']);
    expect((await a.recover({ mode: 'repair' })).droppedRecords).toBe(0);

    // a's compaction removes a's two oldest events and nothing of b.
    const report = await a.compact();
    expect(report).toMatchObject({ beforeRecords: 6, afterRecords: 4, removedRecords: 2 });
    const count = async (system: string) =>
      Number((await db.sql<{ n: string }>(`SELECT count(*) AS n FROM "${db.name}"."${table}" WHERE system_id = $1`, [system])).rows[0]!.n);
    expect(await count('b')).toBe(6);
    expect(await b.listEvents()).toEqual(eb.slice(-3));

    const all = open(table, { allSystems: true });
    expect(await all.listEvents({ limit: 100 })).toEqual([...ea.slice(-3), ...eb]);
    expect((await all.scan()).anomalies).toHaveLength(1);
    await Promise.all([a.close(), b.close(), local.close(), all.close()]);
  });

  it("rows carry the backend's systemId, whatever system the record names", async () => {
    const table = freshTable();
    const shop = open(table, { systemId: 'shop' });
    const foreign = createEvent({ systemId: 'elsewhere', actorAddress: 'elsewhere:1', eventType: 'ActorStarted' });
    await shop.recordEvent(foreign);
    expect(await shop.listEvents()).toEqual([foreign]);
    expect((await db.sql(`SELECT system_id FROM "${db.name}"."${table}"`)).rows).toEqual([{ system_id: 'shop' }]);
    await shop.close();
  });
});
