import { mkdir } from 'node:fs/promises';
import type { Cluster, Redis } from 'ioredis';
import {
  PapyraError,
  PersistenceMetrics,
  RECORD_KINDS,
  applyListQuery,
  backendClosedError,
  encodeRecord,
  hasRetention,
  normalizeListQuery,
  normalizeRetention,
  redactSecrets,
  redactError,
  retainedMask,
  silentLogger,
  systemClock,
  type Anomaly,
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
import { closeClient, createClient, startConnecting, waitReady, watchConnection, type RedisClient } from './connection.js';
import { abortedError, commandError, describeError } from './errors.js';
import { writeQuarantineFile } from './quarantine.js';
import { entryBytes, inspectEntry, nextId, pagesBackward, pagesForward, streamKeys, type RawEntry, type StreamKeys } from './streams.js';
import { WriteQueue } from './writer.js';

export interface RedisBackendOptions {
  /** `redis://[user:password@]host:port[/db]`; default `redis://127.0.0.1:6379`. Ignored with `client`. */
  url?: string;
  /** An ioredis client (or Cluster) you own: the backend uses it and never closes it. */
  client?: Redis | Cluster;
  /** Default `papyra`. */
  prefix?: string;
  /** Default `local`. */
  systemId?: string;
  /** Put the system id in a hash tag (`<prefix>:{<systemId>}:events`) so one system's streams share a slot. */
  cluster?: boolean;
  retention?: RetentionPolicy;
  /** Wall clock for age retention and compaction; default `Date.now`. */
  clock?: WallClock;
  logger?: Logger;
  /** Records accepted but not yet in Redis, at most (the outage buffer); default 100,000. */
  bufferLimit?: number;
  /** Records per pipeline; default 1,000. */
  batchSize?: number;
  /** Entries per XRANGE page in scans and recovery; default 1,000. */
  pageSize?: number;
  /** `MAXLEN ~ maxRecords` on every XADD when `retention.maxRecords` is set; default true. */
  trimOnWrite?: boolean;
  /** TCP connect timeout per attempt (connections the backend creates); default 2,000 ms. */
  connectTimeoutMs?: number;
  /** How long a read, scan, recovery or compaction waits for a connection; default 3,000 ms. */
  readyTimeoutMs?: number;
  /** A command without a reply fails after this long (connections the backend creates); default 5,000 ms. */
  commandTimeoutMs?: number;
  /** `flush()` (and `close()`) give up after this long without progress; default 5,000 ms. */
  flushTimeoutMs?: number;
}

interface Flagged {
  key: string;
  entry: RawEntry;
  anomaly: Anomaly;
}

interface ScanResult {
  anomalies: Anomaly[];
  flagged: Flagged[];
  entries: number;
}

const NAME = 'redis';

/** Papyra persistence on Redis Streams: one stream per record kind, one `data` field per entry. */
export class RedisBackend implements PersistenceBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = Object.freeze({ scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();
  /** The stream keys this backend reads and writes. */
  readonly keys: StreamKeys;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #clock: WallClock;
  readonly #log: Logger;
  readonly #writes: WriteQueue;
  readonly #unwatch: () => void;
  readonly #pageSize: number;
  readonly #readyTimeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(options: RedisBackendOptions = {}) {
    const prefix = options.prefix ?? 'papyra';
    const systemId = options.systemId ?? 'local';
    for (const [name, value] of [['prefix', prefix], ['systemId', systemId]] as const) {
      if (typeof value !== 'string' || value === '') throw new PapyraError('PAPYRA_INVALID_CONFIG', `${name} must be a non-empty string.`);
    }
    if (options.cluster && /[{}]/.test(systemId)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'systemId cannot contain "{" or "}" with cluster: true (it becomes the hash tag).');
    }
    if (options.url !== undefined && options.client !== undefined) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'Give either url or client, not both.');
    }
    const bufferLimit = positive('bufferLimit', options.bufferLimit, 100_000);
    const batchSize = positive('batchSize', options.batchSize, 1_000);
    this.#pageSize = positive('pageSize', options.pageSize, 1_000);
    this.#readyTimeoutMs = positive('readyTimeoutMs', options.readyTimeoutMs, 3_000);
    this.retention = normalizeRetention(options.retention);
    this.keys = streamKeys(prefix, systemId, options.cluster === true);
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'persistence', backend: NAME });

    if (options.client !== undefined) {
      // A Cluster speaks the same commands; only the connection type differs.
      this.#client = options.client as unknown as RedisClient;
      this.#ownsClient = false;
    } else {
      const url = options.url ?? 'redis://127.0.0.1:6379';
      this.#client = createClient(url, {
        connectTimeoutMs: positive('connectTimeoutMs', options.connectTimeoutMs, 2_000),
        readyTimeoutMs: this.#readyTimeoutMs,
        commandTimeoutMs: positive('commandTimeoutMs', options.commandTimeoutMs, 5_000),
      });
      this.#ownsClient = true;
      this.#log.debug({ url: redactSecrets(url) }, 'connecting to redis');
    }
    this.#writes = new WriteQueue({
      client: this.#client,
      log: this.#log,
      metrics: this.metrics,
      batchSize,
      bufferLimit,
      maxLen: options.trimOnWrite === false ? undefined : this.retention.maxRecords,
      flushTimeoutMs: positive('flushTimeoutMs', options.flushTimeoutMs, 5_000),
      retryDelayMs: 250,
    });
    this.#unwatch = watchConnection(this.#client, this.#log, () => this.#writes.resume());
    startConnecting(this.#client);
  }

  recordEvent(event: PersistedEvent): Promise<void> {
    return this.#write('event', event);
  }

  recordAudit(audit: PersistedAudit): Promise<void> {
    return this.#write('audit', audit);
  }

  recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void> {
    return this.#write('dead_letter', deadLetter);
  }

  listEvents(query?: ListQuery): Promise<PersistedEvent[]> {
    return this.#list('event', query) as Promise<PersistedEvent[]>;
  }

  listAudits(query?: ListQuery): Promise<PersistedAudit[]> {
    return this.#list('audit', query) as Promise<PersistedAudit[]>;
  }

  listDeadLetters(query?: ListQuery): Promise<PersistedDeadLetter[]> {
    return this.#list('dead_letter', query) as Promise<PersistedDeadLetter[]>;
  }

  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#assertOpen();
    try {
      await this.#prepare('scan');
      const { anomalies } = await this.#scan(options);
      const report = { backend: NAME, anomalies };
      this.metrics.scanned(report);
      return report;
    } catch (error) {
      this.metrics.scanFailed(error);
      throw commandError('scan', error);
    }
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#assertOpen();
    const mode = config?.mode;
    if (mode !== 'ignore' && mode !== 'repair' && mode !== 'quarantine') {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', `Unknown recovery mode ${JSON.stringify(mode)}; use ignore, repair or quarantine.`);
    }
    if (mode === 'quarantine' && !config.quarantineDir) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'Quarantine needs a quarantineDir to keep the removed entries in.');
    }
    try {
      await this.#prepare('recovery');
      const found = await this.#scan(options);
      const scan = { backend: NAME, anomalies: found.anomalies };
      const repaired = new Set<string>();
      const quarantined: string[] = [];
      let dropped = 0;
      if (mode === 'repair') {
        dropped = await this.#deleteEntries(found.flagged, repaired, options.signal);
      } else if (mode === 'quarantine') {
        dropped = await this.#quarantine(found.flagged, config.quarantineDir!, repaired, quarantined, options.signal);
      }
      const postScan = { backend: NAME, anomalies: (await this.#scan({})).anomalies };
      this.metrics.recovered(true);
      if (dropped > 0) this.#log.info({ mode, dropped, streams: [...repaired] }, 'redis store recovered');
      return {
        backend: NAME,
        mode,
        scan,
        postScan,
        repairedFiles: [...repaired],
        quarantinedFiles: quarantined,
        keptRecords: found.entries - found.flagged.length,
        droppedRecords: dropped,
      };
    } catch (error) {
      this.metrics.recovered(false, error);
      throw commandError('recovery', error);
    }
  }

  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#assertOpen();
    try {
      await this.#prepare('compaction');
      const report = { backend: NAME, beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0, removedRecords: 0, reclaimedBytes: 0 };
      const total = await this.#totalEntries();
      for (const kind of RECORD_KINDS) await this.#compactStream(kind, report, total, options);
      report.afterRecords = report.beforeRecords - report.removedRecords;
      report.afterBytes = report.beforeBytes - report.reclaimedBytes;
      this.metrics.compacted(true);
      if (report.removedRecords > 0) this.#log.info({ ...report }, 'redis streams compacted');
      return report;
    } catch (error) {
      this.metrics.compacted(false, error);
      throw commandError('compaction', error);
    }
  }

  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#writes.flush();
  }

  /** Flushes, then quits the connection it created. Records that cannot be sent in time are dropped, counted, and make close reject. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    let failure: unknown;
    try {
      await this.#writes.flush();
    } catch (error) {
      const dropped = this.#writes.discard('closed while redis was unreachable');
      failure = commandError('close', error);
      (failure as PapyraError).details['dropped'] = dropped;
    }
    this.#unwatch();
    if (this.#ownsClient) await closeClient(this.#client, 2_000);
    if (failure !== undefined) throw failure;
  }

  #assertOpen(): void {
    if (this.#closing) throw backendClosedError(NAME);
  }

  async #write(kind: RecordKind, record: PersistedRecord): Promise<void> {
    this.#assertOpen();
    if (record?.kind !== kind) {
      throw new PapyraError('PAPYRA_INVALID_RECORD', `Expected a ${kind} record, got ${JSON.stringify(record?.kind)}.`);
    }
    return this.#writes.enqueue(kind, this.keys[kind], encodeRecord(record));
  }

  /** Every read sees the writes accepted before it, and fails fast when Redis is away. */
  async #prepare(what: string): Promise<void> {
    await waitReady(this.#client, this.#readyTimeoutMs, what);
    await this.#writes.flush();
  }

  async #list(kind: RecordKind, query: ListQuery = {}): Promise<PersistedRecord[]> {
    this.#assertOpen();
    const q = normalizeListQuery(query);
    try {
      await this.#prepare('list');
      if (q.limit === 0) return [];
      const now = this.#clock();
      const newestFirst: { record: PersistedRecord; bytes: number }[] = [];
      const firstPage = q.limit === undefined ? this.#pageSize : Math.max(q.limit + 8, 16);
      for await (const page of pagesBackward(this.#client, this.keys[kind], firstPage, 10_000)) {
        for (const entry of page) {
          const verdict = inspectEntry(entry, kind);
          if (verdict.ok) newestFirst.push(verdict);
        }
        if (this.#listSatisfied(newestFirst, q, now)) break;
      }
      const stored = newestFirst.reverse();
      const mask = retainedMask(stored.map(retentionItem), this.retention, now);
      return applyListQuery(
        stored.filter((_, i) => mask[i]).map((s) => s.record),
        q,
      );
    } catch (error) {
      throw commandError('list', error);
    }
  }

  /**
   * Whether the newest entries read so far decide the answer. Retention decides each record from
   * the records newer than it, so a suffix of the stream is judged exactly as the whole would be.
   */
  #listSatisfied(newestFirst: { record: PersistedRecord; bytes: number }[], q: ListQuery, now: number): boolean {
    const policy = this.retention;
    const boundedByRetention = policy.maxRecords !== undefined || policy.maxTotalBytes !== undefined;
    if (q.limit === undefined && !boundedByRetention) return false;
    const stored = [...newestFirst].reverse();
    const mask = retainedMask(stored.map(retentionItem), policy, now);
    if (q.limit !== undefined) {
      let matching = 0;
      for (let i = 0; i < stored.length; i++) if (mask[i] && (q.since === undefined || stored[i]!.record.timestamp >= q.since)) matching++;
      if (matching >= q.limit) return true;
    }
    // The oldest record read is young enough yet not kept: the kind is full, so is all that is older.
    const oldest = stored[0];
    return boundedByRetention && oldest !== undefined && !mask[0] && withinAge(oldest.record.timestamp, policy, now);
  }

  async #totalEntries(): Promise<number> {
    const pipeline = this.#client.pipeline();
    for (const kind of RECORD_KINDS) pipeline.xlen(this.keys[kind]);
    const results = (await pipeline.exec()) ?? [];
    let total = 0;
    for (const [error, length] of results) {
      if (error) throw error;
      total += Number(length);
    }
    return total;
  }

  /** Pages through every entry of the three streams; memory holds one page plus what is flagged. */
  async #scan(options: OperationOptions): Promise<ScanResult> {
    const total = await this.#totalEntries();
    const result: ScanResult = { anomalies: [], flagged: [], entries: 0 };
    for (const kind of RECORD_KINDS) {
      const key = this.keys[kind];
      for await (const page of pagesForward(this.#client, key, this.#pageSize)) {
        if (options.signal?.aborted) throw abortedError('The scan');
        for (const entry of page) {
          const verdict = inspectEntry(entry, kind);
          if (verdict.ok) continue;
          const anomaly: Anomaly = { type: verdict.type, path: key, line: null, offset: null, detail: verdict.detail };
          result.anomalies.push(anomaly);
          result.flagged.push({ key, entry, anomaly });
        }
        result.entries += page.length;
        options.onProgress?.({ phase: 'scan', processed: result.entries, total: Math.max(total, result.entries), unit: 'entries' });
      }
    }
    return result;
  }

  async #deleteEntries(flagged: Flagged[], repaired: Set<string>, signal: AbortSignal | undefined): Promise<number> {
    let dropped = 0;
    for (let i = 0; i < flagged.length; i += 500) {
      if (signal?.aborted) throw abortedError('The recovery');
      const pipeline = this.#client.pipeline();
      const chunk = flagged.slice(i, i + 500);
      for (const f of chunk) pipeline.xdel(f.key, f.entry.id);
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([error, removed], j) => {
        if (error) throw error;
        if (Number(removed) > 0) {
          dropped += Number(removed);
          repaired.add(chunk[j]!.key);
        }
      });
    }
    return dropped;
  }

  /** Each bad entry: a file under `dir` first, then one MULTI copying it to the quarantine stream and deleting it. */
  async #quarantine(flagged: Flagged[], dir: string, repaired: Set<string>, files: string[], signal: AbortSignal | undefined): Promise<number> {
    if (flagged.length === 0) return 0;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new PapyraError('PAPYRA_IO', `Cannot create the quarantine directory: ${describeError(error)}`, { cause: redactError(error), details: { quarantineDir: dir } });
    }
    let dropped = 0;
    for (const { key, entry, anomaly } of flagged) {
      if (signal?.aborted) throw abortedError('The recovery');
      files.push(await writeQuarantineFile(dir, key, entry, anomaly));
      const copy: (string | Buffer)[] = ['source', key, 'entry_id', entry.id, 'anomaly', anomaly.type, 'detail', anomaly.detail];
      for (let i = 0; i + 1 < entry.fields.length; i += 2) copy.push(Buffer.concat([Buffer.from('field:'), entry.fields[i]!]), entry.fields[i + 1]!);
      const results = (await this.#client.multi().xadd(this.keys.quarantine, '*', ...copy).xdel(key, entry.id).exec()) ?? [];
      for (const [error] of results) if (error) throw error;
      const removed = Number(results[1]?.[1] ?? 0);
      if (removed > 0) {
        dropped += removed;
        repaired.add(key);
      }
    }
    return dropped;
  }

  /**
   * Walks one stream newest to oldest, deciding retention page by page with the budget that the
   * newer pages left. Entries between kept ones are deleted by id (XDEL, in chunks so memory stays
   * bounded); everything older than the oldest kept entry goes with one XTRIM MINID. Entries that
   * are not valid records are kept: they are scan's business, not compaction's.
   */
  async #compactStream(kind: RecordKind, report: CompactionReport, total: number, options: OperationOptions): Promise<void> {
    const key = this.keys[kind];
    const policy = this.retention;
    const now = this.#clock();
    let keptRecords = 0;
    let keptBytes = 0;
    let full = false;
    let oldestKept: string | undefined;
    let newestSeen: string | undefined;
    let run: string[] = [];
    const deleteRun = async () => {
      if (run.length > 0) await this.#client.xdel(key, ...run);
      run = [];
    };
    for await (const page of pagesBackward(this.#client, key, this.#pageSize, 10_000)) {
      if (options.signal?.aborted) throw abortedError('The compaction');
      newestSeen ??= page[0]!.id;
      const verdicts = page.map((entry) => inspectEntry(entry, kind));
      const keep = verdicts.map(() => true);
      if (hasRetention(policy)) {
        // Store order (oldest first) for retainedMask; the budget is what newer pages left over.
        const valid = verdicts.flatMap((v, i) => (v.ok ? [i] : [])).reverse();
        const budget: RetentionPolicy = {
          ...(policy.maxAgeMs !== undefined && { maxAgeMs: policy.maxAgeMs }),
          ...(policy.maxRecords !== undefined && { maxRecords: Math.max(0, policy.maxRecords - keptRecords) }),
          ...(policy.maxTotalBytes !== undefined && { maxTotalBytes: Math.max(0, policy.maxTotalBytes - keptBytes) }),
        };
        const items = valid.map((i) => retentionItem(verdicts[i] as { record: PersistedRecord; bytes: number }));
        const mask = full ? items.map(() => false) : retainedMask(items, budget, now);
        valid.forEach((i, j) => {
          keep[i] = mask[j]!;
          if (!mask[j] && withinAge(items[j]!.timestamp, policy, now)) full = true;
          if (mask[j]) {
            keptRecords += 1;
            keptBytes += items[j]!.bytes;
          }
        });
      }
      for (let i = 0; i < page.length; i++) {
        const entry = page[i]!;
        const bytes = entryBytes(entry);
        report.beforeRecords += 1;
        report.beforeBytes += bytes;
        if (keep[i]) {
          await deleteRun();
          oldestKept = entry.id;
        } else {
          run.push(entry.id);
          report.removedRecords += 1;
          report.reclaimedBytes += bytes;
          if (run.length >= 1_000) await deleteRun();
        }
      }
      options.onProgress?.({ phase: 'compact', processed: report.beforeRecords, total: Math.max(total, report.beforeRecords), unit: 'entries' });
    }
    // What is left is older than the oldest kept entry (or is all that was read, if none is kept).
    if (run.length > 0) await this.#client.xtrim(key, 'MINID', oldestKept ?? nextId(newestSeen!));
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new PapyraError('PAPYRA_INVALID_CONFIG', `${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return value;
}

function retentionItem(stored: { record: PersistedRecord; bytes: number }) {
  return { kind: stored.record.kind, timestamp: stored.record.timestamp, bytes: stored.bytes };
}

function withinAge(timestamp: number, policy: RetentionPolicy, now: number): boolean {
  return policy.maxAgeMs === undefined || timestamp >= now - policy.maxAgeMs;
}
