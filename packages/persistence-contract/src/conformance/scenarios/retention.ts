import assert from 'node:assert/strict';
import { encodedSize } from '../../codec.js';
import type { PersistedRecord } from '../../records.js';
import { byKind, listAll, sampleAudit, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'retention on read';
const DAY = 24 * 60 * 60 * 1000;

export const retentionScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'maxRecords keeps the newest N of each kind independently',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxRecords: 3 } });
      assert.equal(backend.retention.maxRecords, 3, 'backend.retention reports the policy it applies');
      const events = Array.from({ length: 6 }, (_, i) => sampleEvent(i));
      const audits = [sampleAudit(1), sampleAudit(2)];
      const deadLetters = Array.from({ length: 4 }, (_, i) => sampleDeadLetter(i));
      // Interleaved: one kind's volume must not evict another kind's records.
      await writeAll(backend, [events[0]!, audits[0]!, ...events.slice(1, 4), ...deadLetters, audits[1]!, ...events.slice(4)]);
      assert.deepEqual(await listAll(backend), { events: events.slice(3), audits, deadLetters: deadLetters.slice(1) });
      assert.deepEqual(
        (await backend.listEvents({ limit: 2 })).map((e) => e.id),
        events.slice(4).map((e) => e.id),
      );
    },
  },
  {
    topic,
    name: 'maxAgeMs hides records older than the limit, per kind',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxAgeMs: DAY } });
      const now = Date.now();
      const old = now - 10 * DAY;
      const records: PersistedRecord[] = [
        sampleEvent(1, { timestamp: old }),
        sampleEvent(2, { timestamp: now - 1000 }),
        sampleEvent(3, { timestamp: old + 1 }),
        sampleEvent(4, { timestamp: now }),
        sampleAudit(1, { timestamp: old }),
        sampleDeadLetter(1, { timestamp: now }),
        sampleDeadLetter(2, { timestamp: old }),
      ];
      await writeAll(backend, records);
      const fresh = records.filter((r) => r.timestamp > old + 1);
      assert.deepEqual(await listAll(backend), byKind(fresh));
    },
  },
  {
    topic,
    name: 'maxTotalBytes keeps the newest records whose encoded lines fit, per kind',
    needs: {},
    async run(ctx) {
      const events = Array.from({ length: 5 }, (_, i) => sampleEvent(i, { payload: { text: 'ü'.repeat(100 * (i + 1)) } }));
      const deadLetters = Array.from({ length: 3 }, (_, i) => sampleDeadLetter(i, { payload: 'x'.repeat(50) }));
      // Exactly the last two events fit; all three small dead letters fit on their own budget.
      const budget = encodedSize(events[3]!) + encodedSize(events[4]!);
      assert.ok(deadLetters.reduce((sum, d) => sum + encodedSize(d), 0) <= budget);
      const backend = await ctx.make({ retention: { maxTotalBytes: budget } });
      await writeAll(backend, [...events, ...deadLetters]);
      assert.deepEqual(await listAll(backend), { events: events.slice(3), audits: [], deadLetters });

      const tight = await ctx.make({ retention: { maxTotalBytes: budget - 1 } });
      await writeAll(tight, events);
      assert.deepEqual(await tight.listEvents(), events.slice(4), 'one byte less than two lines keeps one');
    },
  },
  {
    topic,
    name: 'without a retention policy nothing is hidden',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const old = sampleEvent(1, { timestamp: 1000 });
      const records = [old, ...Array.from({ length: 30 }, (_, i) => sampleEvent(i + 2))];
      await writeAll(backend, records);
      assert.deepEqual(await backend.listEvents(), records);
    },
  },
];
