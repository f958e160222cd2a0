import assert from 'node:assert/strict';
import type { PersistenceBackend } from '../../backend.js';
import type { PersistedRecord } from '../../records.js';
import { rejectsWithCode } from '../check.js';
import { sampleAudit, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario, ScenarioContext } from '../types.js';

const topic = 'list queries';
const COUNT = 10;

/** Ten records of each kind, one second apart, the newest now; returns the first timestamp. */
async function tenOfEach(ctx: ScenarioContext): Promise<{ backend: PersistenceBackend; start: number }> {
  const backend = await ctx.make();
  const start = Date.now() - COUNT * 1000;
  const records: PersistedRecord[] = [];
  for (let i = 0; i < COUNT; i++) {
    const timestamp = start + i * 1000;
    records.push(sampleEvent(i, { timestamp, payload: { i } }), sampleAudit(i, { timestamp }), sampleDeadLetter(i, { timestamp, payload: i }));
  }
  await writeAll(backend, records);
  return { backend, start };
}

const eventIndexes = async (backend: PersistenceBackend, query: Parameters<PersistenceBackend['listEvents']>[0]) =>
  (await backend.listEvents(query)).map((e) => e.payload['i']);

export const queryScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'limit returns the newest N, oldest first',
    needs: {},
    async run(ctx) {
      const { backend } = await tenOfEach(ctx);
      assert.deepEqual(await eventIndexes(backend, { limit: 3 }), [7, 8, 9]);
      assert.deepEqual(
        (await backend.listAudits({ limit: 2 })).map((a) => a.totalActors),
        [8, 9],
      );
      assert.deepEqual(
        (await backend.listDeadLetters({ limit: 4 })).map((d) => d.payload),
        [6, 7, 8, 9],
      );
    },
  },
  {
    topic,
    name: "order 'desc' returns newest first, with and without limit",
    needs: {},
    async run(ctx) {
      const { backend } = await tenOfEach(ctx);
      assert.deepEqual(await eventIndexes(backend, { order: 'desc' }), [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      assert.deepEqual(await eventIndexes(backend, { limit: 3, order: 'desc' }), [9, 8, 7]);
      assert.deepEqual(await eventIndexes(backend, { order: 'asc' }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(
        (await backend.listDeadLetters({ limit: 2, order: 'desc' })).map((d) => d.payload),
        [9, 8],
      );
    },
  },
  {
    topic,
    name: 'limit 0 returns nothing; a limit beyond the count returns everything',
    needs: {},
    async run(ctx) {
      const { backend } = await tenOfEach(ctx);
      assert.deepEqual(await backend.listEvents({ limit: 0 }), []);
      assert.deepEqual(await eventIndexes(backend, { limit: 1000 }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    },
  },
  {
    topic,
    name: 'since keeps timestamp >= since, and combines with limit and order',
    needs: {},
    async run(ctx) {
      const { backend, start } = await tenOfEach(ctx);
      const since = start + 6 * 1000;
      assert.deepEqual(await eventIndexes(backend, { since }), [6, 7, 8, 9]);
      assert.deepEqual(await eventIndexes(backend, { since: since - 1 }), [6, 7, 8, 9]);
      assert.deepEqual(await eventIndexes(backend, { since: since + 1 }), [7, 8, 9]);
      assert.deepEqual(await eventIndexes(backend, { since, limit: 2, order: 'desc' }), [9, 8]);
      assert.deepEqual(await eventIndexes(backend, { since: Date.now() + 60_000 }), []);
      assert.deepEqual(
        (await backend.listAudits({ since })).map((a) => a.totalActors),
        [6, 7, 8, 9],
      );
    },
  },
  {
    topic,
    name: 'an invalid query rejects with PAPYRA_INVALID_ARGUMENT',
    needs: {},
    async run(ctx) {
      const { backend } = await tenOfEach(ctx);
      await rejectsWithCode(() => backend.listEvents({ limit: -1 }), 'PAPYRA_INVALID_ARGUMENT', 'listEvents({ limit: -1 })');
      await rejectsWithCode(() => backend.listAudits({ limit: 1.5 }), 'PAPYRA_INVALID_ARGUMENT', 'listAudits({ limit: 1.5 })');
      await rejectsWithCode(() => backend.listDeadLetters({ order: 'sideways' as 'asc' }), 'PAPYRA_INVALID_ARGUMENT', "listDeadLetters({ order: 'sideways' })");
    },
  },
];
