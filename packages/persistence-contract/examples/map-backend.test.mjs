// A complete custom backend in ~70 lines, built on the backend kit and checked by the conformance
// suite under node:test. Run: node --test examples/   (walkthrough: docs/adding-a-backend.md)
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  PapyraError,
  PersistenceMetrics,
  applyListQuery,
  applyRetention,
  decodeRecord,
  encodeRecord,
  encodedSize,
  normalizeRetention,
} from '@papyra/persistence-contract';
import {
  ClosedGuard,
  checkRecoveryConfig,
  cleanRecovery,
  compactionReport,
  observeCompaction,
  observeRecovery,
  observeScan,
  throwIfAborted,
  validateRecord,
} from '@papyra/persistence-contract/kit';
import { runBackendConformance } from '@papyra/persistence-contract/conformance';

const log = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => log };

/** Keeps each kind's encoded lines in a Map entry. Not durable; scan is always clean. */
class MapBackend {
  name = 'map';
  capabilities = { scan: true, recover: true, quarantine: false, compact: true, metrics: true, durable: false };
  metrics = new PersistenceMetrics();
  #lines = new Map([
    ['event', []],
    ['audit', []],
    ['dead_letter', []],
  ]);
  #guard = new ClosedGuard(this.name);

  constructor({ retention, clock = Date.now } = {}) {
    this.retention = normalizeRetention(retention);
    this.clock = clock;
  }

  recordEvent(r) {
    return this.#append('event', r);
  }
  recordAudit(r) {
    return this.#append('audit', r);
  }
  recordDeadLetter(r) {
    return this.#append('dead_letter', r);
  }
  listEvents(q) {
    return this.#list('event', q);
  }
  listAudits(q) {
    return this.#list('audit', q);
  }
  listDeadLetters(q) {
    return this.#list('dead_letter', q);
  }

  async scan(options = {}) {
    this.#guard.assertOpen(); // first, whatever the arguments
    throwIfAborted('scan', options);
    return observeScan(this.metrics, log, async () => ({ backend: this.name, anomalies: [] }));
  }

  async recover(config, options = {}) {
    this.#guard.assertOpen();
    const { mode } = checkRecoveryConfig(config);
    if (mode === 'quarantine') throw new PapyraError('PAPYRA_UNSUPPORTED', 'the map backend cannot quarantine');
    throwIfAborted('recovery', options);
    const kept = [...this.#lines.values()].reduce((n, lines) => n + lines.length, 0);
    return observeRecovery(this.metrics, log, async () => cleanRecovery(this.name, mode, kept));
  }

  async compact(options = {}) {
    this.#guard.assertOpen();
    throwIfAborted('compaction', options);
    return observeCompaction(this.metrics, log, async () => {
      const counts = { beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 };
      for (const [kind, lines] of this.#lines) {
        const kept = applyRetention(
          lines.map((line) => decodeRecord(line)),
          this.retention,
          this.clock(),
        );
        counts.beforeRecords += lines.length;
        counts.beforeBytes += lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
        counts.afterRecords += kept.length;
        counts.afterBytes += kept.reduce((n, r) => n + encodedSize(r), 0);
        this.#lines.set(
          kind,
          kept.map((r) => encodeRecord(r)),
        );
      }
      return compactionReport(this.name, counts);
    });
  }

  async probe() {
    this.#guard.assertOpen();
  }
  async flush() {
    this.#guard.assertOpen();
  }
  async close() {
    this.#guard.markClosed();
  }

  async #append(kind, record) {
    this.#guard.assertOpen();
    validateRecord(record, kind); // the same rules as every Papyra backend
    const line = encodeRecord(record); // the one codec: never write your own mapping
    this.#lines.get(kind).push(line);
    this.metrics.recordWritten(kind, 1, Buffer.byteLength(line) + 1, 0);
  }

  async #list(kind, query) {
    this.#guard.assertOpen();
    const records = this.#lines.get(kind).map((line) => decodeRecord(line));
    return applyListQuery(applyRetention(records, this.retention, this.clock()), query); // filters, then limit
  }
}

await runBackendConformance(
  { describe, it, beforeEach, afterEach },
  {
    name: 'map',
    make: async (ctx) => new MapBackend({ retention: ctx.retention, clock: ctx.clock }),
  },
);
