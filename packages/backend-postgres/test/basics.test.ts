import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from '@jest/globals';
import { PapyraError, createAudit, createDeadLetter, createEvent, decodeRecord, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (PapyraError.isInstance(e) ? e.code : `not a PapyraError: ${String(e)}`),
  );

describeDb('PostgresBackend basics', () => {
  const db = testSchema('basics');
  afterAll(() => db.drop());
  const open = (extra: Partial<ConstructorParameters<typeof PostgresBackend>[0]> = {}) =>
    new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table: freshTable(), ...extra });

  it('round-trips every kind, storing exactly encodeRecord(record) in data', async () => {
    const backend = open();
    const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted', payload: { text: 'héllo ✓ 𝄞', nested: { n: [1, 2] } } });
    const audit = createAudit({
      systemId: 's',
      totalActors: 3,
      aliveActors: 2,
      stoppingActors: 0,
      restartingActors: 1,
      registrySize: 3,
      registryOrphans: ['s:9'],
      registryDead: [],
      deadLettersCount: 4,
    });
    const dead = createDeadLetter({ systemId: 's', target: 's:2', messageType: 'Ping', payload: 'x'.repeat(200_000), expectsReply: true, reason: 'stopped' });
    await Promise.all([backend.recordEvent(event), backend.recordAudit(audit), backend.recordDeadLetter(dead)]);
    expect(await backend.listEvents()).toEqual([event]);
    expect(await backend.listAudits()).toEqual([audit]);
    expect(await backend.listDeadLetters()).toEqual([dead]);
    await backend.close();
  });

  it('keeps acceptance order under concurrent writes and applies limit, since and order', async () => {
    const backend = open({ batchSize: 7 });
    const events = Array.from({ length: 100 }, (_, i) =>
      createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted', timestamp: 1_000 + i }),
    );
    await Promise.all(events.map((e) => backend.recordEvent(e)));
    expect(await backend.listEvents()).toEqual(events);
    expect(await backend.listEvents({ limit: 3 })).toEqual(events.slice(-3));
    expect(await backend.listEvents({ limit: 3, order: 'desc' })).toEqual(events.slice(-3).reverse());
    expect(await backend.listEvents({ since: 1_095 })).toEqual(events.slice(95));
    expect(await backend.listEvents({ since: 1_090, limit: 2 })).toEqual(events.slice(98));
    expect(await backend.listEvents({ limit: 0 })).toEqual([]);
    expect(await backend.listAudits()).toEqual([]);
    await expect(code(backend.listEvents({ limit: -1 }))).resolves.toBe('PAPYRA_INVALID_ARGUMENT');
    await backend.close();
  });

  it('stores Python Papyra records (no ids) and a resent id-less record is not duplicated', async () => {
    const lines = readFileSync(new URL('../../../fixtures/papyra-py/system.ndjson', import.meta.url), 'utf8')
      .split('\n')
      .filter(Boolean);
    const records = lines.map((line) => decodeRecord(line));
    const backend = open();
    for (const r of records) {
      if (r.kind === 'event') await backend.recordEvent(r);
      else if (r.kind === 'audit') await backend.recordAudit(r);
      else await backend.recordDeadLetter(r);
    }
    const firstEvent = records.find((r): r is PersistedEvent => r.kind === 'event')!;
    await backend.recordEvent(firstEvent); // the same bytes again, as a retry would send them
    const events = await backend.listEvents();
    expect(events).toEqual(records.filter((r) => r.kind === 'event'));
    expect(events.every((e) => e.id === null)).toBe(true);
    expect((await backend.listDeadLetters()).length).toBe(5);
    expect((await backend.scan()).anomalies).toEqual([]);
    await backend.close();
  });

  it("writes data as the exact encoded line, with kind, system (the backend's) and timestamp columns", async () => {
    const table = freshTable();
    const backend = open({ table, systemId: 'sys-a' });
    const event = createEvent({ systemId: 'sys-a', actorAddress: 'sys-a:1', eventType: 'ActorStopped', timestamp: 1_700_000_000_123.5 });
    await backend.recordEvent(event);
    const { rows } = await db.sql(`SELECT id, kind, system_id, timestamp_ms, data FROM "${db.name}"."${table}"`);
    expect(rows).toEqual([{ id: event.id, kind: 'event', system_id: 'sys-a', timestamp_ms: 1_700_000_000_123.5, data: encodeRecord(event) }]);
    await backend.close();
  });

  it('a missing store reads as empty and reading creates nothing', async () => {
    const table = freshTable();
    const backend = open({ table });
    expect(await backend.listEvents()).toEqual([]);
    expect(await backend.scan()).toEqual({ backend: 'postgres', anomalies: [] });
    expect((await backend.recover({ mode: 'repair' })).droppedRecords).toBe(0);
    expect((await backend.compact()).beforeRecords).toBe(0);
    const { rows } = await db.sql('SELECT to_regclass($1) AS t', [`"${db.name}"."${table}"`]);
    expect(rows[0]!.t).toBeNull();
    await backend.close();
  });

  it('rejects bad records with PAPYRA_INVALID_RECORD and writes nothing', async () => {
    const backend = open();
    const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' });
    await expect(code(backend.recordEvent({ ...event, timestamp: Number.NaN }))).resolves.toBe('PAPYRA_INVALID_RECORD');
    await expect(code(backend.recordAudit(event as never))).resolves.toBe('PAPYRA_INVALID_RECORD');
    expect(await backend.listEvents()).toEqual([]);
    await backend.close();
  });

  it('after close every method rejects with PAPYRA_BACKEND_CLOSED; close is idempotent', async () => {
    const backend = open();
    const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' });
    void backend.recordEvent(event);
    await backend.close();
    await backend.close();
    for (const p of [
      backend.recordEvent(event),
      backend.listEvents(),
      backend.listAudits(),
      backend.listDeadLetters(),
      backend.scan(),
      backend.recover({ mode: 'repair' }),
      backend.compact(),
      backend.flush(),
      backend.ensureSchema(),
    ]) {
      await expect(code(p)).resolves.toBe('PAPYRA_BACKEND_CLOSED');
    }
  });

  it('close() does not end a pool it was given', async () => {
    const backend = new PostgresBackend({ pool: db.admin, schema: db.name, table: freshTable() });
    await backend.recordEvent(createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' }));
    await backend.close();
    expect((await db.sql('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('counts written records and bytes in metrics', async () => {
    const backend = open();
    const events = Array.from({ length: 5 }, () => createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' }));
    await Promise.all(events.map((e) => backend.recordEvent(e)));
    const snap = backend.metrics.snapshot();
    expect(snap.recordsWritten).toBe(5);
    expect(snap.recordsWrittenByKind.event).toBe(5);
    expect(snap.bytesWritten).toBe(events.reduce((n, e) => n + Buffer.byteLength(encodeRecord(e)) + 1, 0));
    expect(snap.recordsDropped).toBe(0);
    await backend.close();
  });
});

describeDb('PostgresBackend configuration and unreachable servers', () => {
  it('needs exactly one of connectionString and pool, and a sane table name', () => {
    const thrown = (fn: () => unknown) => {
      try {
        fn();
        return 'no error';
      } catch (e) {
        return PapyraError.isInstance(e) ? e.code : String(e);
      }
    };
    expect(thrown(() => new PostgresBackend({}))).toBe('PAPYRA_INVALID_CONFIG');
    expect(thrown(() => new PostgresBackend({ connectionString: DATABASE_URL, table: 'x'.repeat(60) }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(thrown(() => new PostgresBackend({ connectionString: DATABASE_URL, batchSize: 0 }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(thrown(() => new PostgresBackend({ connectionString: DATABASE_URL, retention: { maxRecords: -1 } }))).toBe('PAPYRA_INVALID_CONFIG');
  });

  it('a read against an unreachable server fails with PAPYRA_BACKEND_UNAVAILABLE and never shows the password', async () => {
    const backend = new PostgresBackend({ connectionString: 'postgres://papyra:s3cret-pw@127.0.0.1:1/nowhere', connectionTimeoutMillis: 1_000 });
    const error = await backend.listEvents().then(
      () => undefined,
      (e: unknown) => e as PapyraError,
    );
    expect(error?.code).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    expect(JSON.stringify({ message: error?.message, details: error?.details, cause: String(error?.cause) })).not.toContain('s3cret-pw');
    await backend.close();
  });

  it('a database that does not exist is a configuration error (PAPYRA_INVALID_CONFIG), not an outage', async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = `/papyra_missing_${process.pid}`;
    const backend = new PostgresBackend({ connectionString: url.toString(), connectionTimeoutMillis: 2_000 });
    const error = await backend.listEvents().then(
      () => undefined,
      (e: unknown) => e as PapyraError,
    );
    expect(error?.code).toBe('PAPYRA_INVALID_CONFIG');
    expect(error?.details['sqlState']).toBe('3D000');
    await backend.close();
  });
});
