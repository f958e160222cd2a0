import { mkdir } from 'node:fs/promises';
import type { Cluster, Redis } from 'ioredis';
import {
  PapyraError,
  PersistenceMetrics,
  RECORD_KINDS,
  applyListQuery,
  backendClosedError,
  encodeRecord,
  isValidTimestamp,
  matchesQuery,
  normalizeListQuery,
  normalizeRetention,
  redactSecrets,
  redactError,
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
import {
  closeClient,
  createClient,
  duplicateForWrites,
  isClusterClient,
  startConnecting,
  waitReady,
  watchConnection,
  type Endpoint,
  type RedisClient,
} from './connection.js';
import { abortedError, commandError, describeError, unavailableError } from './errors.js';
import { writeQuarantineFile } from './quarantine.js';
import { NewestFirstRetention } from './retention.js';
import { entryBytes, inspectEntry, nextId, oversizedBytes, pagesBackward, pagesForward, readWholeEntry, streamKeys, type RawEntry, type StreamKeys } from './streams.js';
import { WriteQueue } from './writer.js';

export interface RedisBackendOptions {
  /**
   * `redis://[user:password@]host:port[/db]` (`rediss://` for TLS); default `redis://127.0.0.1:6379`.
   * With `cluster: true` it is a seed node of the cluster. Exclusive with `client` and `nodes`.
   */
  url?: string;
  /** Cluster seed nodes (`redis://host:port`, credentials in the first), with `cluster: true`. Exclusive with `url` and `client`. */
  nodes?: string[];
  /**
   * An ioredis client (or Cluster, which needs `cluster: true`) you own: the backend reads through
   * it and never closes it; writes go through a duplicate connection the backend owns.
   */
  client?: Redis | Cluster;
  /** Default `papyra`. */
  prefix?: string;
  /** Default `local`. */
  systemId?: string;
  /**
   * Redis Cluster mode: the backend connects with an ioredis Cluster (from `url` or `nodes`) and puts
   * the system id in a hash tag (`<prefix>:{<systemId>}:events`) so one system's streams share a slot.
   */
  cluster?: boolean;
  retention?: RetentionPolicy;
  /** Wall clock for age retention and compaction; default `Date.now`. */
  clock?: WallClock;
  logger?: Logger;
  /** Records accepted but not yet in Redis, at most (the outage buffer); default 100,000. */
  bufferLimit?: number;
  /** Records per pipeline; default 1,000. */
  batchSize?: number;
  /** Entries per page in scans and recovery; default (and at most) 1,000. */
  pageSize?: number;
  /** `MAXLEN ~ maxRecords` on every XADD when `retention.maxRecords` is set; default true. */
  trimOnWrite?: boolean;
  /** TCP connect timeout per attempt (connections the backend creates); default 2,000 ms. */
  connectTimeoutMs?: number;
  /** How long a read, scan, recovery or compaction waits for a connection; default 3,000 ms. */
  readyTimeoutMs?: number;
  /**
   * A read command without a reply fails after this long (connections the backend creates); a
   * write batch without a reply after this long starts an outage (it is not resent); default 5,000 ms.
   */
  commandTimeoutMs?: number;
  /** A write batch without a reply after this long: its connection is dropped and the batch resent; default 30,000 ms. */
  stalledConnectionMs?: number;
  /** `flush()` (and `close()`) give up after this long without progress; default 5,000 ms. */
  flushTimeoutMs?: number;
  /** Entries larger than this are never read (an anomaly, skipped by lists) and records larger are refused; default 16 MiB. */
  maxEntryBytes?: number;
}

/** How many of the newest record ids de-duplication remembers while walking a stream. */
const DEDUP_WINDOW = 100_000;

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
  readonly #writer: RedisClient;
  readonly #ownsClient: boolean;
  readonly #cluster: boolean;
  readonly #clock: WallClock;
  readonly #log: Logger;
  readonly #writes: WriteQueue;
  readonly #unwatch: () => void;
  readonly #pageSize: number;
  readonly #readyTimeoutMs: number;
  readonly #maxEntryBytes: number;
  readonly #trimEvery: number | undefined;
  readonly #sinceTrim = new Map<RecordKind, number>();
  readonly #trims = new Map<RecordKind, Promise<void>>();
  /** The last connection error (a refused password makes reads and flushes PAPYRA_INVALID_CONFIG). */
  #lastConnectionError: unknown;
  #closing: Promise<void> | undefined;

  constructor(options: RedisBackendOptions = {}) {
    const prefix = options.prefix ?? 'papyra';
    const systemId = options.systemId ?? 'local';
    for (const [name, value] of [['prefix', prefix], ['systemId', systemId]] as const) {
      if (typeof value !== 'string' || value === '') throw new PapyraError('PAPYRA_INVALID_CONFIG', `${name} must be a non-empty string.`);
    }
    const cluster = options.cluster === true;
    if (cluster && /[{}]/.test(systemId)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'systemId cannot contain "{" or "}" with cluster: true (it becomes the hash tag).');
    }
    const sources = (['url', 'nodes', 'client'] as const).filter((k) => options[k] !== undefined);
    if (sources.length > 1) throw new PapyraError('PAPYRA_INVALID_CONFIG', `Give one of url, nodes or client, not ${sources.join(' and ')}.`);
    if (options.nodes !== undefined && (!cluster || !Array.isArray(options.nodes) || options.nodes.length === 0)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'nodes lists Redis Cluster seed nodes: give at least one, with cluster: true.');
    }
    if (options.client !== undefined && isClusterClient(options.client) && !cluster) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'An ioredis Cluster client needs cluster: true (keys must carry the system id as a hash tag).');
    }
    const bufferLimit = positive('bufferLimit', options.bufferLimit, 100_000);
    const batchSize = positive('batchSize', options.batchSize, 1_000);
    this.#pageSize = positive('pageSize', options.pageSize, 1_000);
    this.#readyTimeoutMs = positive('readyTimeoutMs', options.readyTimeoutMs, 3_000);
    this.#maxEntryBytes = positive('maxEntryBytes', options.maxEntryBytes, 16 * 1024 * 1024);
    const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, 5_000);
    const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 2_000);
    this.retention = normalizeRetention(options.retention);
    this.keys = streamKeys(prefix, systemId, cluster);
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: 'persistence', backend: NAME });
    // Like `MAXLEN ~`, trimming waits for a worthwhile amount: at least 100 records, or maxRecords.
    this.#trimEvery = options.trimOnWrite === false || this.retention.maxRecords === undefined ? undefined : Math.max(this.retention.maxRecords, 100);

    if (options.client !== undefined) {
      // A Cluster speaks the same commands; only the connection type differs.
      this.#client = options.client as unknown as RedisClient;
      this.#writer = duplicateForWrites(this.#client);
      this.#ownsClient = false;
      this.#cluster = isClusterClient(options.client);
    } else {
      const url = options.url ?? 'redis://127.0.0.1:6379';
      const endpoint: Endpoint = cluster ? { cluster: true, nodes: options.nodes ?? [url] } : { cluster: false, url };
      // Named, so CLIENT LIST tells the two apart.
      this.#client = createClient(endpoint, { connectTimeoutMs, commandTimeoutMs }, 'papyra-read');
      this.#writer = createClient(endpoint, { connectTimeoutMs, commandTimeoutMs: undefined }, 'papyra-write');
      this.#ownsClient = true;
      this.#cluster = cluster;
      this.#log.debug({ endpoint: endpoint.cluster ? endpoint.nodes.map(redactSecrets) : redactSecrets(url) }, 'connecting to redis');
    }
    this.#writes = new WriteQueue({
      client: this.#writer,
      cluster: this.#cluster,
      log: this.#log,
      metrics: this.metrics,
      batchSize,
      bufferLimit,
      flushTimeoutMs: positive('flushTimeoutMs', options.flushTimeoutMs, 5_000),
      commandTimeoutMs,
      stalledConnectionMs: positive('stalledConnectionMs', options.stalledConnectionMs, 30_000),
      onStored: (kind, records) => this.#maybeTrim(kind, records),
    });
    const remember = (error: unknown) => {
      this.#lastConnectionError = error;
    };
    const unwatchWriter = watchConnection(this.#writer, this.#log, () => this.#writes.resume(), remember);
    // The read connection: only remembered (a refused password fails reads at once), never logged twice.
    const forget = () => {
      this.#lastConnectionError = undefined;
    };
    this.#client.on('error', remember);
    this.#client.on('ready', forget);
    this.#unwatch = () => {
      unwatchWriter();
      this.#client.off('error', remember);
      this.#client.off('ready', forget);
    };
    startConnecting(this.#client);
    startConnecting(this.#writer);
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

  /**
   * Resolves when every record accepted before the call is stored. Rejects when some of them were
   * dropped (Redis refused the entry: PAPYRA_IO; the configuration cannot store anything:
   * PAPYRA_INVALID_CONFIG), with `details.dropped`; or with PAPYRA_BACKEND_UNAVAILABLE after
   * `flushTimeoutMs` without progress (the records stay buffered).
   */
  async flush(): Promise<void> {
    this.#assertOpen();
    await this.#writes.flush(() => this.#lastConnectionError);
  }

  /**
   * PING, bounded by `timeoutMs` (default 1,000 ms): resolves when Redis answers; rejects with
   * PAPYRA_BACKEND_UNAVAILABLE when it does not (PAPYRA_INVALID_CONFIG for refused credentials,
   * PAPYRA_ABORTED when `signal` fires). Never changes the store.
   */
  async probe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.#assertOpen();
    const timeoutMs = positive('timeoutMs', options.timeoutMs, 1_000);
    const { signal } = options;
    if (signal?.aborted) throw abortedError('The probe');
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const ping = (async () => {
      await waitReady(this.#client, timeoutMs, 'probe', () => this.#lastConnectionError);
      const reply = await this.#client.ping();
      if (reply !== 'PONG') throw new Error(`unexpected PING reply ${JSON.stringify(reply)}`);
    })();
    ping.catch(() => undefined);
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A connection error is the cause only while disconnected; a frozen server just says nothing.
        const cause = this.#client.status === 'ready' ? undefined : this.#lastConnectionError;
        reject(unavailableError(`probe: no answer within ${timeoutMs} ms`, cause, { timeout: true, timeoutMs }));
      }, timeoutMs);
      onAbort = () => reject(abortedError('The probe'));
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([ping, bound]);
    } catch (error) {
      throw commandError('probe', error, this.#cluster);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Flushes (bounded by `flushTimeoutMs` without progress), then quits the connections it created.
   * Records not stored by then are dropped and counted: `details.dropped`, of which
   * `details.inDoubt` were sent without a reply (a frozen server may still apply them later).
   * close rejects whenever something was dropped.
   */
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
      await this.#writes.flush(() => this.#lastConnectionError);
    } catch (error) {
      failure = error;
    }
    const { dropped, inDoubt } = this.#writes.discard('closed before stored');
    if (dropped > 0) {
      const reason = failure ?? unavailableError('close: records were not stored in time');
      failure = commandError('close', reason, this.#cluster);
      (failure as PapyraError).details['dropped'] = dropped + Number((failure as PapyraError).details['dropped'] ?? 0);
      (failure as PapyraError).details['inDoubt'] = inDoubt;
    }
    await Promise.allSettled([...this.#trims.values()]);
    this.#unwatch();
    await Promise.all([closeClient(this.#writer, 2_000), this.#ownsClient ? closeClient(this.#client, 2_000) : undefined]);
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
    if (!isValidTimestamp(record.timestamp)) {
      throw new PapyraError('PAPYRA_INVALID_RECORD', `The record's timestamp ${String(record.timestamp)} is not a finite epoch-millisecond time within ±8.64e15.`);
    }
    const data = encodeRecord(record);
    // Refused here rather than stored as an entry no reader would ever read.
    if (data.length > this.#maxEntryBytes && Buffer.byteLength(data) > this.#maxEntryBytes) {
      throw new PapyraError('PAPYRA_INVALID_RECORD', `The encoded record is ${Buffer.byteLength(data)} bytes, over maxEntryBytes (${this.#maxEntryBytes}).`);
    }
    return this.#writes.enqueue(kind, this.keys[kind], data);
  }

  /** Every read sees the writes accepted before it, and fails fast when Redis is away. */
  async #prepare(what: string): Promise<void> {
    await waitReady(this.#client, this.#readyTimeoutMs, what, () => this.#lastConnectionError);
    await this.#writes.flush(() => this.#lastConnectionError, false);
  }

  async #list(kind: RecordKind, query: ListQuery = {}): Promise<PersistedRecord[]> {
    this.#assertOpen();
    const q = normalizeListQuery(query);
    try {
      await this.#prepare('list');
      if (q.limit === 0) return [];
      const retention = new NewestFirstRetention(this.retention, this.#clock(), Number.POSITIVE_INFINITY);
      // Only what the query matches is held; retention still counts every record it keeps.
      const newestFirst: PersistedRecord[] = [];
      const firstPage = q.limit === undefined ? this.#pageSize : Math.max(q.limit + 8, 16);
      walk: for await (const page of pagesBackward(this.#client, this.keys[kind], firstPage, this.#maxEntryBytes)) {
        for (const entry of page) {
          const verdict = inspectEntry(entry, kind, this.#maxEntryBytes);
          if (!verdict.ok || retention.decide(verdict.record, verdict.bytes) !== 'keep') {
            // Retention decides each record from newer ones: once full, nothing older shows.
            if (retention.full) break walk;
            continue;
          }
          if (!matchesQuery(verdict.record, q)) continue;
          newestFirst.push(verdict.record);
          if (q.limit !== undefined && newestFirst.length >= q.limit) break walk;
        }
      }
      return applyListQuery(newestFirst.reverse(), q);
    } catch (error) {
      throw commandError('list', error, this.#cluster);
    }
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
      for await (const page of pagesForward(this.#client, key, this.#pageSize, this.#maxEntryBytes)) {
        if (options.signal?.aborted) throw abortedError('The scan');
        for (const entry of page) {
          const verdict = inspectEntry(entry, kind, this.#maxEntryBytes);
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
    for (const flaggedEntry of flagged) {
      if (signal?.aborted) throw abortedError('The recovery');
      const { key, anomaly } = flaggedEntry;
      // An oversized entry was never read: quarantine keeps its original bytes, read now (one at a time).
      const entry = oversizedBytes(flaggedEntry.entry) === undefined ? flaggedEntry.entry : await readWholeEntry(this.#client, key, flaggedEntry.entry.id);
      if (entry === undefined) continue;
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
   * Walks one stream newest to oldest, deciding retention and duplicates entry by entry (bounded
   * memory: one page, at most 1,000 ids to delete, the de-duplication window). Removed entries
   * between kept ones are deleted by id (XDEL); the removed tail, everything older than the oldest
   * kept entry, goes with one exact `XTRIM MINID`. Entries that are not valid records are kept:
   * they are scan's business, not compaction's.
   */
  async #compactStream(kind: RecordKind, report: CompactionReport, total: number, options: OperationOptions): Promise<void> {
    const key = this.keys[kind];
    const retention = new NewestFirstRetention(this.retention, this.#clock(), DEDUP_WINDOW);
    let oldestKept: string | undefined;
    let newestSeen: string | undefined;
    // The current run of removed entries (newest first): its ids while few, else only its bounds.
    let run: string[] = [];
    let runNewest: string | undefined;
    let runOverflow = false;
    const deleteRun = async () => {
      if (runOverflow) {
        // Too long to hold: the run is exactly the entries between the kept one and runNewest.
        for await (const page of pagesForward(this.#client, key, 1_000, this.#maxEntryBytes, `(${oldestKept!}`, runNewest!)) {
          await this.#client.xdel(key, ...page.map((e) => e.id));
        }
      } else if (run.length > 0) {
        await this.#client.xdel(key, ...run);
      }
      run = [];
      runNewest = undefined;
      runOverflow = false;
    };
    for await (const page of pagesBackward(this.#client, key, this.#pageSize, this.#maxEntryBytes)) {
      if (options.signal?.aborted) throw abortedError('The compaction');
      newestSeen ??= page[0]!.id;
      for (const entry of page) {
        const verdict = inspectEntry(entry, kind, this.#maxEntryBytes);
        const bytes = entryBytes(entry);
        report.beforeRecords += 1;
        report.beforeBytes += bytes;
        if (!verdict.ok || retention.decide(verdict.record, verdict.bytes) === 'keep') {
          oldestKept = entry.id;
          await deleteRun();
          continue;
        }
        report.removedRecords += 1;
        report.reclaimedBytes += bytes;
        runNewest ??= entry.id;
        if (runOverflow) continue;
        run.push(entry.id);
        if (run.length > 1_000) {
          run = [];
          runOverflow = true;
        }
      }
      options.onProgress?.({ phase: 'compact', processed: report.beforeRecords, total: Math.max(total, report.beforeRecords), unit: 'entries' });
    }
    // What is left is older than the oldest kept entry (or is all that was read, if none is kept).
    if (runNewest !== undefined) await this.#client.xtrim(key, 'MINID', oldestKept ?? nextId(newestSeen!));
  }

  /** Counts stored records per kind; every max(`maxRecords`, 100) of them, trims what lists no longer show. */
  #maybeTrim(kind: RecordKind, records: number): void {
    if (this.#trimEvery === undefined || this.#closing) return;
    const since = (this.#sinceTrim.get(kind) ?? 0) + records;
    this.#sinceTrim.set(kind, since);
    if (since < this.#trimEvery || this.#trims.has(kind)) return;
    this.#sinceTrim.set(kind, 0);
    const trim = this.#trimOlderThanVisible(kind)
      .catch((error: unknown) => this.#log.debug({ err: { message: describeError(error) }, stream: this.keys[kind] }, 'trim-on-write skipped'))
      .finally(() => this.#trims.delete(kind));
    this.#trims.set(kind, trim);
  }

  /**
   * Trim-on-write: walks the newest entries, as a list does, until retention is full; everything
   * older than the oldest record a list shows then goes with one exact `XTRIM MINID`. So it never
   * removes a record a list still shows, whatever retention hides among the newest entries (aged
   * records, duplicates, invalid entries); `MAXLEN ~` could. Gives up (trims nothing) when the
   * answer is not decided within a bounded number of entries; `compact()` handles the rest.
   */
  async #trimOlderThanVisible(kind: RecordKind): Promise<void> {
    const key = this.keys[kind];
    const retention = new NewestFirstRetention(this.retention, this.#clock(), DEDUP_WINDOW);
    const budget = 4 * this.#trimEvery! + this.#pageSize;
    let read = 0;
    let oldestShown: string | undefined;
    for await (const page of pagesBackward(this.#client, key, this.#trimEvery! + 8, this.#maxEntryBytes)) {
      for (const entry of page) {
        const verdict = inspectEntry(entry, kind, this.#maxEntryBytes);
        if (verdict.ok && retention.decide(verdict.record, verdict.bytes) === 'keep') oldestShown = entry.id;
        if (retention.full) {
          if (oldestShown !== undefined) await this.#client.xtrim(key, 'MINID', oldestShown);
          return;
        }
      }
      read += page.length;
      if (read >= budget) return;
    }
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new PapyraError('PAPYRA_INVALID_CONFIG', `${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return value;
}

