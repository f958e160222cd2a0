import { hasRetention, type Logger, type PersistenceBackend } from '@papyra/persistence-contract';
import { memoryStore, type MemorySpec } from './memory.js';
import { ndjsonStore, type NdjsonSpec } from './ndjson.js';
import { postgresStore, type PostgresSpec } from './postgres.js';
import { redisStore, type RedisSpec } from './redis.js';
import { rotatingStore, type RotatingSpec } from './rotating.js';
import type { StoreDescription, StoreModule, StoreOption } from './types.js';

export type { MemorySpec, NdjsonSpec, PostgresSpec, RedisSpec, RotatingSpec, StoreDescription, StoreModule, StoreOption };

/** A store the CLI can open: one backend's settings. */
export type StoreSpec = MemorySpec | NdjsonSpec | RotatingSpec | RedisSpec | PostgresSpec;
export type BackendKind = StoreSpec['backend'];

/** Every backend the CLI knows, in the order `--backend` lists them. */
export const STORES: { readonly [K in BackendKind]: StoreModule<Extract<StoreSpec, { backend: K }>> } = {
  memory: memoryStore,
  ndjson: ndjsonStore,
  rotating: rotatingStore,
  redis: redisStore,
  postgres: postgresStore,
};
export const BACKENDS = Object.keys(STORES) as BackendKind[];

/** The module of a spec's backend. */
export function storeModule<S extends StoreSpec>(spec: S): StoreModule<S> {
  return STORES[spec.backend] as unknown as StoreModule<S>;
}

/** Every backend option once (shared options such as `path` are listed by several modules). */
export function backendOptions(): StoreOption[] {
  const byKey = new Map<string, StoreOption>();
  for (const store of Object.values(STORES)) for (const option of store.options) if (!byKey.has(option.key)) byKey.set(option.key, option);
  return [...byKey.values()];
}

/**
 * Opens the store a spec names (as a library user would: `openStore(resolveStore(...))`). Each
 * backend package is imported only when chosen.
 */
export function openStore(spec: StoreSpec, options: { logger?: Logger } = {}): Promise<PersistenceBackend> {
  const common = { ...(options.logger && { logger: options.logger }), ...(hasRetention(spec.retention) && { retention: spec.retention }) };
  return storeModule(spec).open(spec, common);
}

/** The store for `--json` documents: backend and where, never a credential. */
export function describeStore(spec: StoreSpec): StoreDescription {
  return storeModule(spec).describe(spec);
}
