import {
  PersistenceMetrics,
  RECORD_KINDS,
  applyListQuery,
  decodeRecord,
  encodeRecord,
  normalizeListQuery,
  normalizeRetention,
  retainedMask,
  silentLogger,
  systemClock,
  type BackendCapabilities,
  type CompactionReport,
  type ListQuery,
  type Logger,
  type OperationOptions,
  type PersistedAudit,
  type PersistedDeadLetter,
  type PersistedEvent,
  type PersistedRecord,
  type PersistenceBackend,
  type RecordKind,
  type RecoveryConfig,
  type ReadOptions,
  type RecoveryReport,
  type StoredRecord,
  type RetentionPolicy,
  type ScanReport,
  type WallClock,
} from '@papyra/persistence-contract';
import {
  ClosedGuard,
  checkRecoveryConfig,
  compactionReport,
  observeCompaction,
  observeRecovery,
  observeScan,
  throwIfAborted,
  validateRecord,
} from '@papyra/persistence-contract/kit';

export interface MemoryBackendOptions {
  /** Applied on every list; `compact()` applies it physically. Default: keep everything. */
  retention?: RetentionPolicy;
  /** Wall clock for age retention. Default `Date.now`. */
  clock?: WallClock;
  logger?: Logger;
}

/** A record as its encoded line, with what retention needs to know of it. */
interface Stored {
  line: string;
  /** UTF-8 size of the line with its `\n`. */
  bytes: number;
  timestamp: number;
}

const CAPABILITIES: BackendCapabilities = Object.freeze({
  scan: true,
  recover: true,
  quarantine: true,
  compact: true,
  metrics: true,
  durable: false,
});

/**
 * Holds records in arrays per kind, for tests and ephemeral systems (SPEC §7). Records are kept as
 * their encoded lines and decoded on every list, so what it lists is exactly what a durable
 * backend would list, and no caller can change what is stored through an object it holds.
 */
export class MemoryBackend implements PersistenceBackend {
  readonly name = 'memory';
  readonly capabilities = CAPABILITIES;
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();
  readonly #clock: WallClock;
  readonly #log: Logger;
  readonly #stores: Record<RecordKind, Stored[]> = { event: [], audit: [], dead_letter: [] };
  readonly #guard = new ClosedGuard(this.name);

  constructor(options: MemoryBackendOptions = {}) {
    this.retention = normalizeRetention(options.retention);
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'persistence', backend: this.name });
  }

  async recordEvent(event: PersistedEvent): Promise<void> {
    this.#append('event', event);
  }

  async recordAudit(audit: PersistedAudit): Promise<void> {
    this.#append('audit', audit);
  }

  async recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void> {
    this.#append('dead_letter', deadLetter);
  }

  async listEvents(query?: ListQuery): Promise<PersistedEvent[]> {
    return this.#list('event', query) as PersistedEvent[];
  }

  async listAudits(query?: ListQuery): Promise<PersistedAudit[]> {
    return this.#list('audit', query) as PersistedAudit[];
  }

  async listDeadLetters(query?: ListQuery): Promise<PersistedDeadLetter[]> {
    return this.#list('dead_letter', query) as PersistedDeadLetter[];
  }

  /** The visible records of the window with their stored lines, kind after kind. */
  async *records(options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    this.#guard.assertOpen();
    const now = this.#clock();
    for (const kind of options.kinds ?? RECORD_KINDS) {
      throwIfAborted('read', options);
      for (const { line, timestamp } of this.#retained(kind, now)) {
        if (options.since !== undefined && timestamp < options.since) continue;
        if (options.until !== undefined && !(timestamp < options.until)) continue;
        yield { record: decodeRecord(line), line };
      }
    }
  }

  /** Nothing in memory can be torn or corrupted: the report is always clean. */
  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#guard.assertOpen();
    throwIfAborted('scan', options);
    return observeScan(this.metrics, this.#log, async () => {
      options.onProgress?.({ phase: 'scan', processed: this.#count(), total: this.#count(), unit: 'entries' });
      return { backend: this.name, anomalies: [] };
    });
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#guard.assertOpen();
    const { mode } = checkRecoveryConfig(config);
    throwIfAborted('recovery', options);
    const clean: ScanReport = { backend: this.name, anomalies: [] };
    return observeRecovery(this.metrics, this.#log, async () => ({
      backend: this.name,
      mode,
      scan: clean,
      postScan: clean,
      repairedFiles: [],
      quarantinedFiles: [],
      keptRecords: this.#count(),
      droppedRecords: 0,
    }));
  }

  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#guard.assertOpen();
    throwIfAborted('compaction', options);
    return observeCompaction(this.metrics, this.#log, async () => {
      const before = this.#totals();
      const now = this.#clock();
      for (const kind of Object.keys(this.#stores) as RecordKind[]) this.#stores[kind] = this.#retained(kind, now);
      const after = this.#totals();
      options.onProgress?.({ phase: 'compact', processed: before.records, total: before.records, unit: 'entries' });
      return compactionReport(this.name, { beforeRecords: before.records, afterRecords: after.records, beforeBytes: before.bytes, afterBytes: after.bytes });
    });
  }

  /** Memory always answers while open: the probe only says whether this instance is closed. */
  async probe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.#guard.assertOpen();
    throwIfAborted('probe', options);
  }

  /** Writes are complete when their promise resolves; there is nothing to flush. */
  async flush(): Promise<void> {
    this.#guard.assertOpen();
  }

  async close(): Promise<void> {
    this.#guard.markClosed();
  }

  #append(kind: RecordKind, record: PersistedRecord): void {
    this.#guard.assertOpen();
    try {
      validateRecord(record, kind);
    } catch (error) {
      this.metrics.writeFailed(1, error);
      throw error;
    }
    const started = performance.now();
    const line = encodeRecord(record);
    // The timestamp as read back from the line (the codec rounds to the microsecond).
    const stored = { line, bytes: Buffer.byteLength(line, 'utf8') + 1, timestamp: decodeRecord(line).timestamp };
    this.#stores[kind].push(stored);
    this.metrics.recordWritten(kind, 1, stored.bytes, performance.now() - started);
  }

  #list(kind: RecordKind, query: ListQuery | undefined): PersistedRecord[] {
    this.#guard.assertOpen();
    const q = normalizeListQuery(query);
    const visible = this.#retained(kind, this.#clock()).map((s) => decodeRecord(s.line));
    return applyListQuery(visible, q);
  }

  /** What retention keeps of one kind, sized by the bytes counted at write time. */
  #retained(kind: RecordKind, now: number): Stored[] {
    const stored = this.#stores[kind];
    const mask = retainedMask(
      stored.map((s) => ({ kind, timestamp: s.timestamp, bytes: s.bytes })),
      this.retention,
      now,
    );
    return stored.filter((_, i) => mask[i]);
  }

  #count(): number {
    return this.#stores.event.length + this.#stores.audit.length + this.#stores.dead_letter.length;
  }

  #totals(): { records: number; bytes: number } {
    const all = [...this.#stores.event, ...this.#stores.audit, ...this.#stores.dead_letter];
    return { records: all.length, bytes: all.reduce((sum, s) => sum + s.bytes, 0) };
  }
}
