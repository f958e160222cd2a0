import { afterAll, expect, it } from '@jest/globals';
import {
  applyListQuery,
  applyRetention,
  createAudit,
  createDeadLetter,
  createEvent,
  type ListQuery,
  type PersistedRecord,
  type RetentionPolicy,
} from '@papyra/persistence-contract';
import pg from 'pg';
import { PostgresBackend, type PostgresClient, type PostgresPool } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

const NOW = 1_800_000_000_000;
const clock = () => NOW;

/** Three kinds interleaved, oldest first: events of 4 actors and 3 types, dead letters to 4 targets. */
function history(): PersistedRecord[] {
  const out: PersistedRecord[] = [];
  for (let i = 0; i < 90; i++) {
    const timestamp = NOW - (90 - i) * 1_000;
    const who = `s:${i % 4}`;
    const pad = 'p'.repeat((i * 31) % 200);
    if (i % 3 === 0)
      out.push(
        createEvent({
          systemId: 's',
          actorAddress: who,
          eventType: ['ActorStarted', 'ActorCrashed', 'ActorStopped'][(i % 5) % 3]!,
          payload: { i, pad },
          timestamp,
        }),
      );
    else if (i % 3 === 1) out.push(createDeadLetter({ systemId: 's', target: who, messageType: 'M', payload: pad, timestamp }));
    else
      out.push(
        createAudit({
          systemId: 's',
          totalActors: i,
          aliveActors: i,
          stoppingActors: 0,
          restartingActors: 0,
          registrySize: i,
          registryOrphans: [],
          registryDead: [],
          deadLettersCount: 0,
          timestamp,
        }),
      );
  }
  return out;
}

const queries: ListQuery[] = [
  { actor: 's:1' },
  { actor: 's:1', limit: 3 },
  { actor: 's:2', limit: 2, order: 'desc' },
  { eventType: 'ActorCrashed' },
  { eventType: 'ActorCrashed', actor: 's:0', limit: 1 },
  { actor: 's:3', since: NOW - 40_000 },
  { target: 's:1', limit: 4 },
  { target: 's:2', since: NOW - 30_000, order: 'desc' },
  { actor: 'nobody:1' },
];

const policies: RetentionPolicy[] = [
  {},
  { maxRecords: 10 },
  { maxAgeMs: 50_000 },
  { maxTotalBytes: 2_000 },
  { maxRecords: 12, maxAgeMs: 60_000, maxTotalBytes: 3_000 },
];

/** A real pool that keeps the text and values of every list statement (`SELECT data FROM …`). */
class RecordingPool implements PostgresPool {
  readonly real = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  readonly lists: { text: string; values: unknown[] }[] = [];

  async connect(): Promise<PostgresClient> {
    const client = await this.real.connect();
    return {
      query: (text: string, values?: unknown[]) => {
        if (text.startsWith('SELECT data FROM')) this.lists.push({ text, values: values ?? [] });
        return client.query(text, values);
      },
      release: (err) => client.release(err),
      on: (event, listener) => client.on(event, listener),
      removeListener: (event, listener) => client.removeListener(event, listener),
    } as PostgresClient;
  }
  on(event: 'error', listener: (err: Error) => void): this {
    this.real.on(event, listener);
    return this;
  }
  removeListener(event: 'error', listener: (err: Error) => void): this {
    this.real.removeListener(event, listener);
    return this;
  }
  end(): Promise<void> {
    return this.real.end();
  }
}

describeDb('list filters (actor, eventType, target)', () => {
  const db = testSchema('filters');
  afterAll(() => db.drop());
  const records = history();

  it.each(policies)('are applied before limit and after retention, exactly as the contract does: %j', async (retention) => {
    const table = freshTable();
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, retention, clock, systemId: 's', poolSize: 2 });
    const other = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table, retention, clock, systemId: 'other', poolSize: 2 });
    for (const r of records) {
      if (r.kind === 'event') void backend.recordEvent(r);
      else if (r.kind === 'audit') void backend.recordAudit(r);
      else void backend.recordDeadLetter(r);
    }
    // Another system's event of the same actor, in the same table: never part of 's's lists.
    await other.recordEvent(createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorCrashed', timestamp: NOW }));
    await backend.flush();
    const visible = applyRetention(records, retention, NOW);
    const ofKind = (kind: PersistedRecord['kind']) => visible.filter((r) => r.kind === kind);
    for (const q of queries) {
      expect({ q, events: await backend.listEvents(q) }).toEqual({ q, events: applyListQuery(ofKind('event'), q) });
      expect({ q, deadLetters: await backend.listDeadLetters(q) }).toEqual({ q, deadLetters: applyListQuery(ofKind('dead_letter'), q) });
      expect({ q, audits: await backend.listAudits(q) }).toEqual({ q, audits: applyListQuery(ofKind('audit'), q) });
    }
    await Promise.all([backend.close(), other.close()]);
  });

  it('a filtered list reads its rows through the filter index, not the whole kind', async () => {
    const table = freshTable();
    const pool = new RecordingPool();
    const backend = new PostgresBackend({ pool, schema: db.name, table, batchSize: 2_000, retention: { maxRecords: 7_500 } });
    const started = createEvent({ systemId: 'local', actorAddress: 'local:0', eventType: 'ActorStarted' });
    // 10,000 events of 100 actors and 1,000 dead letters of 100 targets.
    for (let i = 0; i < 10_000; i++)
      void backend.recordEvent({ ...started, id: `e${i}`, actorAddress: `local:${i % 100}`, eventType: i % 100 === 0 ? 'ActorCrashed' : 'ActorStarted' });
    for (let i = 0; i < 1_000; i++)
      void backend.recordDeadLetter(createDeadLetter({ systemId: 'local', target: `local:${i % 100}`, messageType: 'M', payload: i }));
    await backend.flush();
    await db.sql(`ANALYZE "${db.name}"."${table}"`);
    const cases: [ListQuery, 'event' | 'dead_letter', string, number][] = [
      [{ actor: 'local:7', limit: 10 }, 'event', `${table}_actor`, 10],
      [{ actor: 'local:7' }, 'event', `${table}_actor`, 75], // within the newest 7,500 events
      [{ eventType: 'ActorCrashed' }, 'event', `${table}_event_type`, 75],
      [{ target: 'local:9', limit: 5 }, 'dead_letter', `${table}_target`, 5],
    ];
    for (const [q, kind, index, count] of cases) {
      pool.lists.length = 0;
      const listed = kind === 'event' ? await backend.listEvents(q) : await backend.listDeadLetters(q);
      expect(listed).toHaveLength(count);
      const { text, values } = pool.lists[0]!;
      const plan = JSON.stringify((await db.sql(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values)).rows[0]);
      expect({ q, usesIndex: plan.includes(`"Index Name":"${index}"`) }).toEqual({ q, usesIndex: true });
      expect({ q, seqScan: plan.includes('"Seq Scan"') }).toEqual({ q, seqScan: false });
      // Rows the filter index yields: what the list returns, not the kind's 10,000.
      const rowsRead = [...plan.matchAll(new RegExp(`"Index Name":"${index}"[^{}]*?"Actual Rows":(\\d+)`, 'g'))].map((m) => Number(m[1]));
      expect({ q, rowsRead }).toEqual({ q, rowsRead: [count] });
    }
    await backend.close();
    await pool.end();
  });

  it('a filter that is not a string is PAPYRA_INVALID_ARGUMENT', async () => {
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table: freshTable(), poolSize: 1 });
    await expect(backend.listEvents({ eventType: ['ActorStarted'] as never })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_ARGUMENT' });
    await expect(backend.listDeadLetters({ target: null as never })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_ARGUMENT' });
    await backend.close();
  });
});
