import { mkdir } from 'node:fs/promises';
import {
  PapyraError,
  PersistenceMetrics,
  RECORD_KINDS,
  applyListQuery,
  encodeRecord,
  matchesQuery,
  normalizeListQuery,
  normalizeRetention,
  redactSecrets,
  redactError,
  silentLogger,
  systemClock,
  totalOf,
  type Anomaly,
  type BackendCapabilities,
  type CompactionReport,
  type KindStats,
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
  type ReadOptions,
  type RetentionPolicy,
  type ScanReport,
  type StoreStats,
  type StoredRecord,
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
import type { RedisClientLike } from './client.js';
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
import { commandError, configError, describeError, isConfigReply, unavailableError } from './errors.js';
import { writeQuarantineFile } from './quarantine.js';
import { NewestFirstRetention } from './retention.js';
import { entryBytes, inspectEntry, nextId, oversizedBytes, pagesBackward, pagesForward, readWholeEntry, type RawEntry } from './streams.js';
import { streamKeys, type StreamKeys } from './keys.js';
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
   * An ioredis 5.x or 6.x `Redis` (or `Cluster`, which needs `cluster: true`) you own: the backend
   * reads through it and never closes it; writes go through a duplicate connection the backend owns.
   */
  client?: RedisClientLike;
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

/** What lists show of one stream, decided newest first at `now`. */
interface Visible {
  now: number;
  /** Entry ids of the oldest and newest visible records; undefined when none is visible. */
  oldest: string | undefined;
  newest: string | undefined;
  /** Entry ids of older copies of an id seen newer (hidden, as in lists). */
  duplicates: Set<string>;
  stats: KindStats;
}

interface ScanResult {
  anomalies: Anomaly[];
  flagged: Flagged[];
  entries: number;
}

/** What compaction counts while it walks; the report is assembled from it. */
interface CompactionTally {
  beforeRecords: number;
  beforeBytes: number;
  removedRecords: number;
  reclaimedBytes: number;
}

const NAME = 'redis';

/** Papyra persistence on Redis Streams: one stream per record kind, one `data` field per entry. */
export class RedisBackend implements PersistenceBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = Object.freeze({ scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();
  readonly #guard = new ClosedGuard(NAME);
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
    for (const [name, value] of [
      ['prefix', prefix],
      ['systemId', systemId],
    ] as const) {
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

  /**
   * The visible records (what lists show: retention applied, one copy per id, damaged and oversized
   * entries skipped) of `kinds` with `since <= timestamp < until`, oldest first per kind, with the
   * stored `data` as `line`. Two passes per stream: newest-first to decide retention and find the
   * older copies of duplicated ids (as lists decide them), then oldest-first from the oldest
   * visible entry, yielding as it reads. Memory: one page, the de-duplication window while
   * deciding, and the ids of duplicate copies.
   */
  async *records(options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    this.#guard.assertOpen();
    throwIfAborted('read', options);
    try {
      await this.#prepare('read');
    } catch (error) {
      throw commandError('read', error, this.#cluster);
    }
    const { since, until } = options;
    for (const kind of RECORD_KINDS) {
      if (options.kinds !== undefined && !options.kinds.includes(kind)) continue;
      const key = this.keys[kind];
      let visible: Visible;
      try {
        visible = await this.#visible(kind, options);
      } catch (error) {
        throw commandError('read', error, this.#cluster);
      }
      if (visible.oldest === undefined) continue;
      const oldestAllowed = this.retention.maxAgeMs === undefined ? Number.NEGATIVE_INFINITY : visible.now - this.retention.maxAgeMs;
      const pages = pagesForward(this.#client, key, this.#pageSize, this.#maxEntryBytes, visible.oldest, visible.newest);
      for (;;) {
        let page: IteratorResult<RawEntry[]>;
        try {
          page = await pages.next();
        } catch (error) {
          throw commandError('read', error, this.#cluster);
        }
        if (page.done) break;
        throwIfAborted('read', options);
        for (const entry of page.value) {
          const verdict = inspectEntry(entry, kind, this.#maxEntryBytes);
          // Between the oldest and newest visible entries, retention hid only aged records and older copies.
          if (!verdict.ok || verdict.record.timestamp < oldestAllowed || visible.duplicates.has(entry.id)) continue;
          const { timestamp } = verdict.record;
          if ((since !== undefined && timestamp < since) || (until !== undefined && !(timestamp < until))) continue;
          yield { record: verdict.record, line: verdict.data.toString('utf8') };
        }
      }
    }
  }

  /**
   * Records, bytes (the stored `data` plus one, as a file line), oldest and newest timestamp of
   * the visible records, per kind. XLEN cannot answer this (it counts duplicates, invalid entries
   * and what retention hides, and knows no sizes or timestamps), so each stream is read once,
   * newest first, deciding entry by entry as lists do, and stops where retention is full.
   */
  async stats(options: { signal?: AbortSignal } = {}): Promise<StoreStats> {
    this.#guard.assertOpen();
    throwIfAborted('statistics', options);
    try {
      await this.#prepare('statistics');
      const kinds = {} as StoreStats['kinds'];
      for (const kind of RECORD_KINDS) kinds[kind] = (await this.#visible(kind, options)).stats;
      return { backend: NAME, kinds, total: totalOf(kinds) };
    } catch (error) {
      throw commandError('statistics', error, this.#cluster);
    }
  }

  /** One newest-first pass deciding what a list shows of a stream: its bounds, tally and older copies. */
  async #visible(kind: RecordKind, options: { signal?: AbortSignal }): Promise<Visible> {
    const now = this.#clock();
    const retention = new NewestFirstRetention(this.retention, now, DEDUP_WINDOW);
    const visible: Visible = { now, oldest: undefined, newest: undefined, duplicates: new Set(), stats: { records: 0, bytes: 0, oldest: null, newest: null } };
    const { stats } = visible;
    for await (const page of pagesBackward(this.#client, this.keys[kind], this.#pageSize, this.#maxEntryBytes)) {
      throwIfAborted('read', options);
      for (const entry of page) {
        const verdict = inspectEntry(entry, kind, this.#maxEntryBytes);
        if (!verdict.ok) continue;
        const decision = retention.decide(verdict.record, verdict.bytes);
        if (decision === 'duplicate') visible.duplicates.add(entry.id);
        if (retention.full) return visible;
        if (decision !== 'keep') continue;
        visible.newest ??= entry.id;
        visible.oldest = entry.id;
        const { timestamp } = verdict.record;
        stats.records += 1;
        stats.bytes += verdict.bytes;
        if (stats.oldest === null || timestamp < stats.oldest) stats.oldest = timestamp;
        if (stats.newest === null || timestamp > stats.newest) stats.newest = timestamp;
      }
    }
    return visible;
  }

  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#guard.assertOpen();
    throwIfAborted('scan', options);
    try {
      return await observeScan(this.metrics, this.#log, async () => {
        await this.#prepare('scan');
        return { backend: NAME, anomalies: (await this.#scan(options)).anomalies };
      });
    } catch (error) {
      throw commandError('scan', error);
    }
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#guard.assertOpen();
    const { mode, quarantineDir } = checkRecoveryConfig(config);
    throwIfAborted('recovery', options);
    try {
      return await observeRecovery(this.metrics, this.#log, () => this.#recover(mode, quarantineDir, options));
    } catch (error) {
      throw commandError('recovery', error);
    }
  }

  /** Scan, then delete or quarantine what it flagged (by entry id), then scan again. */
  async #recover(mode: RecoveryConfig['mode'], quarantineDir: string | undefined, options: OperationOptions): Promise<RecoveryReport> {
    await this.#prepare('recovery');
    const found = await this.#scan(options);
    const scan = { backend: NAME, anomalies: found.anomalies };
    const repaired = new Set<string>();
    const quarantined: string[] = [];
    let dropped = 0;
    if (mode === 'repair') {
      dropped = await this.#deleteEntries(found.flagged, repaired, options.signal);
    } else if (mode === 'quarantine') {
      dropped = await this.#quarantine(found.flagged, quarantineDir!, repaired, quarantined, options.signal);
    }
    const postScan = { backend: NAME, anomalies: (await this.#scan({})).anomalies };
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
  }

  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#guard.assertOpen();
    throwIfAborted('compaction', options);
    try {
      return await observeCompaction(this.metrics, this.#log, async () => {
        await this.#prepare('compaction');
        const tally: CompactionTally = { beforeRecords: 0, beforeBytes: 0, removedRecords: 0, reclaimedBytes: 0 };
        const total = await this.#totalEntries();
        for (const kind of RECORD_KINDS) await this.#compactStream(kind, tally, total, options);
        const { beforeRecords, beforeBytes } = tally;
        return compactionReport(NAME, {
          beforeRecords,
          beforeBytes,
          afterRecords: beforeRecords - tally.removedRecords,
          afterBytes: beforeBytes - tally.reclaimedBytes,
        });
      });
    } catch (error) {
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
    this.#guard.assertOpen();
    await this.#writes.flush(() => this.#lastConnectionError);
  }

  /**
   * PING, bounded by `timeoutMs` (default 1,000 ms): resolves when Redis answers. Rejects with
   * PAPYRA_BACKEND_UNAVAILABLE, at once with the connection error as `cause` while Redis cannot
   * be reached (e.g. ECONNREFUSED), or with `details.timeout: true` when nothing happened in time
   * (a frozen server, a silent network); PAPYRA_INVALID_CONFIG for refused credentials;
   * PAPYRA_ABORTED when `signal` fires. Never changes the store.
   */
  async probe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.#guard.assertOpen();
    const timeoutMs = positive('timeoutMs', options.timeoutMs, 1_000);
    throwIfAborted('probe', options);
    const client = this.#client;
    const { signal } = options;
    // One timer and the client's own events decide: whichever comes first settles the probe.
    await new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown) => {
        clearTimeout(timer);
        client.off('ready', ping);
        client.off('error', refused);
        signal?.removeEventListener('abort', aborted);
        if (error === undefined) resolve();
        else reject(commandError('probe', error, this.#cluster));
      };
      const ping = () => {
        client.off('ready', ping);
        client.ping().then((reply) => finish(reply === 'PONG' ? undefined : new Error(`unexpected PING reply ${JSON.stringify(reply)}`)), finish);
      };
      const refused = (error: unknown) =>
        finish(isConfigReply(error) ? configError(`probe: ${describeError(error)}`, error) : unavailableError('probe: cannot connect', error));
      const aborted = () => {
        try {
          throwIfAborted('probe', options);
        } catch (error) {
          finish(error);
        }
      };
      const timer = setTimeout(() => finish(unavailableError(`probe: no answer within ${timeoutMs} ms`, undefined, { timeout: true, timeoutMs })), timeoutMs);
      signal?.addEventListener('abort', aborted, { once: true });
      if (client.status === 'ready') return ping();
      // Not connected: the last connection error (cleared on 'ready') is the answer, else the next one.
      if (this.#lastConnectionError !== undefined) return refused(this.#lastConnectionError);
      if (client.status === 'end') return finish(unavailableError('probe: the connection has ended'));
      client.on('ready', ping);
      client.on('error', refused);
      startConnecting(client);
    });
  }

  /**
   * Flushes (bounded by `flushTimeoutMs` without progress), then quits the connections it created.
   * Records not stored by then are dropped and counted: `details.dropped`, of which
   * `details.inDoubt` were sent without a reply (a frozen server may still apply them later).
   * close rejects whenever something was dropped.
   */
  close(): Promise<void> {
    this.#guard.markClosed();
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

  async #write(kind: RecordKind, record: PersistedRecord): Promise<void> {
    this.#guard.assertOpen();
    validateRecord(record, kind);
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
    this.#guard.assertOpen();
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
        throwIfAborted('scan', options);
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
      throwIfAborted('recovery', { signal });
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
      throw new PapyraError('PAPYRA_IO', `Cannot create the quarantine directory: ${describeError(error)}`, {
        cause: redactError(error),
        details: { quarantineDir: dir },
      });
    }
    let dropped = 0;
    for (const flaggedEntry of flagged) {
      throwIfAborted('recovery', { signal });
      const { key, anomaly } = flaggedEntry;
      // An oversized entry was never read: quarantine keeps its original bytes, read now (one at a time).
      const entry = oversizedBytes(flaggedEntry.entry) === undefined ? flaggedEntry.entry : await readWholeEntry(this.#client, key, flaggedEntry.entry.id);
      if (entry === undefined) continue;
      files.push(await writeQuarantineFile(dir, key, entry, anomaly));
      const copy: (string | Buffer)[] = ['source', key, 'entry_id', entry.id, 'anomaly', anomaly.type, 'detail', anomaly.detail];
      for (let i = 0; i + 1 < entry.fields.length; i += 2) copy.push(Buffer.concat([Buffer.from('field:'), entry.fields[i]!]), entry.fields[i + 1]!);
      const results =
        (await this.#client
          .multi()
          .xadd(this.keys.quarantine, '*', ...copy)
          .xdel(key, entry.id)
          .exec()) ?? [];
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
  async #compactStream(kind: RecordKind, report: CompactionTally, total: number, options: OperationOptions): Promise<void> {
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
      throwIfAborted('compaction', options);
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
    if (this.#trimEvery === undefined || this.#guard.closed) return;
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
  if (!Number.isInteger(value) || value <= 0)
    throw new PapyraError('PAPYRA_INVALID_CONFIG', `${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return value;
}
