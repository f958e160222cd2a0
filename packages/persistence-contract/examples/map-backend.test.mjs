// A complete custom backend in ~60 lines, checked by the conformance suite under node:test.
// Run: node --test examples/
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  PapyraError,
  PersistenceMetrics,
  applyListQuery,
  applyRetention,
  backendClosedError,
  decodeRecord,
  encodeRecord,
  encodedSize,
  normalizeRetention,
} from '@papyra/persistence-contract';
import { runBackendConformance } from '@papyra/persistence-contract/conformance';

/** Keeps each kind's encoded lines in a Map entry. Not durable; scan is always clean. */
class MapBackend {
  name = 'map';
  capabilities = { scan: true, recover: true, quarantine: false, compact: true, metrics: true, durable: false };
  metrics = new PersistenceMetrics();
  #lines = new Map([['event', []], ['audit', []], ['dead_letter', []]]);
  #closed = false;

  constructor({ retention, clock = Date.now } = {}) {
    this.retention = normalizeRetention(retention);
    this.clock = clock;
  }

  recordEvent(r) { return this.#append(r); }
  recordAudit(r) { return this.#append(r); }
  recordDeadLetter(r) { return this.#append(r); }
  listEvents(q) { return this.#list('event', q); }
  listAudits(q) { return this.#list('audit', q); }
  listDeadLetters(q) { return this.#list('dead_letter', q); }

  async scan() {
    this.#open();
    const report = { backend: this.name, anomalies: [] };
    this.metrics.scanned(report);
    return report;
  }

  async recover(config) {
    this.#open();
    if (config.mode === 'quarantine') throw new PapyraError('PAPYRA_UNSUPPORTED', 'the map backend cannot quarantine');
    const scan = await this.scan();
    const kept = [...this.#lines.values()].reduce((n, lines) => n + lines.length, 0);
    this.metrics.recovered();
    return { backend: this.name, mode: config.mode, scan, postScan: scan, repairedFiles: [], quarantinedFiles: [], keptRecords: kept, droppedRecords: 0 };
  }

  async compact() {
    this.#open();
    const report = { backend: this.name, beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 };
    for (const [kind, lines] of this.#lines) {
      const kept = applyRetention(lines.map((line) => decodeRecord(line)), this.retention, this.clock());
      report.beforeRecords += lines.length;
      report.beforeBytes += lines.reduce((n, line) => n + Buffer.byteLength(line) + 1, 0);
      report.afterRecords += kept.length;
      report.afterBytes += kept.reduce((n, r) => n + encodedSize(r), 0);
      this.#lines.set(kind, kept.map((r) => encodeRecord(r)));
    }
    this.metrics.compacted();
    return { ...report, removedRecords: report.beforeRecords - report.afterRecords, reclaimedBytes: report.beforeBytes - report.afterBytes };
  }

  async flush() { this.#open(); }
  async close() { this.#closed = true; }

  async #append(record) {
    this.#open();
    const line = encodeRecord(record); // the one codec: never write your own mapping
    this.#lines.get(record.kind).push(line);
    this.metrics.recordWritten(record.kind, 1, Buffer.byteLength(line) + 1, 0);
  }

  async #list(kind, query) {
    this.#open();
    const records = this.#lines.get(kind).map((line) => decodeRecord(line));
    return applyListQuery(applyRetention(records, this.retention, this.clock()), query);
  }

  #open() {
    if (this.#closed) throw backendClosedError(this.name);
  }
}

await runBackendConformance({ describe, it, beforeEach, afterEach }, {
  name: 'map',
  make: async (ctx) => new MapBackend({ retention: ctx.retention, clock: ctx.clock }),
});
