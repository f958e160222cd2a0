import assert from 'node:assert/strict';
import type { PersistenceBackend } from '../../backend.js';
import type { PersistedRecord } from '../../records.js';
import { assertClean, rejectsWithCode } from '../check.js';
import { listAll, sampleAudit, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

/* Behaviour every backend shares through the kit (`@papyra/persistence-contract/kit`). */
const topic = 'shared behaviour';

const BAD_TIMESTAMPS = [Number.NaN, Infinity, -Infinity, 9e15, -9e15];

/** Arguments no open backend would take: a closed one must still answer PAPYRA_BACKEND_CLOSED. */
const badCalls: Record<string, (b: PersistenceBackend) => Promise<unknown>> = {
  'recordEvent(null)': (b) => b.recordEvent(null as never),
  'recordAudit(an event)': (b) => b.recordAudit(sampleEvent(1) as never),
  'recordDeadLetter(NaN timestamp)': (b) => b.recordDeadLetter(sampleDeadLetter(1, { timestamp: Number.NaN })),
  'listEvents({ limit: -1 })': (b) => b.listEvents({ limit: -1 }),
  "listAudits({ order: 'sideways' })": (b) => b.listAudits({ order: 'sideways' as 'asc' }),
  "recover({ mode: 'bogus' })": (b) => b.recover({ mode: 'bogus' as 'repair' }),
  "recover({ mode: 'quarantine' }) without a directory": (b) => b.recover({ mode: 'quarantine' }),
};

export const sharedScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'a timestamp that is not finite or outside ±8.64e15 ms is refused at write with PAPYRA_INVALID_RECORD',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      for (const timestamp of BAD_TIMESTAMPS) {
        await rejectsWithCode(() => backend.recordEvent(sampleEvent(1, { timestamp })), 'PAPYRA_INVALID_RECORD', `recordEvent(timestamp ${timestamp})`);
        await rejectsWithCode(() => backend.recordAudit(sampleAudit(1, { timestamp })), 'PAPYRA_INVALID_RECORD', `recordAudit(timestamp ${timestamp})`);
        await rejectsWithCode(
          () => backend.recordDeadLetter(sampleDeadLetter(1, { timestamp })),
          'PAPYRA_INVALID_RECORD',
          `recordDeadLetter(timestamp ${timestamp})`,
        );
      }
      await backend.flush();
      assert.deepEqual(await listAll(backend), { events: [], audits: [], deadLetters: [] }, 'nothing refused was stored');
      if (backend.capabilities.scan) assertClean(await backend.scan(), 'scan after refused writes');
    },
  },
  {
    topic,
    name: 'a closed backend answers PAPYRA_BACKEND_CLOSED whatever the arguments',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      await backend.close();
      for (const [what, call] of Object.entries(badCalls)) await rejectsWithCode(() => call(backend), 'PAPYRA_BACKEND_CLOSED', `${what} after close()`);
    },
  },
  {
    topic,
    name: 'actor, eventType and target filters apply before limit',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const start = Date.now() - 10_000;
      const records: PersistedRecord[] = [];
      for (let i = 0; i < 9; i++) {
        const timestamp = start + i * 1000;
        const actor = `conformance:${i % 3}`;
        const eventType = i % 2 === 0 ? 'ActorStarted' : 'ActorCrashed';
        records.push(sampleEvent(i, { timestamp, actorAddress: actor, eventType, payload: { i } }));
        records.push(sampleDeadLetter(i, { timestamp, target: actor, payload: i }));
      }
      await writeAll(backend, records);
      const indexes = async (q: Parameters<PersistenceBackend['listEvents']>[0]) => (await backend.listEvents(q)).map((e) => e.payload['i']);
      assert.deepEqual(await indexes({ actor: 'conformance:1' }), [1, 4, 7]);
      assert.deepEqual(await indexes({ actor: 'conformance:1', limit: 2 }), [4, 7]);
      assert.deepEqual(await indexes({ actor: 'conformance:1', limit: 2, order: 'desc' }), [7, 4]);
      assert.deepEqual(await indexes({ eventType: 'ActorCrashed' }), [1, 3, 5, 7]);
      assert.deepEqual(await indexes({ eventType: 'ActorCrashed', actor: 'conformance:0' }), [3]);
      assert.deepEqual(await indexes({ actor: 'conformance:2', since: start + 5000 }), [5, 8]);
      assert.deepEqual(await indexes({ actor: 'nobody:1' }), []);
      assert.deepEqual(
        (await backend.listDeadLetters({ target: 'conformance:2', limit: 1 })).map((d) => d.payload),
        [8],
      );
      assert.deepEqual(await backend.listAudits({ actor: 'conformance:1' }), [], 'audits have no actor');
      await rejectsWithCode(() => backend.listEvents({ actor: 5 as never }), 'PAPYRA_INVALID_ARGUMENT', 'listEvents({ actor: 5 })');
    },
  },
];
