import assert from 'node:assert/strict';
import { assertClean, assertReports, CORRUPTION_KINDS } from '../check.js';
import { byKind, listAll, mixedRecords, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'scan';

export const scanScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'scan of a clean store is clean',
    needs: { capabilities: ['scan'] },
    async run(ctx) {
      const backend = await ctx.make();
      await writeAll(backend, mixedRecords(30));
      const report = await backend.scan();
      assert.equal(report.backend, backend.name, 'report.backend names the backend');
      assertClean(report, 'scan of a clean store');
    },
  },
  {
    topic,
    name: 'scan does not change what lists return',
    needs: { capabilities: ['scan'] },
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxRecords: 4 } });
      const records = mixedRecords(30);
      await writeAll(backend, records);
      const before = await listAll(backend);
      assertClean(await backend.scan(), 'scan');
      assert.deepEqual(await listAll(backend), before);
      assert.deepEqual(before, byKind(records.slice(-12)));
    },
  },
  {
    topic,
    name: 'scan of a clean store changes nothing stored (reopen)',
    needs: { capabilities: ['scan'], reopen: true },
    async run(ctx) {
      let backend = await ctx.make();
      const records = mixedRecords(12);
      await writeAll(backend, records);
      await backend.scan();
      backend = await ctx.reopen(backend);
      assert.deepEqual(await listAll(backend), byKind(records));
      assertClean(await backend.scan(), 'scan after reopen');
    },
  },
  ...CORRUPTION_KINDS.map((kind): ConformanceScenario => ({
    topic,
    name: `scan reports ${kind}; valid records stay listed; a second scan sees the same`,
    needs: { capabilities: ['scan'], corruption: kind },
    async run(ctx) {
      const backend = await ctx.make();
      const records = mixedRecords(9);
      await writeAll(backend, records);
      await ctx.corrupt(backend, kind);
      const first = await backend.scan();
      assertReports(first, kind);
      assert.deepEqual(await listAll(backend), byKind(records), 'lists skip the damage and return every valid record');
      assert.deepEqual(await backend.scan(), first, 'scan is read-only: a second scan reports the same anomalies');
    },
  })),
  ...CORRUPTION_KINDS.map((kind): ConformanceScenario => ({
    topic,
    name: `scan of ${kind} changes nothing stored (reopen)`,
    needs: { capabilities: ['scan'], corruption: kind, reopen: true },
    async run(ctx) {
      let backend = await ctx.make();
      const records = mixedRecords(6);
      await writeAll(backend, records);
      await ctx.corrupt(backend, kind);
      const first = await backend.scan();
      backend = await ctx.reopen(backend);
      assert.deepEqual(await backend.scan(), first, 'the damage is still there after reopen');
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  })),
];
