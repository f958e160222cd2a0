import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import type { PersistenceBackend } from '../../backend.js';
import { PapyraError } from '../../errors.js';
import { assertClean, rejectsWithCode } from '../check.js';
import { listAll, sampleAudit, sampleDeadLetter, sampleEvent, writeAll } from '../samples.js';
import type { ConformanceScenario } from '../types.js';

const topic = 'lifecycle';
const FLAGS = ['scan', 'recover', 'quarantine', 'compact', 'metrics', 'durable'] as const;
const empty = { events: [], audits: [], deadLetters: [] };

/** Every method of the contract, called the way a user would. */
const calls: Record<string, (b: PersistenceBackend) => Promise<unknown>> = {
  recordEvent: (b) => b.recordEvent(sampleEvent(1)),
  recordAudit: (b) => b.recordAudit(sampleAudit(1)),
  recordDeadLetter: (b) => b.recordDeadLetter(sampleDeadLetter(1)),
  listEvents: (b) => b.listEvents(),
  listAudits: (b) => b.listAudits({ limit: 1 }),
  listDeadLetters: (b) => b.listDeadLetters(),
  scan: (b) => b.scan(),
  recover: (b) => b.recover({ mode: 'repair' }),
  compact: (b) => b.compact(),
  flush: (b) => b.flush(),
};

export const lifecycleScenarios: ConformanceScenario[] = [
  {
    topic,
    name: 'name and every capability flag are explicit',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      assert.equal(typeof backend.name, 'string');
      assert.ok(backend.name.length > 0, 'the backend has a name');
      for (const flag of FLAGS) assert.equal(typeof backend.capabilities[flag], 'boolean', `capabilities.${flag} is a boolean`);
      if (backend.capabilities.quarantine) assert.ok(backend.capabilities.recover, 'quarantine implies recover');
      assert.equal(typeof backend.metrics.snapshot, 'function');
    },
  },
  {
    topic,
    name: 'a missing store lists empty',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      assert.deepEqual(await listAll(backend), empty);
      assert.deepEqual(await backend.listEvents({ limit: 10, order: 'desc' }), []);
    },
  },
  {
    topic,
    name: 'a missing store scans clean',
    needs: { capabilities: ['scan'] },
    async run(ctx) {
      const backend = await ctx.make();
      assertClean(await backend.scan(), 'scan of a missing store');
    },
  },
  {
    topic,
    name: 'compact and recover of a missing store change and create nothing',
    needs: { capabilities: ['compact', 'recover'] },
    async run(ctx) {
      const backend = await ctx.make({ retention: { maxRecords: 1 } });
      const dir = ctx.tmpDirOf(backend);
      const files = async () => (await readdir(dir, { recursive: true })).sort();
      const before = await files();
      const compaction = await backend.compact();
      assert.equal(compaction.beforeRecords, 0);
      assert.equal(compaction.afterRecords, 0);
      assert.equal(compaction.removedRecords, 0);
      assert.equal(compaction.reclaimedBytes, 0);
      const recovery = await backend.recover({ mode: 'repair' });
      assertClean(recovery.scan, 'recovery of a missing store found');
      assertClean(recovery.postScan, 'recovery of a missing store left');
      assert.equal(recovery.droppedRecords, 0);
      assert.equal(recovery.keptRecords, 0);
      assert.deepEqual(await files(), before, 'no file was created or removed');
      assert.deepEqual(await listAll(backend), empty);
    },
  },
  {
    topic,
    name: 'after close every method rejects with PAPYRA_BACKEND_CLOSED; close is idempotent',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      await writeAll(backend, [sampleEvent(1)]);
      await backend.close();
      const written = backend.capabilities.metrics ? backend.metrics.snapshot().recordsWritten : null;
      for (const [method, call] of Object.entries(calls)) await rejectsWithCode(() => call(backend), 'PAPYRA_BACKEND_CLOSED', `${method}() after close()`);
      await Promise.all([backend.close(), backend.close()]);
      await backend.close();
      if (written !== null) assert.equal(backend.metrics.snapshot().recordsWritten, written, 'rejected writes are not counted as written');
    },
  },
  {
    topic,
    name: 'writes issued before close() settle as written; none is lost in the race',
    needs: {},
    async run(ctx) {
      const backend = await ctx.make();
      const events = Array.from({ length: 50 }, (_, i) => sampleEvent(i));
      const pending = events.map((e) => backend.recordEvent(e));
      const closing = backend.close();
      const late = backend.recordEvent(sampleEvent(99));
      await closing;
      const outcomes = await Promise.allSettled(pending);
      assert.deepEqual(
        outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason)),
        [],
        'writes accepted before close() resolve',
      );
      // A write racing close() may be refused or accepted, but never accepted and lost.
      const lateOutcome = await late.then(
        () => 'written',
        (error: unknown) => (PapyraError.hasCode(error, 'PAPYRA_BACKEND_CLOSED') ? 'refused' : error),
      );
      assert.ok(lateOutcome === 'written' || lateOutcome === 'refused', `a write racing close(): ${String(lateOutcome)}`);
      if (backend.capabilities.metrics) {
        const accepted = events.length + (lateOutcome === 'written' ? 1 : 0);
        assert.equal(backend.metrics.snapshot().recordsWritten, accepted, 'exactly the accepted writes are counted');
      }
      await rejectsWithCode(() => backend.recordEvent(sampleEvent(100)), 'PAPYRA_BACKEND_CLOSED', 'a write after close() resolved');
    },
  },
];
