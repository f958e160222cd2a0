import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from '@jest/globals';
import { createEvent } from '@papyra/persistence-contract';
import { PostgresBackend, SCHEMA_VERSION } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

const ALL_VERSIONS = Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1);
const ORIGINAL_COLUMNS = 'seq, id, kind, system_id, timestamp_ms, data';

describeDb('migrations', () => {
  const db = testSchema('migrations');
  afterAll(() => db.drop());
  const open = (table: string) => new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table });
  const versions = async (table: string) =>
    (await db.sql<{ version: number }>(`SELECT version FROM "${db.name}"."${table}_migrations" ORDER BY version`)).rows.map((r) => r.version);
  const indexes = async (table: string) =>
    (
      await db.sql<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [db.name, table])
    ).rows.map((r) => r.indexname);

  it('creates the latest schema, and running it again changes nothing', async () => {
    const table = freshTable();
    const backend = open(table);
    expect(await backend.ensureSchema()).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(await versions(table)).toEqual(ALL_VERSIONS);
    expect(await indexes(table)).toEqual(
      expect.arrayContaining([`${table}_kind_seq`, `${table}_sys_kind_ts`, `${table}_actor`, `${table}_event_type`, `${table}_target`]),
    );
    await backend.close();
    const again = open(table);
    expect(await again.ensureSchema()).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(await versions(table)).toEqual(ALL_VERSIONS);
    await again.close();
  });

  it('many processes migrating at once apply each step exactly once', async () => {
    const table = freshTable();
    const backends = Array.from({ length: 6 }, () => open(table));
    const results = await Promise.all(backends.map((b) => b.ensureSchema()));
    expect(results.every((r) => r.to === SCHEMA_VERSION)).toBe(true);
    expect(results.filter((r) => r.from === 0)).toHaveLength(1);
    expect(await versions(table)).toEqual(ALL_VERSIONS);
    await Promise.all(backends.map((b) => b.close()));
  });

  it('a process naming the schema and one relying on search_path take the same migration lock', async () => {
    const viaSearchPath = new URL(DATABASE_URL);
    viaSearchPath.searchParams.set('options', `-c search_path=${db.name}`);
    for (let round = 0; round < 6; round++) {
      const table = freshTable();
      const named = open(table);
      const implicit = new PostgresBackend({ connectionString: viaSearchPath.toString(), table });
      const results = await Promise.all([named.ensureSchema(), implicit.ensureSchema()]);
      expect(results.filter((r) => r.from === 0)).toHaveLength(1);
      expect(await versions(table)).toEqual(ALL_VERSIONS);
      await Promise.all([named.close(), implicit.close()]);
    }
  });

  it('upgrades a version-1 store in place without losing rows', async () => {
    const table = freshTable();
    const fixture = readFileSync(new URL('./fixtures/schema-v1.sql', import.meta.url), 'utf8')
      .replaceAll(':schema', db.name)
      .replaceAll(':table', table);
    await db.sql(fixture);
    // A damaged row must not stop the backfill of the filter columns (version 5).
    await db.sql(
      `INSERT INTO "${db.name}"."${table}" (id, kind, system_id, timestamp_ms, data) VALUES ('damaged', 'event', 'local', 0, '{"kind": "event", "timest')`,
    );
    const before = (await db.sql(`SELECT ${ORIGINAL_COLUMNS} FROM "${db.name}"."${table}" ORDER BY seq`)).rows;
    const backend = open(table);
    expect(await backend.ensureSchema()).toEqual({ from: 1, to: SCHEMA_VERSION });
    expect(await versions(table)).toEqual(ALL_VERSIONS);
    expect(await indexes(table)).toEqual(expect.arrayContaining([`${table}_kind_seq`, `${table}_sys_kind_ts`]));
    expect((await db.sql(`SELECT ${ORIGINAL_COLUMNS} FROM "${db.name}"."${table}" ORDER BY seq`)).rows).toEqual(before);
    const events = await backend.listEvents();
    expect(events.map((e) => [e.id, e.eventType, e.timestamp])).toEqual([
      ['0190a000-0000-7000-8000-000000000001', 'ActorStarted', 1_700_000_000_000],
      ['0190a000-0000-7000-8000-000000000003', 'ActorStopped', 1_700_000_001_000],
    ]);
    expect((await backend.listDeadLetters()).map((d) => d.payload)).toEqual(['héllo ✓']);
    // The rows written before the filter columns existed were backfilled: filters find them.
    expect((await backend.listEvents({ actor: 'local:1' })).map((e) => e.eventType)).toEqual(['ActorStarted', 'ActorStopped']);
    expect((await backend.listEvents({ eventType: 'ActorStopped' })).map((e) => e.id)).toEqual(['0190a000-0000-7000-8000-000000000003']);
    expect((await backend.listDeadLetters({ target: 'local:2' })).map((d) => d.payload)).toEqual(['héllo ✓']);
    // New writes land after the old rows.
    const fresh = createEvent({ systemId: 'local', actorAddress: 'local:4', eventType: 'ActorStarted', timestamp: 1_700_000_002_000 });
    await backend.recordEvent(fresh);
    expect((await backend.listEvents({ limit: 1 }))[0]).toEqual(fresh);
    expect((await backend.scan()).anomalies.map((a) => [a.type, a.detail.includes('id=damaged')])).toEqual([['CORRUPTED_ENTRY', true]]);
    await backend.close();
  });

  it('the first write migrates a new store by itself', async () => {
    const table = freshTable();
    const backend = open(table);
    await backend.recordEvent(createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' }));
    expect(await versions(table)).toEqual(ALL_VERSIONS);
    await backend.close();
  });
});
