import assert from 'node:assert/strict';
import { byKind, listAll, mixedRecords, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'durability';

export const durabilityScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'everything flushed is listed after close and reopen',
    needs: { reopen: true },
    async run(ctx) {
      let backend = await ctx.make();
      const records = [...mixedRecords(30), sampleEvent(99, { payload: { text: 'héllo ✓ 👩‍👩‍👧‍👦' } }), sampleDeadLetter(99, { id: null })];
      await writeAll(backend, records);
      backend = await ctx.reopen(backend);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'writes pending at close() are on the store after reopen',
    needs: { reopen: true },
    async run(ctx) {
      let backend = await ctx.make();
      const events = Array.from({ length: 100 }, (_, i) => sampleEvent(i));
      const pending = Promise.all(events.map((e) => backend.recordEvent(e)));
      backend = await ctx.reopen(backend);
      await pending;
      assert.deepEqual(await backend.listEvents(), events);
    },
  },
  {
    topic,
    name: 'a reopened store accepts appends after what it holds',
    needs: { reopen: true },
    async run(ctx) {
      let backend = await ctx.make();
      const first = mixedRecords(6);
      await writeAll(backend, first);
      backend = await ctx.reopen(backend);
      const second = [sampleEvent(50), sampleDeadLetter(51)];
      await writeAll(backend, second);
      backend = await ctx.reopen(backend);
      assert.deepEqual(await listAll(backend), byKind([...first, ...second]));
    },
  },
];
