import { redactSecrets, type RetentionPolicy } from '@papyra/persistence-contract';
import { usageError } from '../errors.js';
import { SYSTEM_ID_OPTION, backendClass, defined } from './shared.js';
import type { StoreModule } from './types.js';

export interface PostgresSpec {
  backend: 'postgres';
  connectionString: string;
  schema?: string;
  table?: string;
  systemId?: string;
  /** Read every system's rows (an operator's view of a shared table). */
  allSystems?: true;
  retention: RetentionPolicy;
}

const DEFAULT_TABLE = 'papyra_records';

/** One PostgreSQL table. */
export const postgresStore: StoreModule<PostgresSpec> = {
  backend: 'postgres',
  options: [
    { key: 'databaseUrl', kind: 'url', secret: true, describe: 'PostgreSQL connection string' },
    { key: 'schema', kind: 'string', describe: 'PostgreSQL schema (default: the search_path, normally public)' },
    { key: 'table', kind: 'string', describe: `PostgreSQL table (default ${DEFAULT_TABLE})` },
    SYSTEM_ID_OPTION,
    {
      key: 'allSystems',
      kind: 'boolean',
      describe: "PostgreSQL: every system's rows in lists, scans and maintenance (default: only --system-id, default local)",
    },
  ],
  implies: (v) => v['databaseUrl'] !== undefined,
  spec(options, retention) {
    const connectionString = options.get<string>('databaseUrl');
    if (connectionString === undefined) throw usageError('The postgres backend needs --database-url (or PAPYRA_DATABASE_URL).');
    const schema = options.get<string>('schema');
    const table = options.get<string>('table');
    const systemId = options.get<string>('systemId');
    const allSystems = options.get<boolean>('allSystems');
    if (allSystems === true && systemId !== undefined) throw usageError('Give --system-id (one system) or --all-systems, not both.');
    return {
      backend: 'postgres',
      connectionString,
      ...(schema !== undefined && { schema }),
      ...(table !== undefined && { table }),
      ...(systemId !== undefined && { systemId }),
      ...(allSystems === true && { allSystems: true as const }),
      retention,
    };
  },
  async open(spec, common) {
    const PostgresBackend = await backendClass(() => import('@papyra/backend-postgres'), 'PostgresBackend', '@papyra/backend-postgres');
    // No ensureSchema(): inspecting a store must not create one. A missing schema or table reads as
    // an empty store (SPEC §3), and the CLI never writes records, so nothing needs the migrations.
    return new PostgresBackend({
      ...common,
      connectionString: spec.connectionString,
      ...defined({ schema: spec.schema, table: spec.table, systemId: spec.systemId, allSystems: spec.allSystems }),
    });
  },
  describe: (spec) => ({
    backend: 'postgres',
    url: redactSecrets(spec.connectionString),
    ...(spec.schema !== undefined && { schema: spec.schema }),
    table: spec.table ?? DEFAULT_TABLE,
    ...(spec.allSystems ? { allSystems: true } : { systemId: spec.systemId ?? 'local' }),
  }),
  label(spec) {
    const where = [
      spec.schema && `schema ${spec.schema}`,
      `table ${spec.table ?? DEFAULT_TABLE}`,
      spec.allSystems ? 'all systems' : spec.systemId && `system ${spec.systemId}`,
    ].filter(Boolean);
    return `postgres ${spec.connectionString} (${where.join(', ')})`;
  },
  args: () => '--backend postgres <same store options>',
};
