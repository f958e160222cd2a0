import {
  PersistenceMetrics,
  PapyraError,
  applyListQuery,
  backendClosedError,
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
  type RecoveryReport,
  type RetentionPolicy,
  type ScanReport,
  type WallClock,
} from '@papyra/persistence-contract';
import { abortedError, wrongKindError } from './errors.js';

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

const RECOVERY_MODES = ['ignore', 'repair', 'quarantine'];

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
  #closed = false;

  constructor(options: MemoryBackendOptions = {}) {
    this.retention = normalizeRetention(options.retention);
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'persistence', backend: this.name });
  }

  async recordEvent(event: PersistedEvent): Promise<void> {
    this.#append('recordEvent', 'event', event);
  }

  async recordAudit(audit: PersistedAudit): Promise<void> {
    this.#append('recordAudit', 'audit', audit);
  }

  async recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void> {
    this.#append('recordDeadLetter', 'dead_letter', deadLetter);
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

  /** Nothing in memory can be torn or corrupted: the report is always clean. */
  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#checkOpen();
    checkAborted('scan', options.signal);
    const report: ScanReport = { backend: this.name, anomalies: [] };
    options.onProgress?.({ phase: 'scan', processed: this.#count(), total: this.#count(), unit: 'entries' });
    this.metrics.scanned(report);
    return report;
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#checkOpen();
    if (!RECOVERY_MODES.includes(config?.mode)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', `Unknown recovery mode ${JSON.stringify(config?.mode)}; use ignore, repair or quarantine.`);
    }
    if (config.mode === 'quarantine' && !config.quarantineDir) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', "Recovery mode 'quarantine' needs a quarantineDir.");
    }
    checkAborted('recovery', options.signal);
    const scan = await this.scan();
    const report: RecoveryReport = {
      backend: this.name,
      mode: config.mode,
      scan,
      postScan: await this.scan(),
      repairedFiles: [],
      quarantinedFiles: [],
      keptRecords: this.#count(),
      droppedRecords: 0,
    };
    this.metrics.recovered();
    return report;
  }

  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#checkOpen();
    checkAborted('compaction', options.signal);
    const before = this.#totals();
    const now = this.#clock();
    for (const kind of Object.keys(this.#stores) as RecordKind[]) this.#stores[kind] = this.#retained(kind, now);
    const after = this.#totals();
    const report: CompactionReport = {
      backend: this.name,
      beforeRecords: before.records,
      afterRecords: after.records,
      beforeBytes: before.bytes,
      afterBytes: after.bytes,
      removedRecords: before.records - after.records,
      reclaimedBytes: before.bytes - after.bytes,
    };
    options.onProgress?.({ phase: 'compact', processed: before.records, total: before.records, unit: 'entries' });
    this.metrics.compacted();
    this.#log.info({ removedRecords: report.removedRecords, reclaimedBytes: report.reclaimedBytes }, 'compacted');
    return report;
  }

  /** Writes are complete when their promise resolves; there is nothing to flush. */
  async flush(): Promise<void> {
    this.#checkOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #append(method: string, kind: RecordKind, record: PersistedRecord): void {
    this.#checkOpen();
    if (record?.kind !== kind) throw wrongKindError(method, kind, record?.kind);
    const started = performance.now();
    const line = encodeRecord(record);
    // The timestamp as read back from the line (the codec rounds to the microsecond).
    const stored = { line, bytes: Buffer.byteLength(line, 'utf8') + 1, timestamp: decodeRecord(line).timestamp };
    this.#stores[kind].push(stored);
    this.metrics.recordWritten(kind, 1, stored.bytes, performance.now() - started);
  }

  #list(kind: RecordKind, query: ListQuery | undefined): PersistedRecord[] {
    this.#checkOpen();
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

  #checkOpen(): void {
    if (this.#closed) throw backendClosedError(this.name);
  }
}

function checkAborted(operation: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(operation, signal.reason);
}
