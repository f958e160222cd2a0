import assert from 'node:assert/strict';
import type { CompactionReport } from '../../anomalies.js';
import { encodedSize } from '../../codec.js';
import type { PersistedRecord } from '../../records.js';
import { byKind, listAll, sampleAudit, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'compaction';
const DAY = 24 * 60 * 60 * 1000;
const bytesOf = (records: readonly PersistedRecord[]) => records.reduce((sum, r) => sum + encodedSize(r), 0);

/** The numbers of a report agree with each other; byte figures, when counted, are exact. */
function assertReport(report: CompactionReport, before: readonly PersistedRecord[], after: readonly PersistedRecord[]): void {
  assert.equal(typeof report.backend, 'string');
  assert.equal(report.beforeRecords, before.length, 'beforeRecords');
  assert.equal(report.afterRecords, after.length, 'afterRecords');
  assert.equal(report.removedRecords, before.length - after.length, 'removedRecords');
  assert.equal(report.reclaimedBytes, report.beforeBytes - report.afterBytes, 'reclaimedBytes = beforeBytes - afterBytes');
  // A backend that cannot know its byte sizes reports 0 for both; one that does must be exact.
  if (report.beforeBytes !== 0 || report.afterBytes !== 0) {
    assert.equal(report.beforeBytes, bytesOf(before), 'beforeBytes is the size of the encoded lines');
    assert.equal(report.afterBytes, bytesOf(after), 'afterBytes is the size of the encoded lines');
  }
}

export const compactionScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'compact physically applies maxRecords per kind; lists are unchanged by it',
    needs: { capabilities: ['compact'] },
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxRecords: 3 } });
      const events = Array.from({ length: 5 }, (_, i) => sampleEvent(i));
      const audits = Array.from({ length: 4 }, (_, i) => sampleAudit(i));
      const deadLetters = [sampleDeadLetter(1)];
      const all = [...events, ...audits, ...deadLetters];
      await writeAll(backend, all);
      const before = await listAll(backend);
      const kept = [...events.slice(2), ...audits.slice(1), ...deadLetters];
      assertReport(await backend.compact(), all, kept);
      assert.deepEqual(await listAll(backend), before, 'compaction does not change what lists return');
      assert.deepEqual(before, byKind(kept));
      // Physically removed: a second compaction finds only what the first kept.
      const second = await backend.compact();
      assertReport(second, kept, kept);
      assert.equal(second.reclaimedBytes, 0);
    },
  },
  {
    topic,
    name: 'compact removes records older than maxAgeMs',
    needs: { capabilities: ['compact'] },
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxAgeMs: DAY } });
      const old = Date.now() - 30 * DAY;
      const records: PersistedRecord[] = [
        sampleEvent(1, { timestamp: old }),
        sampleAudit(1, { timestamp: old }),
        sampleEvent(2),
        sampleDeadLetter(1, { timestamp: old + 5 }),
        sampleDeadLetter(2),
      ];
      await writeAll(backend, records);
      const fresh = records.filter((r) => r.timestamp > old + 5);
      assertReport(await backend.compact(), records, fresh);
      assert.deepEqual(await listAll(backend), byKind(fresh));
      assertReport(await backend.compact(), fresh, fresh);
    },
  },
  {
    topic,
    name: 'compact removes the oldest records beyond maxTotalBytes',
    needs: { capabilities: ['compact'] },
    async run(ctx) {
      const events = Array.from({ length: 6 }, (_, i) => sampleEvent(i, { payload: { text: '✓'.repeat(40) } }));
      const budget = bytesOf(events.slice(3));
      const backend = await ctx.make({ retention: { maxTotalBytes: budget } });
      await writeAll(backend, events);
      const report = await backend.compact();
      assertReport(report, events, events.slice(3));
      assert.deepEqual(await backend.listEvents(), events.slice(3));
    },
  },
  {
    topic,
    name: 'compact without retention removes nothing',
    needs: { capabilities: ['compact'] },
    async run(ctx) {
      const backend = await ctx.make();
      const records = [sampleEvent(1, { timestamp: 1000 }), sampleAudit(1), sampleDeadLetter(1)];
      await writeAll(backend, records);
      assertReport(await backend.compact(), records, records);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'what compaction kept survives reopen',
    needs: { capabilities: ['compact'], reopen: true },
    async run(ctx) {
      let backend = await ctx.make({ retention: { maxRecords: 2 } });
      const records = [...Array.from({ length: 4 }, (_, i) => sampleEvent(i)), sampleDeadLetter(1)];
      await writeAll(backend, records);
      await backend.compact();
      backend = await ctx.reopen(backend);
      assert.deepEqual(await listAll(backend), byKind([...records.slice(2)]));
    },
  },
];
