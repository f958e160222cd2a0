import { afterAll, expect, it } from '@jest/globals';
import { PapyraError, createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';
import { FaultyPool, recordingLogger } from './faults.js';

const events = (n: number, from = 0): PersistedEvent[] =>
  Array.from({ length: n }, (_, i) => createEvent({ systemId: 's', actorAddress: `s:${from + i}`, eventType: 'ActorStarted' }));
const codeOf = (e: unknown) => (PapyraError.isInstance(e) ? e.code : `not a PapyraError: ${String(e)}`);

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeDb('idempotent retries and outages', () => {
  const db = testSchema('outage');
  const pools: FaultyPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await db.drop();
  });
  const setup = (options: { bufferLimit?: number; batchSize?: number } = {}) => {
    const pool = new FaultyPool(DATABASE_URL);
    pools.push(pool);
    const table = freshTable();
    const { logger, lines } = recordingLogger();
    const backend = new PostgresBackend({ pool, schema: db.name, table, logger, ...options });
    const rows = async () => (await db.sql<{ id: string }>(`SELECT id FROM "${db.name}"."${table}" ORDER BY seq`)).rows.map((r) => r.id);
    return { pool, backend, rows, lines };
  };

  it('a batch that committed but reported a failure is resent without duplicates', async () => {
    const { pool, backend, rows } = setup({ batchSize: 50 });
    await backend.ensureSchema();
    pool.inserts = 0; // the migrations' own INSERTs
    // Committed-then-failed more often than the immediate retries allow: the batch is resent from
    // the outage buffer by the retry timer too.
    pool.commitThenFail = 4;
    const batch = events(120);
    await Promise.all(batch.map((e) => backend.recordEvent(e)));
    await until(async () => pool.commitThenFail === 0 && (await rows()).length === 120);
    await backend.flush();
    expect(pool.inserts).toBe(4 + 3); // the first batch five times, then the two others once
    expect(await rows()).toEqual(batch.map((e) => e.id));
    expect(await backend.listEvents()).toEqual(batch);
    expect(backend.metrics.snapshot().recordsWritten).toBe(120);
    await backend.close();
  });

  it('buffers in order while unreachable, drops and counts overflow, fails flush fast, and resumes', async () => {
    const { pool, backend, rows, lines } = setup({ bufferLimit: 5 });
    const before = events(2);
    for (const e of before) await backend.recordEvent(e);

    pool.down = true;
    const during = events(7, 100);
    // The first write meets the outage and resolves once it is buffered: nothing waits on the outage.
    await backend.recordEvent(during[0]!);
    const outcomes = await Promise.allSettled(during.slice(1).map((e) => backend.recordEvent(e)));
    // Four more fit in the buffer of five; two are over the bound and rejected.
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
    expect(outcomes.slice(4).map((o) => codeOf((o as PromiseRejectedResult).reason))).toEqual(['PAPYRA_BACKEND_UNAVAILABLE', 'PAPYRA_BACKEND_UNAVAILABLE']);
    expect(backend.metrics.snapshot().recordsDropped).toBe(2);
    expect(codeOf(await backend.flush().catch((e: unknown) => e))).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    expect(codeOf(await backend.listEvents().catch((e: unknown) => e))).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    expect(lines.filter((l) => l.level === 'warn' && l.msg?.includes('unreachable'))).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'warn' && l.msg?.includes('buffer full'))).toHaveLength(1);

    // Back up: the retry timer writes the buffer by itself, in acceptance order.
    pool.down = false;
    await until(async () => (await rows()).length === 7);
    expect(await rows()).toEqual([...before, ...during.slice(0, 5)].map((e) => e.id));
    await backend.flush();
    expect(backend.metrics.snapshot().recordsWritten).toBe(7);
    // Healthy again: a burst far beyond bufferLimit is accepted whole (the bound is for outages).
    const burst = events(50, 300);
    await Promise.all(burst.map((e) => backend.recordEvent(e)));
    expect((await rows()).length).toBe(57);
    expect(lines.some((l) => l.level === 'info' && l.msg?.includes('reachable again'))).toBe(true);
    await backend.close();
  });

  it('flush during an outage retries at once and succeeds when the server is back', async () => {
    const { pool, backend, rows } = setup();
    await backend.ensureSchema();
    pool.down = true;
    const batch = events(3);
    await Promise.all(batch.map((e) => backend.recordEvent(e)));
    pool.down = false;
    await backend.flush();
    expect(await rows()).toEqual(batch.map((e) => e.id));
    await backend.close();
  });

  it('close during an outage does not hang: it drops, counts, logs and reports the loss', async () => {
    const { pool, backend, lines } = setup();
    await backend.ensureSchema();
    pool.down = true;
    await backend.recordEvent(events(1)[0]!);
    const error = await backend.close().catch((e: unknown) => e);
    expect(codeOf(error)).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    expect(backend.metrics.snapshot().recordsDropped).toBe(1);
    expect(lines.some((l) => l.level === 'error' && (l.obj as { dropped?: number }).dropped === 1)).toBe(true);
    expect(codeOf(await backend.recordEvent(events(1)[0]!).catch((e: unknown) => e))).toBe('PAPYRA_BACKEND_CLOSED');
  });

  it('a statement error that retrying cannot fix rejects the batch and counts it', async () => {
    const { backend } = setup();
    const broken = new PostgresBackend({ pool: pools[pools.length - 1]!, schema: db.name, table: freshTable(), migrate: false });
    const error = await broken.recordEvent(events(1)[0]!).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('PAPYRA_IO');
    expect((error as PapyraError).details['sqlState']).toBe('42P01');
    expect(broken.metrics.snapshot().writeErrors).toBe(1);
    await broken.close();
    await backend.close();
  });
});
