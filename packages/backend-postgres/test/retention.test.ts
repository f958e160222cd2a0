import { afterAll, expect, it } from '@jest/globals';
import { applyListQuery, applyRetention, encodedSize, type PersistedRecord, type RetentionPolicy } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';
import { NOW, clock, history as mixedHistory, store } from './history.js';

const history = () => mixedHistory('p', 300);

const policies: RetentionPolicy[] = [
  { maxRecords: 5 },
  { maxAgeMs: 30_000 },
  { maxTotalBytes: 1_500 },
  { maxRecords: 12, maxAgeMs: 45_000, maxTotalBytes: 2_000 },
  { maxRecords: 0 },
  { maxTotalBytes: 10 },
];

describeDb('retention and compaction', () => {
  const db = testSchema('retention');
  afterAll(() => db.drop());
  const records = history();

  it.each(policies)('lists hide exactly what the contract retention removes: %j', async (retention) => {
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table: freshTable(), retention, clock });
    await store(backend, records);
    const expected = applyRetention(records, retention, NOW);
    const ofKind = (kind: string) => expected.filter((r) => r.kind === kind);
    expect(await backend.listEvents()).toEqual(ofKind('event'));
    expect(await backend.listAudits()).toEqual(ofKind('audit'));
    expect(await backend.listDeadLetters()).toEqual(ofKind('dead_letter'));
    for (const query of [{ limit: 2 }, { since: NOW - 20_000 }, { since: NOW - 40_000, limit: 3, order: 'desc' as const }]) {
      expect(await backend.listDeadLetters(query)).toEqual(applyListQuery(ofKind('dead_letter'), query));
    }
    await backend.close();
  });

  it.each(policies)('compaction deletes exactly the unretained rows and reports the numbers: %j', async (retention) => {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, retention, clock });
    await store(backend, records);
    const kept = applyRetention(records, retention, NOW);
    const bytes = (rs: PersistedRecord[]) => rs.reduce((n, r) => n + encodedSize(r), 0);
    const report = await backend.compact();
    expect(report).toEqual({
      backend: 'postgres',
      beforeRecords: records.length,
      afterRecords: kept.length,
      beforeBytes: bytes(records),
      afterBytes: bytes(kept),
      removedRecords: records.length - kept.length,
      reclaimedBytes: bytes(records) - bytes(kept),
    });
    const { rows } = await db.sql<{ id: string }>(`SELECT id FROM "${db.name}"."${table}" ORDER BY seq`);
    expect(rows.map((r) => r.id)).toEqual(kept.map((r) => r.id));
    // Compacting again changes nothing.
    expect((await backend.compact()).removedRecords).toBe(0);
    expect(backend.metrics.snapshot().compactions).toBe(2);
    await backend.close();
  });

  it('without retention, compaction keeps everything', async () => {
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table: freshTable() });
    await store(backend, records);
    const report = await backend.compact();
    expect(report.removedRecords).toBe(0);
    expect(report.afterRecords).toBe(records.length);
    await backend.close();
  });
});
