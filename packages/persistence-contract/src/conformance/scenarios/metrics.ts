import assert from 'node:assert/strict';
import { encodedSize } from '../../codec.js';
import type { PersistedRecord } from '../../records.js';
import { mixedRecords, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'metrics';
const bytesOf = (records: readonly PersistedRecord[]) => records.reduce((sum, r) => sum + encodedSize(r), 0);
const ofKind = (records: readonly PersistedRecord[], kind: PersistedRecord['kind']) => records.filter((r) => r.kind === kind);

export const metricsScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'counts records and encoded bytes written, per kind',
    needs: { capabilities: ['metrics'] },
    async run(ctx) {
      const backend = await ctx.make();
      const records = [...mixedRecords(20), sampleEvent(100, { payload: { text: 'ünïcödé ✓ 日本'.repeat(50) } })];
      await writeAll(backend, records);
      const m = backend.metrics.snapshot();
      assert.equal(m.recordsWritten, records.length, 'recordsWritten');
      assert.deepEqual(m.recordsWrittenByKind, {
        event: ofKind(records, 'event').length,
        audit: ofKind(records, 'audit').length,
        dead_letter: ofKind(records, 'dead_letter').length,
      });
      assert.equal(m.bytesWritten, bytesOf(records), 'bytesWritten is the UTF-8 size of the encoded lines, each with its \\n');
      assert.deepEqual(m.bytesWrittenByKind, {
        event: bytesOf(ofKind(records, 'event')),
        audit: bytesOf(ofKind(records, 'audit')),
        dead_letter: bytesOf(ofKind(records, 'dead_letter')),
      });
      assert.equal(m.writeErrors, 0);
      assert.equal(m.recordsDropped, 0);
      assert.equal(m.writeLatencyMs.count, records.length, 'one latency sample per record');
    },
  },
  {
    topic,
    name: 'counts scans and their anomalies',
    needs: { capabilities: ['metrics', 'scan'] },
    async run(ctx) {
      const backend = await ctx.make();
      await writeAll(backend, mixedRecords(5));
      await backend.scan();
      await backend.scan();
      const m = backend.metrics.snapshot();
      assert.equal(m.scans, 2);
      assert.equal(m.anomaliesDetected, 0);
      assert.equal(m.scanErrors, 0);
    },
  },
  {
    topic,
    name: 'anomaliesDetected adds up what scans report',
    needs: { capabilities: ['metrics', 'scan'], corruption: 'corrupt_line' },
    async run(ctx) {
      const backend = await ctx.make();
      await writeAll(backend, mixedRecords(5));
      await ctx.corrupt(backend, 'corrupt_line');
      const report = await backend.scan();
      await backend.scan();
      const m = backend.metrics.snapshot();
      assert.equal(m.scans, 2);
      assert.equal(m.anomaliesDetected, 2 * report.anomalies.length);
      const byType: Record<string, number> = {};
      for (const a of report.anomalies) byType[a.type] = (byType[a.type] ?? 0) + 2;
      assert.deepEqual(m.anomaliesByType, byType);
    },
  },
  {
    topic,
    name: 'counts recoveries and compactions',
    needs: { capabilities: ['metrics', 'recover', 'compact'] },
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxRecords: 2 } });
      await writeAll(backend, mixedRecords(9));
      await backend.compact();
      await backend.recover({ mode: 'repair' });
      await backend.recover({ mode: 'ignore' });
      const m = backend.metrics.snapshot();
      assert.equal(m.compactions, 1);
      assert.equal(m.recoveries, 2);
      assert.equal(m.compactionErrors, 0);
      assert.equal(m.recoveryErrors, 0);
    },
  },
  {
    topic,
    name: 'reset() zeroes every counter; counting resumes from zero',
    needs: { capabilities: ['metrics'] },
    async run(ctx) {
      const backend = await ctx.make();
      await writeAll(backend, mixedRecords(6));
      if (backend.capabilities.scan) await backend.scan();
      backend.metrics.reset();
      const m = backend.metrics.snapshot();
      for (const key of [
        'recordsWritten',
        'bytesWritten',
        'writeErrors',
        'recordsDropped',
        'scans',
        'anomaliesDetected',
        'recoveries',
        'compactions',
      ] as const) {
        assert.equal(m[key], 0, `${key} after reset()`);
      }
      assert.equal(m.writeLatencyMs.count, 0);
      const one = sampleEvent(1);
      await writeAll(backend, [one]);
      assert.equal(backend.metrics.snapshot().recordsWritten, 1);
      assert.equal(backend.metrics.snapshot().bytesWritten, encodedSize(one));
    },
  },
];
