import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import type { RecoveryConfig, RecoveryReport } from '../../anomalies.js';
import type { PersistenceBackend } from '../../backend.js';
import { assertClean, assertReports, CORRUPTION_KINDS, rejectsWithCode } from '../check.js';
import { byKind, listAll, mixedRecords, writeAll } from '../samples.js';
import type { ConformanceScenario, CorruptionKind, ScenarioContext } from '../types.js';

const topic = 'recovery';

/** Writes valid records, damages the store, and returns what must survive. */
async function damaged(ctx: ScenarioContext, kind: CorruptionKind) {
  const backend = await ctx.make();
  const records = mixedRecords(9);
  await writeAll(backend, records);
  await ctx.corrupt(backend, kind);
  return { backend, records };
}

/** A second identical recovery finds a clean store and changes nothing. */
async function assertIdempotent(backend: PersistenceBackend, config: RecoveryConfig, expected: unknown): Promise<void> {
  const again = await backend.recover(config);
  assertClean(again.scan, 'the second recovery found');
  assertClean(again.postScan, 'the second recovery left');
  assert.equal(again.droppedRecords, 0, 'the second recovery drops nothing');
  assert.deepEqual(again.repairedFiles, [], 'the second recovery rewrites nothing');
  assert.deepEqual(again.quarantinedFiles, [], 'the second recovery quarantines nothing');
  assert.deepEqual(await listAll(backend), expected, 'the second recovery keeps every record');
}

function assertRecovered(report: RecoveryReport, mode: RecoveryConfig['mode'], kind: CorruptionKind, records: number): void {
  assert.equal(report.mode, mode);
  assertReports(report.scan, kind);
  assertClean(report.postScan, `the post-scan of ${mode} after ${kind}`);
  assert.equal(report.keptRecords, records, 'keptRecords counts every valid record');
  assert.ok(report.droppedRecords >= 0);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

export const recoveryScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'repair of a clean store changes nothing',
    needs: { capabilities: ['recover'] },
    async run(ctx) {
      const backend = await ctx.make();
      const records = mixedRecords(9);
      await writeAll(backend, records);
      const report = await backend.recover({ mode: 'repair' });
      assert.equal(report.mode, 'repair');
      assert.equal(report.backend, backend.name);
      assertClean(report.scan, 'repair of a clean store found');
      assertClean(report.postScan, 'repair of a clean store left');
      assert.equal(report.droppedRecords, 0);
      assert.equal(report.keptRecords, records.length);
      assert.deepEqual(report.quarantinedFiles, []);
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  {
    topic,
    name: 'quarantine without quarantineDir rejects with PAPYRA_INVALID_CONFIG and changes nothing',
    needs: { capabilities: ['recover', 'quarantine'] },
    async run(ctx) {
      const backend = await ctx.make();
      const records = mixedRecords(6);
      await writeAll(backend, records);
      await rejectsWithCode(() => backend.recover({ mode: 'quarantine' }), 'PAPYRA_INVALID_CONFIG', "recover({ mode: 'quarantine' })");
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  },
  ...CORRUPTION_KINDS.map((kind): ConformanceScenario => ({
    topic,
    name: `recover 'ignore' after ${kind} only reports`,
    needs: { capabilities: ['scan', 'recover'], corruption: kind },
    async run(ctx) {
      const { backend, records } = await damaged(ctx, kind);
      const report = await backend.recover({ mode: 'ignore' });
      assert.equal(report.mode, 'ignore');
      assertReports(report.scan, kind);
      assert.equal(report.droppedRecords, 0);
      assert.deepEqual(report.repairedFiles, []);
      assert.deepEqual(report.quarantinedFiles, []);
      assert.deepEqual((await backend.scan()).anomalies, report.scan.anomalies, 'the damage is still there');
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  })),
  // Repair leaves foreign files alone (only quarantine moves orphans aside), so orphans are not here.
  ...CORRUPTION_KINDS.filter((kind) => kind !== 'orphan_file').map((kind): ConformanceScenario => ({
    topic,
    name: `repair after ${kind} ends clean, keeps every valid record in order, and is idempotent`,
    needs: { capabilities: ['scan', 'recover'], corruption: kind },
    async run(ctx) {
      const { backend, records } = await damaged(ctx, kind);
      assertRecovered(await backend.recover({ mode: 'repair' }), 'repair', kind, records.length);
      assert.deepEqual(await listAll(backend), byKind(records));
      assertClean(await backend.scan(), 'scan after repair');
      await assertIdempotent(backend, { mode: 'repair' }, byKind(records));
    },
  })),
  ...CORRUPTION_KINDS.map((kind): ConformanceScenario => ({
    topic,
    name: `quarantine after ${kind} preserves what it removes, ends clean, and is idempotent`,
    needs: { capabilities: ['scan', 'recover', 'quarantine'], corruption: kind },
    async run(ctx) {
      const { backend, records } = await damaged(ctx, kind);
      const quarantineDir = await ctx.scratchDir();
      const report = await backend.recover({ mode: 'quarantine', quarantineDir });
      assertRecovered(report, 'quarantine', kind, records.length);
      assert.ok(report.quarantinedFiles.length > 0, 'quarantinedFiles names what was preserved');
      assert.ok((await filesUnder(quarantineDir)).length > 0, 'the removed bytes are preserved under quarantineDir');
      for (const file of report.quarantinedFiles) {
        if (!isAbsolute(file) || relative(quarantineDir, file).startsWith('..')) continue;
        assert.ok((await stat(file)).isFile(), `${file} exists`);
      }
      assert.deepEqual(await listAll(backend), byKind(records));
      await assertIdempotent(backend, { mode: 'quarantine', quarantineDir }, byKind(records));
    },
  })),
  ...CORRUPTION_KINDS.filter((kind) => kind !== 'orphan_file').map((kind): ConformanceScenario => ({
    topic,
    name: `repair after ${kind} survives reopen`,
    needs: { capabilities: ['scan', 'recover'], corruption: kind, reopen: true },
    async run(ctx) {
      const first = await damaged(ctx, kind);
      const records = first.records;
      await first.backend.recover({ mode: 'repair' });
      const backend = await ctx.reopen(first.backend);
      assertClean(await backend.scan(), 'scan after repair and reopen');
      assert.deepEqual(await listAll(backend), byKind(records));
    },
  })),
];
