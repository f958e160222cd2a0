import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from '@jest/globals';
import { PapyraError, createEvent, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

describeDb('scan and recovery', () => {
  const db = testSchema('recovery');
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db.drop();
  });

  /** A store of 6 events, then rows 2 and 4 damaged through raw SQL, and an event with a lying kind column. */
  async function damagedStore() {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table });
    const events = Array.from({ length: 6 }, (_, i) => createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted', timestamp: 1_000 + i }));
    for (const e of events) void backend.recordEvent(e);
    await backend.flush();
    const q = `"${db.name}"."${table}"`;
    await db.sql(`UPDATE ${q} SET data = '{"kind": "event", "timest' WHERE id = $1`, [events[1]!.id]);
    await db.sql(`UPDATE ${q} SET data = '[1, 2, 3]' WHERE id = $1`, [events[3]!.id]);
    await db.sql(`UPDATE ${q} SET kind = 'audit' WHERE id = $1`, [events[5]!.id]);
    const seqs = (await db.sql<{ id: string; seq: string }>(`SELECT id, seq::text AS seq FROM ${q}`)).rows;
    const seqOf = (e: PersistedEvent) => seqs.find((r) => r.id === e.id)!.seq;
    const good = [events[0]!, events[2]!, events[4]!];
    return { backend, table, q, events, good, bad: [events[1]!, events[3]!, events[5]!], seqOf };
  }

  it('scan reports every damaged row with its type, table and row, and changes nothing', async () => {
    const { backend, q, events, seqOf } = await damagedStore();
    const before = (await db.sql(`SELECT * FROM ${q} ORDER BY seq`)).rows;
    const report = await backend.scan();
    const path = `${db.name}.${q.split('.')[1]!.replaceAll('"', '')}`;
    expect(report.backend).toBe('postgres');
    expect(report.anomalies.map((a) => [a.type, a.path, a.line, a.offset])).toEqual([
      ['CORRUPTED_ENTRY', path, null, null],
      ['INVALID_RECORD', path, null, null],
      ['INVALID_RECORD', path, null, null],
    ]);
    expect(report.anomalies[0]!.detail).toContain(`seq=${seqOf(events[1]!)} id=${events[1]!.id}`);
    expect(report.anomalies[2]!.detail).toContain('kind column');
    expect((await db.sql(`SELECT * FROM ${q} ORDER BY seq`)).rows).toEqual(before);
    expect(backend.metrics.snapshot().anomaliesByType).toEqual({ CORRUPTED_ENTRY: 1, INVALID_RECORD: 2 });
    await backend.close();
  });

  it('lists skip damaged rows', async () => {
    const { backend, good } = await damagedStore();
    expect(await backend.listEvents()).toEqual(good);
    expect(await backend.listAudits()).toEqual([]);
    await backend.close();
  });

  it('repair deletes only flagged rows, ends clean and is idempotent', async () => {
    const { backend, q, good } = await damagedStore();
    const report = await backend.recover({ mode: 'repair' });
    expect(report.scan.anomalies).toHaveLength(3);
    expect(report.postScan.anomalies).toEqual([]);
    expect(report.droppedRecords).toBe(3);
    expect(report.keptRecords).toBe(3);
    expect((await db.sql(`SELECT data FROM ${q} ORDER BY seq`)).rows.map((r) => r.data)).toEqual(good.map((e) => encodeRecord(e)));
    const again = await backend.recover({ mode: 'repair' });
    expect([again.scan.anomalies.length, again.droppedRecords, again.repairedFiles.length]).toEqual([0, 0, 0]);
    expect(backend.metrics.snapshot().recoveries).toBe(2);
    await backend.close();
  });

  it('quarantine moves flagged rows to the quarantine table and a file, in one step, idempotently', async () => {
    const { backend, q, table, good, bad, seqOf } = await damagedStore();
    const dir = mkdtempSync(join(tmpdir(), 'papyra-pg-q-'));
    dirs.push(dir);
    const damaged = (
      await db.sql<{ seq: string; data: string }>(`SELECT seq::text AS seq, data FROM ${q} WHERE id = ANY($1) ORDER BY seq`, [bad.map((e) => e.id)])
    ).rows;
    const report = await backend.recover({ mode: 'quarantine', quarantineDir: join(dir, 'nested') });
    expect(report.postScan.anomalies).toEqual([]);
    expect(report.droppedRecords).toBe(3);
    expect(report.quarantinedFiles).toHaveLength(1);
    const file = report.quarantinedFiles[0]!;
    expect(file.startsWith(join(dir, 'nested'))).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: string; data: string; anomaly: string });
    expect(lines.map((l) => [l.seq, l.data])).toEqual(damaged.map((r) => [r.seq, r.data]));
    const moved = (await db.sql(`SELECT seq::text AS seq, data, anomaly FROM "${db.name}"."${table}_quarantine" ORDER BY seq`)).rows;
    expect(moved).toEqual(damaged.map((r, i) => ({ seq: r.seq, data: r.data, anomaly: lines[i]!.anomaly })));
    expect(moved.map((m) => m.seq)).toEqual(bad.map(seqOf));
    expect(await backend.listEvents()).toEqual(good);
    const again = await backend.recover({ mode: 'quarantine', quarantineDir: join(dir, 'nested') });
    expect([again.droppedRecords, again.quarantinedFiles.length]).toEqual([0, 0]);
    expect(readdirSync(join(dir, 'nested'))).toHaveLength(1);
    await backend.close();
  });

  it('ignore reports only; quarantine without a directory is PAPYRA_INVALID_CONFIG', async () => {
    const { backend, q } = await damagedStore();
    const report = await backend.recover({ mode: 'ignore' });
    expect(report.scan.anomalies).toHaveLength(3);
    expect(report.postScan.anomalies).toHaveLength(3);
    expect(report.droppedRecords).toBe(0);
    expect((await db.sql(`SELECT count(*)::int AS n FROM ${q}`)).rows[0]!.n).toBe(6);
    const error = await backend.recover({ mode: 'quarantine' }).catch((e: unknown) => e);
    expect(PapyraError.hasCode(error, 'PAPYRA_INVALID_CONFIG')).toBe(true);
    await backend.close();
  });

  it('scan pages through a table larger than one page and honours an abort signal', async () => {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table });
    for (let i = 0; i < 2_500; i++) void backend.recordEvent(createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted' }));
    await backend.flush();
    await db.sql(`UPDATE "${db.name}"."${table}" SET data = 'garbage' WHERE seq IN (SELECT max(seq) FROM "${db.name}"."${table}")`);
    const progress: number[] = [];
    const report = await backend.scan({ onProgress: (p) => progress.push(p.processed) });
    expect(report.anomalies).toHaveLength(1);
    expect(progress).toEqual([1_000, 2_000, 2_500]);
    const controller = new AbortController();
    controller.abort();
    const error = await backend.scan({ signal: controller.signal }).catch((e: unknown) => e);
    expect(PapyraError.hasCode(error, 'PAPYRA_ABORTED')).toBe(true);
    await backend.close();
  });
});
