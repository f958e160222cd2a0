import { PapyraError, hasRetention, type Logger, type PersistenceBackend } from '@papyra/persistence-contract';
import type { StoreSpec } from './settings.js';

type BackendClass = new (options: Record<string, unknown>) => PersistenceBackend;

/**
 * Opens the store a spec names. Each backend package is imported only when chosen, so an ndjson
 * user never loads ioredis or pg.
 */
export async function openStore(spec: StoreSpec, logger: Logger): Promise<PersistenceBackend> {
  const common = { logger, ...(hasRetention(spec.retention) && { retention: spec.retention }) };
  switch (spec.backend) {
    case 'memory': {
      const MemoryBackend = exported(await import('@papyra/backend-memory'), 'MemoryBackend', '@papyra/backend-memory');
      return new MemoryBackend(common);
    }
    case 'ndjson': {
      const NdjsonBackend = exported(await import('@papyra/backend-ndjson'), 'NdjsonBackend', '@papyra/backend-ndjson');
      return new NdjsonBackend({ ...common, path: spec.path });
    }
    case 'rotating': {
      const RotatingBackend = exported(await import('@papyra/backend-rotating'), 'RotatingBackend', '@papyra/backend-rotating');
      return new RotatingBackend({ ...common, path: spec.path, maxBytes: spec.maxBytes, maxFiles: spec.maxFiles });
    }
    case 'redis': {
      const RedisBackend = exported(await import('@papyra/backend-redis'), 'RedisBackend', '@papyra/backend-redis');
      return new RedisBackend({
        ...common,
        url: spec.url,
        ...(spec.prefix !== undefined && { prefix: spec.prefix }),
        ...(spec.systemId !== undefined && { systemId: spec.systemId }),
      });
    }
    case 'postgres': {
      const PostgresBackend = exported(await import('@papyra/backend-postgres'), 'PostgresBackend', '@papyra/backend-postgres');
      // No ensureSchema(): inspecting a store must not create one. A missing schema or table reads as
      // an empty store (SPEC §3), and the CLI never writes records, so nothing needs the migrations.
      return new PostgresBackend({
        ...common,
        connectionString: spec.connectionString,
        ...(spec.schema !== undefined && { schema: spec.schema }),
        ...(spec.table !== undefined && { table: spec.table }),
        ...(spec.systemId !== undefined && { systemId: spec.systemId }),
      });
    }
  }
}

// Checked at run time so the CLI keeps building whatever shape a backend package has today.
function exported(module: object, name: string, pkg: string): BackendClass {
  const value = (module as Record<string, unknown>)[name];
  if (typeof value !== 'function') {
    throw new PapyraError('PAPYRA_INTERNAL', `${pkg} does not export ${name}; reinstall or rebuild it.`, { details: { package: pkg } });
  }
  return value as BackendClass;
}
