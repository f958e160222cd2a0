export { PostgresBackend, type PostgresBackendOptions } from './postgres-backend.js';
export type { MigrationResult } from './migrate.js';
export type { PostgresPool, PostgresClient } from './pool.js';
export { LATEST_VERSION as SCHEMA_VERSION } from './schema.js';
