import { createHash } from 'node:crypto';
import { inspectLine, PapyraError } from '@papyra/persistence-contract';
import type { Query } from './pool.js';

/** Quoted identifier (`"a""b"`), safe for any name. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// PostgreSQL truncates identifiers at 63 bytes; index and side-table names add up to 15.
const MAX_TABLE_BYTES = 48;

/** Every name the backend uses for one store, quoted and ready for SQL. */
export interface StoreNames {
  /** `schema.table` as the user named it: the `path` of anomalies. */
  label: string;
  table: string;
  migrations: string;
  quarantine: string;
  schema: string | undefined;
  /** Raw (unquoted) names, for catalog lookups. */
  raw: { schema: string | undefined; table: string };
  indexKindSeq: string;
  indexSystemKindTime: string;
  indexActor: string;
  indexEventType: string;
  indexTarget: string;
}

export function storeNames(table: string, schema: string | undefined): StoreNames {
  if (typeof table !== 'string' || table === '' || Buffer.byteLength(table) > MAX_TABLE_BYTES) {
    throw new PapyraError('PAPYRA_INVALID_CONFIG', `table must be a non-empty name of at most ${MAX_TABLE_BYTES} bytes, got ${JSON.stringify(table)}.`);
  }
  if (schema !== undefined && (typeof schema !== 'string' || schema === '' || Buffer.byteLength(schema) > 63)) {
    throw new PapyraError('PAPYRA_INVALID_CONFIG', `schema must be a non-empty name of at most 63 bytes, got ${JSON.stringify(schema)}.`);
  }
  const q = (name: string) => (schema === undefined ? ident(name) : `${ident(schema)}.${ident(name)}`);
  return {
    label: schema === undefined ? table : `${schema}.${table}`,
    table: q(table),
    migrations: q(`${table}_migrations`),
    quarantine: q(`${table}_quarantine`),
    schema: schema === undefined ? undefined : ident(schema),
    raw: { schema, table },
    indexKindSeq: ident(`${table}_kind_seq`),
    indexSystemKindTime: ident(`${table}_sys_kind_ts`),
    indexActor: ident(`${table}_actor`),
    indexEventType: ident(`${table}_event_type`),
    indexTarget: ident(`${table}_target`),
  };
}

export interface Migration {
  version: number;
  name: string;
  sql: (n: StoreNames) => string[];
  /** Runs after the statements, in the same transaction: data changes SQL alone cannot make. */
  run?: (query: Query, n: StoreNames) => Promise<void>;
}

/** The list-filter columns of a record: its actor and event type (events), its target (dead letters). */
export interface FilterColumns {
  actor: string | null;
  eventType: string | null;
  target: string | null;
}

export function filterColumns(record: { kind: string; actorAddress?: string | null; eventType?: string; target?: string | null }): FilterColumns {
  return {
    actor: record.kind === 'event' ? (record.actorAddress ?? null) : null,
    eventType: record.kind === 'event' ? (record.eventType ?? null) : null,
    target: record.kind === 'dead_letter' ? (record.target ?? null) : null,
  };
}

// The backfill decodes rows up to this size (the default maxRowBytes), a page of at most 1000 rows
// and about 2 × this many bytes at a time.
const BACKFILL_MAX_ROW_BYTES = 16 * 1024 * 1024;

/**
 * Fills the filter columns of the rows written before they existed, decoding each row with the
 * contract's codec (the same decoding lists use, so a filter finds exactly what a list shows).
 * Damaged rows and rows over 16 MiB keep NULLs: lists skip them anyway.
 */
async function backfillFilterColumns(query: Query, n: StoreNames): Promise<void> {
  let after = '0';
  for (;;) {
    const { rows } = await query<{ seq: string; kind: string; data: string | null }>(
      `SELECT seq, kind, data FROM (
         SELECT r.*, sum(octet_length(r.data)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) - octet_length(r.data) AS before
         FROM (SELECT seq, kind, CASE WHEN octet_length(data) <= $2 THEN data END AS data FROM ${n.table}
               WHERE seq > $1::bigint AND kind IN ('event', 'dead_letter') ORDER BY seq LIMIT 1000) r
       ) page WHERE coalesce(before, 0) < 2 * $2 ORDER BY seq`,
      [after, BACKFILL_MAX_ROW_BYTES],
    );
    if (rows.length === 0) return;
    const update: { seq: string[]; actor: (string | null)[]; eventType: (string | null)[]; target: (string | null)[] } = {
      seq: [],
      actor: [],
      eventType: [],
      target: [],
    };
    for (const row of rows) {
      const verdict = row.data === null ? undefined : inspectLine(row.data);
      if (verdict?.ok !== true || verdict.record.kind !== row.kind) continue;
      const columns = filterColumns(verdict.record);
      update.seq.push(row.seq);
      update.actor.push(columns.actor);
      update.eventType.push(columns.eventType);
      update.target.push(columns.target);
    }
    if (update.seq.length > 0) {
      await query(
        `UPDATE ${n.table} t SET actor = u.actor, event_type = u.event_type, target = u.target
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(seq, actor, event_type, target) WHERE t.seq = u.seq`,
        [update.seq, update.actor, update.eventType, update.target],
      );
    }
    after = rows[rows.length - 1]!.seq;
  }
}

/**
 * The schema history, oldest first. A shipped migration is never edited: changes are new versions.
 * `data` is text, not jsonb, so a row holds exactly the bytes of `encodeRecord(record)` (jsonb would
 * reorder keys and could not hold the damaged rows a scan must report). `timestamp_ms` is epoch
 * milliseconds as double precision, the unit records use (Python Papyra's monotonic seconds stay exact).
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'records table',
    sql: (n) => [
      `CREATE TABLE IF NOT EXISTS ${n.table} (
        seq bigserial NOT NULL UNIQUE,
        id text PRIMARY KEY,
        kind text NOT NULL,
        system_id text NOT NULL,
        timestamp_ms double precision NOT NULL,
        data text NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'list and retention indexes',
    sql: (n) => [
      `CREATE INDEX IF NOT EXISTS ${n.indexKindSeq} ON ${n.table} (kind, seq)`,
      `CREATE INDEX IF NOT EXISTS ${n.indexSystemKindTime} ON ${n.table} (system_id, kind, timestamp_ms)`,
    ],
  },
  {
    version: 3,
    name: 'quarantine table',
    sql: (n) => [
      `CREATE TABLE IF NOT EXISTS ${n.quarantine} (
        seq bigint PRIMARY KEY,
        id text,
        kind text,
        system_id text,
        timestamp_ms double precision,
        data text,
        anomaly text NOT NULL,
        detail text NOT NULL,
        quarantined_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  {
    // Quick: nullable columns without a default rewrite nothing, and the partial indexes start
    // empty. The backfill is the next version, so this one's exclusive table lock is brief.
    version: 4,
    name: 'list filter columns and indexes',
    sql: (n) => [
      `ALTER TABLE ${n.table} ADD COLUMN IF NOT EXISTS actor text, ADD COLUMN IF NOT EXISTS event_type text, ADD COLUMN IF NOT EXISTS target text`,
      `CREATE INDEX IF NOT EXISTS ${n.indexActor} ON ${n.table} (system_id, kind, actor, seq) WHERE actor IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${n.indexEventType} ON ${n.table} (system_id, kind, event_type, seq) WHERE event_type IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${n.indexTarget} ON ${n.table} (system_id, kind, target, seq) WHERE target IS NOT NULL`,
    ],
  },
  {
    // Takes row locks only: writers go on while older rows are filled in.
    version: 5,
    name: 'backfill list filter columns',
    sql: () => [],
    run: backfillFilterColumns,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The advisory lock serialising migrations. Keyed by schema (not table) because the first
 * migration may create the schema, and two tables racing on `CREATE SCHEMA IF NOT EXISTS` collide.
 */
export function migrationLockKey(schema: string | undefined): string {
  const digest = createHash('sha256')
    .update(`papyra-postgres-migrate:${schema ?? ''}`)
    .digest();
  return digest.readBigInt64BE(0).toString();
}
