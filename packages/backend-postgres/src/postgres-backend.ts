import pg from 'pg';
import {
  contentId,
  encodeRecord,
  hasRetention,
  inspectLine,
  matchesQuery,
  normalizeListQuery,
  normalizeRetention,
  PapyraError,
  PersistenceMetrics,
  RECORD_KINDS,
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
  type ReadOptions,
  type RecordKind,
  type RecoveryConfig,
  type RecoveryReport,
  type RetentionPolicy,
  type ScanReport,
  type StoredRecord,
  type StoreStats,
  totalOf,
  type KindStats,
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
import { sqlState, timeoutError, toPapyraError } from './errors.js';
import { migrate, type MigrationResult } from './migrate.js';
import { bounded, inTransaction, statement, type Bounds, type PostgresPool, type Query } from './pool.js';
import { writeQuarantineFile, type QuarantinedRow } from './quarantine.js';
import { filterColumns, storeNames, type StoreNames } from './schema.js';
import { WriteQueue, type Row } from './writer.js';

export interface PostgresBackendOptions {
  /** `postgres://user:password@host:port/db`; the backend creates (and on close ends) its own pool. */
  connectionString?: string;
  /** A pool you own (a `pg.Pool`); the backend never ends it. */
  pool?: PostgresPool;
  /** Default `papyra_records`; at most 48 bytes (side tables and indexes derive their names from it). */
  table?: string;
  /** Default: the connection's search_path (normally `public`). Created by `ensureSchema()` if missing. */
  schema?: string;
  /**
   * The system this backend writes as and reads, default `local`: its rows carry it in `system_id`,
   * and lists, retention, scan, recovery and compaction see only them. Systems sharing a table are
   * isolated by giving each its own systemId.
   */
  systemId?: string;
  /** Reads, scan, recovery, retention and compaction cover every system's rows (an operator's view). Writes still go to `systemId`. Default false. */
  allSystems?: boolean;
  retention?: RetentionPolicy;
  clock?: WallClock;
  logger?: Logger;
  /** Rows per INSERT statement, at most 13000. Default 1000. */
  batchSize?: number;
  /** Records held while PostgreSQL is unreachable; writes beyond it are dropped. Default 10000. */
  bufferLimit?: number;
  /** Run `ensureSchema()` before the first write. Default true. */
  migrate?: boolean;
  /** For a pool the backend creates: PostgreSQL `application_name`. Default `papyra`. */
  applicationName?: string;
  /** For a pool the backend creates: how long a connection attempt may take. Default 5000 ms. */
  connectionTimeoutMillis?: number;
  /** How long an operation waits for a connection from the pool, connecting included (either pool). Default 5000 ms. */
  acquireTimeoutMs?: number;
  /** `statement_timeout` of writes and reads; the client gives up 1 s later if the server does not answer. Default 10000 ms. */
  statementTimeoutMs?: number;
  /** `statement_timeout` of migrations, compaction and recovery, which touch many rows. Default 300000 ms. */
  maintenanceTimeoutMs?: number;
  /** `lock_timeout`: how long a statement waits for a table another session locked, then PAPYRA_LOCKED. Default 3000 ms. */
  lockTimeoutMs?: number;
  /** Rows whose data is larger are never loaded: scan reports them (CORRUPTED_ENTRY), lists skip them. Default 16 MiB. */
  maxRowBytes?: number;
  /** For a pool the backend creates: maximum connections. Default 4. */
  poolSize?: number;
}

const SCAN_PAGE = 1000;
// Above every seq: a retention cutoff that keeps nothing.
const MAX_SEQ = '9223372036854775807';
const DEFAULT_MAX_ROW_BYTES = 16 * 1024 * 1024;
// Bounds the size of one INSERT statement (its parameters are arrays, one per column).
const MAX_BATCH = 13_000;
const NAME = 'postgres';

/** Rows whose data a scan flagged: `seq` (bigint, which pg hands over as a string), with the anomaly that flagged it. */
interface Flagged {
  seq: string;
  /** octet_length(data), to page the quarantine reads by size. */
  bytes: number;
  anomaly: Anomaly;
}

/** A scan page row: `data` is null when the row is over maxRowBytes (not loaded). */
interface ScanRow {
  seq: string;
  id: string;
  kind: string;
  bytes: number | null;
  data: string | null;
}

interface ScanPass {
  report: ScanReport;
  flagged: Flagged[];
  valid: number;
}

/** Papyra persistence in one PostgreSQL table (SPEC §7 postgres). */
export class PostgresBackend implements PersistenceBackend {
  readonly name = NAME;
  readonly capabilities: BackendCapabilities = Object.freeze({ scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();

  readonly #pool: PostgresPool;
  readonly #ownsPool: boolean;
  readonly #names: StoreNames;
  readonly #systemId: string;
  readonly #allSystems: boolean;
  readonly #maxRowBytes: number;
  /** Bounds of writes and reads. */
  readonly #bounds: Bounds;
  /** Bounds of migrations, compaction and recovery. */
  readonly #maintenance: Bounds;
  readonly #clock: WallClock;
  readonly #logger: Logger;
  readonly #queue: WriteQueue;
  readonly #autoMigrate: boolean;
  readonly #onPoolError: (err: Error) => void;
  readonly #guard = new ClosedGuard(NAME);
  #schemaReady: Promise<MigrationResult> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PostgresBackendOptions) {
    const { connectionString, pool } = options;
    if ((connectionString === undefined) === (pool === undefined)) {
      throw new PapyraError('PAPYRA_INVALID_CONFIG', 'PostgresBackend needs exactly one of connectionString or pool.');
    }
    this.#names = storeNames(options.table ?? 'papyra_records', options.schema);
    this.retention = normalizeRetention(options.retention);
    const systemId = options.systemId ?? 'local';
    if (typeof systemId !== 'string' || systemId === '')
      throw new PapyraError('PAPYRA_INVALID_CONFIG', `systemId must be a non-empty string, got ${JSON.stringify(systemId)}.`);
    this.#systemId = systemId;
    this.#allSystems = options.allSystems === true;
    this.#maxRowBytes = positiveInteger('maxRowBytes', options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES);
    const connectionTimeoutMillis = positiveInteger('connectionTimeoutMillis', options.connectionTimeoutMillis ?? 5_000);
    this.#bounds = {
      acquireTimeoutMs: positiveInteger('acquireTimeoutMs', options.acquireTimeoutMs ?? 5_000),
      statementTimeoutMs: positiveInteger('statementTimeoutMs', options.statementTimeoutMs ?? 10_000),
      lockTimeoutMs: positiveInteger('lockTimeoutMs', options.lockTimeoutMs ?? 3_000),
      // Our own pool opens its connections with these timeouts, which saves setting them per statement.
      preset: pool === undefined,
    };
    this.#maintenance = {
      ...this.#bounds,
      statementTimeoutMs: positiveInteger('maintenanceTimeoutMs', options.maintenanceTimeoutMs ?? 300_000),
      preset: false,
    };
    this.#clock = options.clock ?? systemClock;
    this.#autoMigrate = options.migrate ?? true;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'persistence', backend: NAME });
    const batchSize = positiveInteger('batchSize', options.batchSize ?? 1000);
    if (batchSize > MAX_BATCH) throw new PapyraError('PAPYRA_INVALID_CONFIG', `batchSize must be at most ${MAX_BATCH}, got ${batchSize}.`);
    const bufferLimit = positiveInteger('bufferLimit', options.bufferLimit ?? 10_000);

    this.#ownsPool = pool === undefined;
    this.#pool =
      pool ??
      this.#createPool({
        connectionString: connectionString!,
        application_name: options.applicationName ?? 'papyra',
        connectionTimeoutMillis,
        max: positiveInteger('poolSize', options.poolSize ?? 4),
        statement_timeout: this.#bounds.statementTimeoutMs,
        lock_timeout: this.#bounds.lockTimeoutMs,
      });
    // An idle pooled connection that the server drops emits 'error' on the pool; unhandled, that kills the process.
    this.#onPoolError = (err) => this.#logger.warn({ err: redactError(err) }, 'idle PostgreSQL connection failed; the pool replaces it');
    this.#pool.on('error', this.#onPoolError);

    this.#queue = new WriteQueue({ insert: (rows) => this.#insert(rows), batchSize, bufferLimit, metrics: this.metrics, logger: this.#logger });
  }

  #createPool(config: pg.PoolConfig): PostgresPool {
    const pool = new pg.Pool(config);
    // pg-pool hands a client out through a promise, so between its removing the idle 'error'
    // listener and our adding one there is a microtask gap: a server termination that arrives in
    // the same socket read as the connection's ready message would be an unhandled 'error' and
    // kill the process. Every client of our own pool keeps this listener for life.
    pool.on('connect', (client) => client.on('error', (err) => this.#logger.debug({ err: redactError(err) }, 'PostgreSQL connection failed')));
    return pool as unknown as PostgresPool;
  }

  /** Creates or upgrades the table, indexes and quarantine table; safe to call from many processes at once. */
  async ensureSchema(): Promise<MigrationResult> {
    this.#guard.assertOpen();
    return this.#ensureSchema();
  }

  recordEvent(event: PersistedEvent): Promise<void> {
    return this.#record('event', event);
  }

  recordAudit(audit: PersistedAudit): Promise<void> {
    return this.#record('audit', audit);
  }

  recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void> {
    return this.#record('dead_letter', deadLetter);
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
   * Streams the visible records (what lists show) of `kinds` with `since <= timestamp < until`,
   * oldest first per kind, as they stood when each kind's stream began: keyset pages of at most
   * 1000 rows and 2 × maxRowBytes of data, so memory stays bounded whatever the table holds.
   */
  async *records(options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    this.#guard.assertOpen();
    const kinds = readKinds(options.kinds);
    for (const bound of ['since', 'until'] as const) {
      const value = options[bound];
      if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
        throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `${bound} must be epoch milliseconds, got ${JSON.stringify(value)}.`);
      }
    }
    await this.#queue.flush();
    for (const kind of RECORD_KINDS) {
      if (!kinds.includes(kind)) continue;
      throwIfAborted('read', options);
      // The retained window is fixed when the kind's stream begins; rows written later are not part of it.
      const windowParams: unknown[] = [];
      const window = await this.#read<{ low: string; high: string | null }>(
        'read records',
        `SELECT ${this.#cutoffSql(kind, windowParams) ?? '0'}::text AS low, (SELECT max(seq) FROM ${this.#names.table} WHERE ${this.#scope(kind, windowParams).join(' AND ')})::text AS high`,
        windowParams,
      );
      const { low, high } = window[0] ?? { low: '0', high: null };
      if (high === null) continue;
      let after = '0';
      for (;;) {
        throwIfAborted('read', options);
        const params: unknown[] = [];
        const p = (value: unknown) => `$${params.push(value)}`;
        const where = this.#scope(kind, params);
        where.push(`seq >= ${p(low)}::bigint`, `seq <= ${p(high)}::bigint`, `seq > ${p(after)}::bigint`, `octet_length(data) <= ${p(this.#maxRowBytes)}`);
        if (this.retention.maxAgeMs !== undefined) where.push(`timestamp_ms >= ${p(this.#clock() - this.retention.maxAgeMs)}`);
        if (options.since !== undefined) where.push(`timestamp_ms >= ${p(options.since)}`);
        if (options.until !== undefined) where.push(`timestamp_ms < ${p(options.until)}`);
        // A page ends once the data it holds passes 2 × maxRowBytes (its first row always comes).
        const rows = await this.#read<{ seq: string; data: string }>(
          'read records',
          `SELECT seq, data FROM (
             SELECT r.*, sum(octet_length(data)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - octet_length(data) AS before
             FROM (SELECT seq, data FROM ${this.#names.table} WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${SCAN_PAGE}) r
           ) page WHERE before < ${p(2 * this.#maxRowBytes)} ORDER BY seq`,
          params,
        );
        if (rows.length === 0) break;
        for (const row of rows) {
          const verdict = inspectLine(row.data);
          if (verdict.ok && verdict.record.kind === kind) yield { record: verdict.record, line: row.data };
        }
        after = rows[rows.length - 1]!.seq;
      }
    }
  }

  /**
   * Records, bytes (`octet_length(data) + 1`), oldest and newest timestamp per kind of the visible
   * rows, from SQL aggregates in one statement: retention applied, rows over maxRowBytes left out.
   */
  async stats(options: { signal?: AbortSignal } = {}): Promise<StoreStats> {
    this.#guard.assertOpen();
    await this.#queue.flush();
    throwIfAborted('statistics', options);
    const params: unknown[] = [];
    const maxRow = `$${params.push(this.#maxRowBytes)}`;
    const perKind = RECORD_KINDS.map(
      (kind) =>
        `SELECT ${`$${params.push(kind)}`}::text AS kind, count(*)::text AS records, coalesce(sum(octet_length(data) + 1), 0)::text AS bytes,
                min(timestamp_ms) AS oldest, max(timestamp_ms) AS newest
         FROM ${this.#names.table} WHERE ${this.#retainedWhere(kind, params).join(' AND ')} AND octet_length(data) <= ${maxRow}`,
    );
    const rows = await this.#read<{ kind: RecordKind; records: string; bytes: string; oldest: number | null; newest: number | null }>(
      'measure the table',
      perKind.join(' UNION ALL '),
      params,
    );
    const kinds = { event: emptyStats(), audit: emptyStats(), dead_letter: emptyStats() };
    for (const row of rows) kinds[row.kind] = { records: Number(row.records), bytes: Number(row.bytes), oldest: row.oldest, newest: row.newest };
    return { backend: NAME, kinds, total: totalOf(kinds) };
  }

  async flush(): Promise<void> {
    this.#guard.assertOpen();
    await this.#queue.flush();
  }

  async scan(options: OperationOptions = {}): Promise<ScanReport> {
    this.#guard.assertOpen();
    await this.#queue.flush();
    return (await this.#observedScan(options)).report;
  }

  async recover(config: RecoveryConfig, options: OperationOptions = {}): Promise<RecoveryReport> {
    this.#guard.assertOpen();
    const { mode, quarantineDir } = checkRecoveryConfig(config);
    await this.#queue.flush();
    return observeRecovery(this.metrics, this.#logger, async () => {
      try {
        const first = await this.#observedScan(options);
        const repairedFiles: string[] = [];
        const quarantinedFiles: string[] = [];
        let dropped = 0;
        if (mode !== 'ignore' && first.flagged.length > 0) {
          if (quarantineDir !== undefined) {
            await this.#ensureSchema(); // the quarantine table may postdate this store
            quarantinedFiles.push(await writeQuarantineFile(quarantineDir, this.#names.label, this.#flaggedRows(first.flagged)));
          }
          dropped = await this.#removeFlagged(first.flagged, quarantineDir !== undefined);
          repairedFiles.push(this.#names.label);
        }
        const postScan = (await this.#observedScan(options)).report;
        return { backend: NAME, mode, scan: first.report, postScan, repairedFiles, quarantinedFiles, keptRecords: first.valid, droppedRecords: dropped };
      } catch (error) {
        throw toPapyraError('recover the table', error);
      }
    });
  }

  async compact(options: OperationOptions = {}): Promise<CompactionReport> {
    this.#guard.assertOpen();
    await this.#queue.flush();
    return observeCompaction(this.metrics, this.#logger, async () => {
      try {
        throwIfAborted('compaction', options);
        return await this.#compact();
      } catch (error) {
        throw toPapyraError('compact the table', error);
      }
    });
  }

  /**
   * Bounded, read-only readiness check: `SELECT 1`, and when the table exists, that a write could
   * lock it now (`LOCK TABLE … IN ROW EXCLUSIVE MODE NOWAIT` in a transaction rolled back), so a
   * table lock that blocks writes fails readiness with PAPYRA_LOCKED. Never changes data.
   */
  async probe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    this.#guard.assertOpen();
    const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 1_000, 'PAPYRA_INVALID_ARGUMENT');
    const bounds: Bounds = { acquireTimeoutMs: timeoutMs, statementTimeoutMs: timeoutMs, lockTimeoutMs: timeoutMs };
    const check = inTransaction(
      this.#pool,
      bounds,
      async (query) => {
        await query('SELECT 1');
        const { rows } = await query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [this.#names.table]);
        if (rows[0]?.t) await query(`LOCK TABLE ${this.#names.table} IN ROW EXCLUSIVE MODE NOWAIT`);
      },
      { rollback: true, ...(options.signal && { signal: options.signal }) },
    );
    try {
      await bounded(check, timeoutMs, () => timeoutError('the probe', timeoutMs), options.signal);
    } catch (error) {
      throw toPapyraError('probe the server', error);
    }
  }

  /**
   * Flushes, then ends the pool if the backend created it. Idempotent. Bounded: the flush makes one
   * bounded attempt, and a pool whose connections do not end in time is left to end by itself.
   */
  close(): Promise<void> {
    if (!this.#guard.markClosed()) return this.#closing!;
    this.#closing = (async () => {
      try {
        await this.#queue.close();
      } finally {
        this.#pool.removeListener('error', this.#onPoolError);
        if (this.#ownsPool) {
          const ms = this.#bounds.acquireTimeoutMs;
          await bounded(this.#pool.end(), ms, () => timeoutError('ending the pool', ms)).catch((err: unknown) =>
            this.#logger.warn({ err: redactError(err) }, 'ending the PostgreSQL pool failed'),
          );
        }
      }
    })();
    return this.#closing;
  }

  /** A scan pass, counted in metrics (scan() and each of recovery's passes alike). */
  #observedScan(options: OperationOptions): Promise<ScanPass> {
    return observeScan(this.metrics, this.#logger, async () => {
      try {
        return await this.#scanPass(options);
      } catch (error) {
        throw toPapyraError('scan the table', error);
      }
    });
  }

  #ensureSchema(): Promise<MigrationResult> {
    this.#schemaReady ??= migrate(this.#pool, this.#maintenance, this.#names, this.#logger).catch((error: unknown) => {
      this.#schemaReady = undefined; // try again next time (the database may be back)
      throw toPapyraError('migrate the schema', error);
    });
    return this.#schemaReady;
  }

  async #record(kind: RecordKind, record: PersistedRecord): Promise<void> {
    this.#guard.assertOpen();
    try {
      validateRecord(record, kind);
    } catch (error) {
      this.metrics.writeFailed(1, error);
      throw error;
    }
    return this.#queue.push(toRow(record, this.#systemId));
  }

  async #insert(rows: Row[]): Promise<void> {
    if (this.#autoMigrate) await this.#ensureSchema();
    const column = <K extends keyof Row>(key: K) => rows.map((r) => r[key]);
    const params = [
      column('id'),
      column('kind'),
      column('systemId'),
      column('timestampMs'),
      column('data'),
      column('actor'),
      column('eventType'),
      column('target'),
    ];
    // One statement per batch, one array parameter per column; rows are inserted in list order
    // (ORDER BY ord), so `seq` follows acceptance order. A resent batch hits ON CONFLICT and adds nothing.
    await inTransaction(this.#pool, this.#bounds, (query) =>
      query(
        `INSERT INTO ${this.#names.table} (id, kind, system_id, timestamp_ms, data, actor, event_type, target)
         SELECT id, kind, system_id, timestamp_ms, data, actor, event_type, target
         FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[])
           WITH ORDINALITY AS r(id, kind, system_id, timestamp_ms, data, actor, event_type, target, ord)
         ORDER BY ord
         ON CONFLICT (id) DO NOTHING`,
        params,
      ),
    );
  }

  async #list(kind: RecordKind, query: ListQuery | undefined): Promise<PersistedRecord[]> {
    this.#guard.assertOpen();
    const q = normalizeListQuery(query);
    await this.#queue.flush();
    if (q.limit === 0) return [];
    const params: unknown[] = [];
    const p = (value: unknown) => `$${params.push(value)}`;
    const where = this.#retainedWhere(kind, params);
    // Oversized rows are filtered here, in SQL, so their bytes never reach this process.
    where.push(`octet_length(data) <= ${p(this.#maxRowBytes)}`);
    if (q.since !== undefined) where.push(`timestamp_ms >= ${p(q.since)}`);
    // The filters, before LIMIT, on columns with indexes of their own (a kind without the field has NULLs: nothing matches).
    if (q.actor !== undefined) where.push(`actor = ${p(q.actor)}`);
    if (q.eventType !== undefined) where.push(`event_type = ${p(q.eventType)}`);
    if (q.target !== undefined) where.push(`target = ${p(q.target)}`);
    const sql = `SELECT data FROM ${this.#names.table} WHERE ${where.join(' AND ')} ORDER BY seq DESC ${q.limit !== undefined ? `LIMIT ${p(q.limit)}` : ''}`;
    const rows = await this.#read<{ data: string }>('list records', sql, params);
    const records: PersistedRecord[] = [];
    // Newest first from SQL; rows a scan would flag are skipped here (they are the scan's business),
    // as is a row whose filter columns disagree with its data (written by hand).
    for (const row of rows) {
      const verdict = inspectLine(row.data);
      if (verdict.ok && verdict.record.kind === kind && matchesQuery(verdict.record, q)) records.push(verdict.record);
    }
    return q.order === 'desc' ? records : records.reverse();
  }

  /** The rows of one kind in this backend's scope (its system, or every system with allSystems). */
  #scope(kind: RecordKind, params: unknown[]): string[] {
    const where = [`kind = $${params.push(kind)}`];
    if (!this.#allSystems) where.push(`system_id = $${params.push(this.#systemId)}`);
    return where;
  }

  /**
   * The conditions selecting the rows of one kind that retention keeps: the contract's rule
   * (`retainedMask`) in SQL — age first, then the newest maxRecords, then the newest that fit in
   * maxTotalBytes. Count and byte retention keep the newest rows, so they become one lowest `seq`.
   */
  #retainedWhere(kind: RecordKind, params: unknown[]): string[] {
    const where = this.#scope(kind, params);
    if (this.retention.maxAgeMs !== undefined) where.push(`timestamp_ms >= $${params.push(this.#clock() - this.retention.maxAgeMs)}`);
    const cutoff = this.#cutoffSql(kind, params);
    if (cutoff !== undefined) where.push(`seq >= ${cutoff}`);
    return where;
  }

  /**
   * The lowest `seq` that count and byte retention keep of one kind (within age), as an
   * uncorrelated scalar subquery (PostgreSQL evaluates it once); undefined without such retention.
   */
  #cutoffSql(kind: RecordKind, params: unknown[]): string | undefined {
    const { maxRecords, maxTotalBytes, maxAgeMs } = this.retention;
    if (maxRecords === undefined && maxTotalBytes === undefined) return undefined;
    if (maxRecords === 0) return MAX_SEQ;
    const base = this.#scope(kind, params);
    if (maxAgeMs !== undefined) base.push(`timestamp_ms >= $${params.push(this.#clock() - maxAgeMs)}`);
    const from = `FROM ${this.#names.table} WHERE ${base.join(' AND ')}`;
    const byCount = maxRecords === undefined ? undefined : `coalesce((SELECT seq ${from} ORDER BY seq DESC OFFSET ${maxRecords - 1} LIMIT 1), 0)`;
    if (maxTotalBytes === undefined) return byCount;
    // The newest rows whose running size, newest first, fits: PostgreSQL cannot stop a sum() window early.
    return `coalesce((SELECT min(seq) FROM (
        SELECT seq, sum(octet_length(data) + 1) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS cum ${from}${byCount === undefined ? '' : ` AND seq >= ${byCount}`}
      ) w WHERE cum <= $${params.push(maxTotalBytes)}), ${MAX_SEQ})`;
  }

  /** A bounded read statement (on the given transaction's connection, if any); a store that does not exist yet reads as empty. */
  async #read<R extends pg.QueryResultRow>(action: string, sql: string, params: unknown[], query?: Query): Promise<R[]> {
    try {
      if (query !== undefined) return (await query<R>(sql, params)).rows;
      return (await statement<R>(this.#pool, this.#bounds, sql, params)).rows;
    } catch (error) {
      if (isMissingStore(error)) return [];
      throw toPapyraError(action, error);
    }
  }

  async #scanPass(options: OperationOptions): Promise<ScanPass> {
    const anomalies: Anomaly[] = [];
    const flagged: Flagged[] = [];
    let valid = 0;
    let processed = 0;
    let after = '0';
    for (;;) {
      throwIfAborted('scan', options);
      // A page ends once the data it holds passes 2 × maxRowBytes: at most 3 × maxRowBytes in memory.
      const params: unknown[] = [after, this.#maxRowBytes, 2 * this.#maxRowBytes];
      const scope = this.#allSystems ? '' : `AND system_id = $${params.push(this.#systemId)}`;
      // Rows over maxRowBytes come without their data; the first row of a page always comes, so the scan advances.
      const rows = await this.#read<ScanRow>(
        'scan the table',
        `SELECT seq, id, kind, bytes, data FROM (
           SELECT r.*, sum(loaded) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - loaded AS before
           FROM (SELECT seq, id, kind, octet_length(data) AS bytes,
                        CASE WHEN octet_length(data) <= $2 THEN data END AS data,
                        CASE WHEN octet_length(data) <= $2 THEN octet_length(data) ELSE 0 END AS loaded
                 FROM ${this.#names.table} WHERE seq > $1::bigint ${scope} ORDER BY seq LIMIT ${SCAN_PAGE}) r
         ) page WHERE before < $3 ORDER BY seq`,
        params,
      );
      for (const row of rows) {
        const problem = rowProblem(row, this.#maxRowBytes);
        if (problem === undefined) {
          valid += 1;
          continue;
        }
        const anomaly: Anomaly = {
          type: problem.type,
          path: this.#names.label,
          line: null,
          offset: null,
          detail: `row seq=${row.seq} id=${row.id}: ${problem.detail}`,
        };
        anomalies.push(anomaly);
        flagged.push({ seq: row.seq, bytes: row.bytes ?? 0, anomaly });
      }
      if (rows.length === 0) break;
      processed += rows.length;
      options.onProgress?.({ phase: 'scan', processed, total: null, unit: 'rows' });
      after = rows[rows.length - 1]!.seq;
    }
    return { report: { backend: NAME, anomalies }, flagged, valid };
  }

  /** The flagged rows' stored bytes, a page at a time, for the quarantine file. */
  async *#flaggedRows(flagged: Flagged[]): AsyncGenerator<QuarantinedRow> {
    // Pages of at most SCAN_PAGE rows and 2 × maxRowBytes of data, but for one row over the limit alone.
    const pages: Flagged[][] = [];
    let bytes = 0;
    for (const f of flagged) {
      const last = pages[pages.length - 1];
      if (last === undefined || last.length === SCAN_PAGE || bytes + f.bytes > 2 * this.#maxRowBytes) {
        pages.push([f]);
        bytes = f.bytes;
      } else {
        last.push(f);
        bytes += f.bytes;
      }
    }
    for (const page of pages) {
      const bySeq = new Map(page.map((f) => [f.seq, f.anomaly]));
      const rows = await this.#read<{ seq: string; id: string; kind: string; system_id: string; timestamp_ms: number; data: string | null }>(
        'read flagged rows',
        `SELECT seq, id, kind, system_id, timestamp_ms, data FROM ${this.#names.table} WHERE seq = ANY($1::bigint[]) ORDER BY seq`,
        [page.map((f) => f.seq)],
      );
      for (const row of rows) {
        const anomaly = bySeq.get(row.seq)!;
        yield { ...row, anomaly: anomaly.type, detail: anomaly.detail };
      }
    }
  }

  /** Deletes (or moves to the quarantine table) the flagged rows in one transaction. */
  async #removeFlagged(flagged: Flagged[], quarantine: boolean): Promise<number> {
    const n = this.#names;
    return inTransaction(this.#pool, this.#maintenance, async (query) => {
      let removed = 0;
      for (let i = 0; i < flagged.length; i += SCAN_PAGE) {
        const page = flagged.slice(i, i + SCAN_PAGE);
        const seqs = page.map((f) => f.seq);
        if (quarantine) {
          await query(
            `INSERT INTO ${n.quarantine} (seq, id, kind, system_id, timestamp_ms, data, anomaly, detail)
             SELECT t.seq, t.id, t.kind, t.system_id, t.timestamp_ms, t.data, f.anomaly, f.detail
             FROM unnest($1::bigint[], $2::text[], $3::text[]) AS f(seq, anomaly, detail) JOIN ${n.table} t ON t.seq = f.seq
             ON CONFLICT (seq) DO NOTHING`,
            [seqs, page.map((f) => f.anomaly.type), page.map((f) => f.anomaly.detail)],
          );
        }
        const result = await query(`DELETE FROM ${n.table} WHERE seq = ANY($1::bigint[])`, [seqs]);
        removed += result.rowCount ?? 0;
      }
      return removed;
    });
  }

  async #compact(): Promise<CompactionReport> {
    const scope = this.#allSystems ? '' : 'WHERE system_id = $1';
    const scopeParams = this.#allSystems ? [] : [this.#systemId];
    const totals = async (query: Query) => {
      const rows = await this.#read<{ records: string; bytes: string }>(
        'measure the table',
        `SELECT count(*)::text AS records, coalesce(sum(octet_length(data) + 1), 0)::text AS bytes FROM ${this.#names.table} ${scope}`,
        scopeParams,
        query,
      );
      return { records: Number(rows[0]?.records ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
    };
    const exists = (await this.#read<{ t: string | null }>('find the table', 'SELECT to_regclass($1)::text AS t', [this.#names.table]))[0]?.t;
    if (!exists) return compactionReport(NAME, { beforeRecords: 0, afterRecords: 0, beforeBytes: 0, afterBytes: 0 });
    // One transaction: a crash leaves the table as it was or fully compacted.
    const { before, after } = await inTransaction(this.#pool, this.#maintenance, async (query) => {
      const before = await totals(query);
      if (hasRetention(this.retention)) {
        for (const kind of RECORD_KINDS) {
          const params: unknown[] = [];
          const scope = this.#scope(kind, params);
          const kept = this.#retainedWhere(kind, params);
          await query(`DELETE FROM ${this.#names.table} WHERE ${scope.join(' AND ')} AND NOT (${kept.join(' AND ')})`, params);
        }
      }
      return { before, after: await totals(query) };
    });
    return compactionReport(NAME, { beforeRecords: before.records, afterRecords: after.records, beforeBytes: before.bytes, afterBytes: after.bytes });
  }
}

/** The row of a validated record, in the backend's system (the record's own systemId stays in its data). */
function toRow(record: PersistedRecord, systemId: string): Row {
  const data = encodeRecord(record);
  return {
    // Id-less records (from Python Papyra stores) get an id derived from their bytes, so that a
    // resent batch still cannot duplicate them; the stored data keeps `"id": null`.
    id: record.id ?? contentId(data),
    kind: record.kind,
    systemId,
    timestampMs: record.timestamp,
    data,
    bytes: Buffer.byteLength(data, 'utf8') + 1,
    ...filterColumns(record),
  };
}

/** The kinds a read asks for, checked: an unknown kind is PAPYRA_INVALID_ARGUMENT. */
function readKinds(kinds: readonly RecordKind[] | undefined): readonly RecordKind[] {
  if (kinds === undefined) return RECORD_KINDS;
  if (!Array.isArray(kinds)) throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `kinds must be an array of record kinds, got ${JSON.stringify(kinds)}.`);
  for (const kind of kinds) {
    if (!RECORD_KINDS.includes(kind)) throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `Unknown record kind ${JSON.stringify(kind)}.`);
  }
  return kinds;
}

function emptyStats(): KindStats {
  return { records: 0, bytes: 0, oldest: null, newest: null };
}

function rowProblem(row: ScanRow, maxRowBytes: number): { type: Anomaly['type']; detail: string } | undefined {
  if (row.bytes !== null && row.bytes > maxRowBytes)
    return { type: 'CORRUPTED_ENTRY', detail: `data of ${row.bytes} bytes is over the ${maxRowBytes}-byte limit (maxRowBytes); not loaded` };
  if (typeof row.data !== 'string') return { type: 'CORRUPTED_ENTRY', detail: 'data is missing' };
  const verdict = inspectLine(row.data);
  if (!verdict.ok) return { type: verdict.type === 'CORRUPTED_LINE' ? 'CORRUPTED_ENTRY' : 'INVALID_RECORD', detail: verdict.detail };
  if (verdict.record.kind !== row.kind)
    return { type: 'INVALID_RECORD', detail: `kind column is ${JSON.stringify(row.kind)} but the record is a ${verdict.record.kind}` };
  return undefined;
}

/** 42P01 undefined_table, 3F000 invalid_schema_name: nothing was ever written here. */
function isMissingStore(error: unknown): boolean {
  const state = sqlState(error);
  return state === '42P01' || state === '3F000';
}

function positiveInteger(name: string, value: number, code: 'PAPYRA_INVALID_CONFIG' | 'PAPYRA_INVALID_ARGUMENT' = 'PAPYRA_INVALID_CONFIG'): number {
  if (!Number.isInteger(value) || value < 1) throw new PapyraError(code, `${name} must be a positive integer, got ${JSON.stringify(value)}.`);
  return value;
}
