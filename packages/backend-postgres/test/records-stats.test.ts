import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, expect, it } from '@jest/globals';
import {
  createEvent,
  encodeRecord,
  RECORD_KINDS,
  type KindStats,
  type PersistedRecord,
  type RecordKind,
  type RetentionPolicy,
  type StoredRecord,
} from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';
import { NOW, clock, history as mixedHistory, store } from './history.js';

const history = () => mixedHistory('é', 150);

async function collect(stream: AsyncIterable<StoredRecord>): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

/** What the lists show, kind by kind, in RECORD_KINDS order. */
async function listed(backend: PostgresBackend): Promise<PersistedRecord[]> {
  return [...(await backend.listEvents()), ...(await backend.listAudits()), ...(await backend.listDeadLetters())];
}

function tally(records: PersistedRecord[]): Record<RecordKind, KindStats> {
  const kinds = Object.fromEntries(RECORD_KINDS.map((k) => [k, { records: 0, bytes: 0, oldest: null, newest: null } as KindStats])) as Record<
    RecordKind,
    KindStats
  >;
  for (const r of records) {
    const k = kinds[r.kind];
    k.records += 1;
    k.bytes += Buffer.byteLength(encodeRecord(r)) + 1;
    k.oldest = k.oldest === null ? r.timestamp : Math.min(k.oldest, r.timestamp);
    k.newest = k.newest === null ? r.timestamp : Math.max(k.newest, r.timestamp);
  }
  return kinds;
}

const policies: RetentionPolicy[] = [
  {},
  { maxRecords: 7 },
  { maxAgeMs: 25_000 },
  { maxTotalBytes: 1_500 },
  { maxRecords: 15, maxAgeMs: 50_000, maxTotalBytes: 2_500 },
];

describeDb('records() and stats()', () => {
  const db = testSchema('stream');
  afterAll(() => db.drop());
  const records = history();

  it.each(policies)('stream and measure exactly what the lists show, scoped to the system: %j', async (retention) => {
    const table = freshTable();
    const open = (extra: Partial<ConstructorParameters<typeof PostgresBackend>[0]>) =>
      new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, retention, clock, poolSize: 2, maxRowBytes: 4_096, ...extra });
    const backend = open({ systemId: 's' });
    const other = open({ systemId: 'other' });
    await store(backend, records);
    await store(other, records.slice(0, 9));
    // An oversized row (skipped by lists) and a damaged one (skipped by lists and records()).
    await backend.recordEvent(
      createEvent({ systemId: 's', actorAddress: 's:big', eventType: 'Big', payload: { big: 'x'.repeat(5_000) }, timestamp: NOW - 500 }),
    );
    await db.sql(
      `INSERT INTO "${db.name}"."${table}" (id, kind, system_id, timestamp_ms, data) VALUES ('damaged', 'audit', 's', $1, '{"kind": "audit", "ti')`,
      [NOW - 100],
    );

    // The lists, kind by kind (their retention is pinned by retention.test.ts).
    const visible = await listed(backend);
    const streamed = await collect(backend.records());
    expect(streamed.map((s) => s.record)).toEqual(visible);
    for (const s of streamed) expect(s.line).toBe(encodeRecord(s.record));

    const window = { kinds: ['dead_letter', 'event'] as RecordKind[], since: NOW - 40_000, until: NOW - 10_000 };
    expect((await collect(backend.records(window))).map((s) => s.record)).toEqual(
      visible.filter((r) => r.kind !== 'audit' && r.timestamp >= window.since && r.timestamp < window.until),
    );

    const stats = await backend.stats();
    // SQL cannot tell a damaged row: it counts (as in the retention window) until recovery removes it.
    const damaged = '{"kind": "audit", "ti'.length + 1;
    const counted = tally(visible);
    counted.audit = { ...counted.audit, records: counted.audit.records + 1, bytes: counted.audit.bytes + damaged, newest: NOW - 100 };
    expect(stats.kinds).toEqual(counted);
    expect(stats.total.records).toBe(visible.length + 1);
    expect(stats.backend).toBe('postgres');
    // allSystems: every system's rows.
    const all = open({ allSystems: true });
    // Repair removes the damaged and the oversized row: stats and lists agree exactly.
    await backend.recover({ mode: 'repair' });
    expect((await backend.stats()).kinds).toEqual(tally(await listed(backend)));
    const allStats = await all.stats();
    expect(allStats.kinds).toEqual(tally(await listed(all)));
    await Promise.all([backend.close(), other.close(), all.close()]);
  });

  it('streams 50,000 rows with bounded memory', async () => {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, poolSize: 1 });
    await backend.ensureSchema();
    const N = 50_000;
    // Rows of about 750 bytes, written in SQL (the writer is not what is measured here).
    await db.sql(
      `INSERT INTO "${db.name}"."${table}" (id, kind, system_id, timestamp_ms, data, actor, event_type)
       SELECT 'e' || i, 'event', 'local', 1700000000000 + i,
              '{"kind":"event","id":"e' || i || '","system_id":"local","timestamp":' || (1700000000 + i / 1000.0) ||
              ',"actor_address":{"system":"local","actor_id":' || (i % 100) || '},"event_type":"ActorStarted","payload":{"pad":"' || repeat('x', 600) || '"}}',
              'local:' || (i % 100), 'ActorStarted'
       FROM generate_series(0, $1 - 1) AS i`,
      [N],
    );
    // As autovacuum would after a bulk load: with statistics of an empty table the planner sorts instead of walking the index.
    await db.sql(`ANALYZE "${db.name}"."${table}"`);
    const stats = await backend.stats();
    expect(stats.kinds.event.records).toBe(N);
    const dataBytes = stats.total.bytes;
    expect(dataBytes).toBeGreaterThan(35_000_000);

    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let count = 0;
    let bytes = 0;
    let previous = -Infinity;
    let ordered = true;
    for await (const { record, line } of backend.records()) {
      count += 1;
      bytes += Buffer.byteLength(line) + 1;
      ordered &&= record.timestamp > previous;
      previous = record.timestamp;
      if (count % 10_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
    }
    expect({ count, bytes, ordered }).toEqual({ count: N, bytes: dataBytes, ordered: true });
    // A page is 1000 rows (under 1 MB); the whole table is over 35 MB.
    expect(peak).toBeLessThan(dataBytes / 5);
    console.log(`records(): ${N} rows, ${dataBytes} bytes streamed; live heap growth at most ${peak} bytes`);
    await backend.close();
  });

  it('a missing store streams nothing and measures zero; bad arguments, aborts and a closed backend are typed errors', async () => {
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table: freshTable(), poolSize: 1 });
    expect(await collect(backend.records())).toEqual([]);
    expect((await backend.stats()).total).toEqual({ records: 0, bytes: 0, oldest: null, newest: null });
    await expect(collect(backend.records({ kinds: ['bogus' as RecordKind] }))).rejects.toMatchObject({ code: 'PAPYRA_INVALID_ARGUMENT' });
    await expect(collect(backend.records({ since: Number.NaN }))).rejects.toMatchObject({ code: 'PAPYRA_INVALID_ARGUMENT' });
    const aborted = AbortSignal.abort();
    await expect(collect(backend.records({ signal: aborted }))).rejects.toMatchObject({ code: 'PAPYRA_ABORTED' });
    await expect(backend.stats({ signal: aborted })).rejects.toMatchObject({ code: 'PAPYRA_ABORTED' });
    await backend.close();
    await expect(collect(backend.records({ kinds: ['bogus' as RecordKind] }))).rejects.toMatchObject({ code: 'PAPYRA_BACKEND_CLOSED' });
    await expect(backend.stats()).rejects.toMatchObject({ code: 'PAPYRA_BACKEND_CLOSED' });
  });
});
