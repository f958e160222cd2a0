import { createHash } from 'node:crypto';
import { PapyraError } from '@papyra/persistence-contract';

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
  };
}

export interface Migration {
  version: number;
  name: string;
  sql: (n: StoreNames) => string[];
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
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The advisory lock serialising migrations. Keyed by schema (not table) because the first
 * migration may create the schema, and two tables racing on `CREATE SCHEMA IF NOT EXISTS` collide.
 */
export function migrationLockKey(schema: string | undefined): string {
  const digest = createHash('sha256').update(`papyra-postgres-migrate:${schema ?? ''}`).digest();
  return digest.readBigInt64BE(0).toString();
}
