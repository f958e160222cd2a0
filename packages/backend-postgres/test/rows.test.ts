import { afterAll, expect, it } from '@jest/globals';
import { PapyraError, createEvent, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';
import { recordingLogger } from './faults.js';

describeDb('single rows: refused on write, oversized on read', () => {
  const db = testSchema('rows');
  afterAll(() => db.drop());

  it('one row PostgreSQL refuses does not fail its batch: the rest is stored in order, the one is rejected and counted as dropped', async () => {
    const table = freshTable();
    const { logger, lines } = recordingLogger();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, batchSize: 500, logger });
    await backend.ensureSchema();
    // A constraint added by a database administrator, refusing one record's data (SQLSTATE 23514).
    await db.sql(`ALTER TABLE "${db.name}"."${table}" ADD CONSTRAINT no_poison CHECK (data NOT LIKE '%poison%')`);
    const accepted: PersistedEvent[] = Array.from({ length: 500 }, (_, i) =>
      createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted', payload: { text: i === 321 ? 'poison' : 'fine' } }),
    );
    await backend.recordEvent(createEvent({ systemId: 's', actorAddress: 's:warm', eventType: 'ActorStarted' })); // so the 500 go as one batch
    const outcomes = await Promise.allSettled(accepted.map((e) => backend.recordEvent(e)));
    const rejected = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [[i, (o.reason as PapyraError).code, (o.reason as PapyraError).details['sqlState']]] : [],
    );
    expect(rejected).toEqual([[321, 'PAPYRA_IO', '23514']]);
    const rows = (await db.sql<{ id: string }>(`SELECT id FROM "${db.name}"."${table}" ORDER BY seq`)).rows.map((r) => r.id).slice(1);
    expect(rows).toEqual(accepted.filter((_, i) => i !== 321).map((e) => e.id));
    const m = backend.metrics.snapshot();
    expect([m.recordsWritten - 1, m.recordsDropped]).toEqual([499, 1]);
    expect(lines.filter((l) => l.level === 'error' && l.msg?.includes('refused'))).toHaveLength(1);
    await backend.close();
  });

  it('rows over maxRowBytes are never loaded: scan reports them, lists skip them, pages stay bounded', async () => {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, maxRowBytes: 4_096 });
    const small = Array.from({ length: 3 }, (_, i) => createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted', timestamp: 1_000 + i }));
    const big = createEvent({ systemId: 's', actorAddress: 's:big', eventType: 'ActorStarted', payload: { pad: 'x'.repeat(10_000) }, timestamp: 1_001.5 });
    await backend.recordEvent(small[0]!);
    await backend.recordEvent(small[1]!);
    await backend.recordEvent(big); // writing is not limited: the bound protects readers
    await backend.recordEvent(small[2]!);
    expect(await backend.listEvents()).toEqual(small);
    expect(await backend.listEvents({ limit: 2, order: 'desc' })).toEqual([small[2], small[1]]);
    const { anomalies } = await backend.scan();
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({ type: 'CORRUPTED_ENTRY', line: null, offset: null });
    expect(anomalies[0]!.detail).toMatch(new RegExp(`id=${big.id}: data of \\d+ bytes is over the 4096-byte limit`));
    const report = await backend.recover({ mode: 'repair' });
    expect([report.droppedRecords, report.postScan.anomalies]).toEqual([1, []]);
    expect(await backend.listEvents()).toEqual(small);

    // A page holds at most 3 × maxRowBytes of data (it ends once past 2 ×), whatever its row count.
    const filler = Array.from({ length: 10 }, (_, i) =>
      createEvent({ systemId: 's', actorAddress: `s:f${i}`, eventType: 'ActorStarted', payload: { pad: 'y'.repeat(2_800) } }),
    );
    for (const e of filler) await backend.recordEvent(e);
    const progress: number[] = [];
    expect((await backend.scan({ onProgress: (p) => progress.push(p.processed) })).anomalies).toEqual([]);
    const sizes = [...small, ...filler].map((e) => Buffer.byteLength(encodeRecord(e)));
    const pageBytes = progress.map((n, i) => sizes.slice(progress[i - 1] ?? 0, n).reduce((a, b) => a + b, 0));
    expect(progress[progress.length - 1]).toBe(13);
    expect(pageBytes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...pageBytes)).toBeLessThanOrEqual(3 * 4_096);
    await backend.close();
  });
});
