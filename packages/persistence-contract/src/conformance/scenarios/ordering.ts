import assert from 'node:assert/strict';
import type { PersistedRecord } from '../../records.js';
import { byKind, listAll, mixedRecords, sampleAudit, sampleDeadLetter, sampleEvent, write, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'ordering and concurrency';

export const orderingScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'lists each kind in append order',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const records = mixedRecords(60);
      await writeAll(backend, records);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'keeps append order among records with the same timestamp',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const timestamp = Date.now();
      // Payload order differs from id order, so sorting by anything but arrival shows.
      const records = [5, 1, 4, 2, 3].flatMap((n) => [sampleEvent(n, { timestamp }), sampleDeadLetter(n, { timestamp })]);
      await writeAll(backend, records);
      const listed = await listAll(backend);
      assert.deepEqual(
        listed.events.map((e) => e.payload['n']),
        [5, 1, 4, 2, 3],
      );
      assert.deepEqual(listed, byKind(records));
    },
  },
  {
    topic,
    name: '500 concurrent appends: none lost, none duplicated, none interleaved',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const events = Array.from({ length: 500 }, (_, i) => sampleEvent(i, { payload: { i, text: `event ${i} ✓`.repeat(1 + (i % 7)) } }));
      const others: PersistedRecord[] = Array.from({ length: 50 }, (_, i) => (i % 2 ? sampleAudit(i) : sampleDeadLetter(i, { payload: 'x'.repeat(i * 10) })));
      await Promise.all([...events, ...others].map((record) => write(backend, record)));
      await backend.flush();
      const listed = await listAll(backend);
      assert.equal(listed.events.length, events.length, 'every concurrent event is listed exactly once');
      const byId = new Map(listed.events.map((e) => [e.id, e]));
      assert.equal(byId.size, events.length, 'no event is listed twice');
      for (const event of events) assert.deepEqual(byId.get(event.id), event, `event ${String(event.payload['i'])} is intact`);
      const expectedOthers = byKind(others);
      assert.equal(listed.audits.length + listed.deadLetters.length, others.length);
      assert.deepEqual(new Set(listed.audits.map((a) => a.id)), new Set(expectedOthers.audits.map((a) => a.id)));
      assert.deepEqual(new Set(listed.deadLetters.map((d) => d.id)), new Set(expectedOthers.deadLetters.map((d) => d.id)));
    },
  },
  {
    topic,
    name: 'concurrent appends issued in sequence are listed in call order',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const events = Array.from({ length: 200 }, (_, i) => sampleEvent(i, { payload: { i } }));
      await Promise.all(events.map((event) => backend.recordEvent(event)));
      await backend.flush();
      assert.deepEqual(
        (await backend.listEvents()).map((e) => e.payload['i']),
        events.map((e) => e.payload['i']),
      );
    },
  },
];
