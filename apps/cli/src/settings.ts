import { isAbsolute, resolve } from 'node:path';
import type { RetentionPolicy } from '@papyra/persistence-contract';
import { parseDuration } from './duration.js';
import { configError, usageError } from './errors.js';

export const BACKENDS = ['memory', 'ndjson', 'rotating', 'redis', 'postgres'] as const;
export type BackendKind = (typeof BACKENDS)[number];

/** The store-selection options, named as in camelCase flags and config files. */
export interface StoreOptions {
  backend?: string;
  path?: string;
  maxBytes?: number;
  maxFiles?: number;
  redisUrl?: string;
  prefix?: string;
  systemId?: string;
  databaseUrl?: string;
  schema?: string;
  table?: string;
  maxRecords?: number;
  maxAgeMs?: number;
  maxTotalBytes?: number;
}
type Key = keyof StoreOptions;
const KEYS: readonly Key[] = ['backend', 'path', 'maxBytes', 'maxFiles', 'redisUrl', 'prefix', 'systemId', 'databaseUrl', 'schema', 'table', 'maxRecords', 'maxAgeMs', 'maxTotalBytes'];

export type Source = 'flag' | 'env' | 'config';

/** Options from one place (flags, the environment or a config file), and how to name them in errors. */
export interface Layer {
  source: Source;
  values: StoreOptions;
  /** Relative paths resolve against this directory. */
  baseDir: string;
  /** How the user wrote this option here: `--max-bytes`, `PAPYRA_MAX_BYTES`, `maxBytes in ./papyra.json`. */
  label(key: Key): string;
}

/** A store the factory can open. */
export type StoreSpec =
  | { backend: 'memory'; retention: RetentionPolicy }
  | { backend: 'ndjson'; path: string; retention: RetentionPolicy }
  | { backend: 'rotating'; path: string; maxBytes: number; maxFiles: number; retention: RetentionPolicy }
  | { backend: 'redis'; url: string; prefix?: string; systemId?: string; retention: RetentionPolicy }
  | { backend: 'postgres'; connectionString: string; schema?: string; table?: string; systemId?: string; retention: RetentionPolicy };

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string): string => `PAPYRA_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** Flags as yargs parsed them. `maxAge` is text (`7d` or milliseconds). */
export function flagLayer(argv: Record<string, unknown>, cwd: string): Layer {
  const values: StoreOptions = {};
  const label = (key: Key) => `--${kebab(key === 'maxAgeMs' ? 'maxAge' : key)}`;
  for (const key of KEYS) {
    const raw = key === 'maxAgeMs' ? argv['maxAge'] : argv[key];
    if (raw === undefined) continue;
    assign(values, key, raw, label(key), usageError);
  }
  return { source: 'flag', values, baseDir: cwd, label };
}

/** `PAPYRA_<OPTION>` variables; unknown `PAPYRA_*` names are none of our business. */
export function envLayer(env: NodeJS.ProcessEnv, cwd: string): Layer {
  const values: StoreOptions = {};
  const label = (key: Key) => envName(key === 'maxAgeMs' ? 'maxAge' : key);
  for (const key of KEYS) {
    const raw = env[label(key)];
    if (raw === undefined || raw === '') continue;
    assign(values, key, raw, label(key), (m) => configError(m));
  }
  return { source: 'env', values, baseDir: cwd, label };
}

/** A config file's options object (already parsed); unknown keys are a configuration error. */
export function configLayer(options: Record<string, unknown>, file: string, baseDir: string): Layer {
  const values: StoreOptions = {};
  const label = (key: Key | 'retention') => `${key} in ${file}`;
  for (const [key, raw] of Object.entries(options)) {
    if (raw === undefined) continue;
    if (key === 'retention') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(`${label('retention')} must be an object.`);
      for (const [rKey, rRaw] of Object.entries(raw)) {
        if (rKey !== 'maxRecords' && rKey !== 'maxAgeMs' && rKey !== 'maxTotalBytes') {
          throw configError(`Unknown option retention.${rKey} in ${file}; use maxRecords, maxAgeMs or maxTotalBytes.`);
        }
        if (rRaw !== undefined && rRaw !== null) assign(values, rKey, rRaw, `retention.${rKey} in ${file}`, (m) => configError(m));
      }
      continue;
    }
    if (!(KEYS as readonly string[]).includes(key)) {
      throw configError(`Unknown option ${JSON.stringify(key)} in ${file}; known: ${[...KEYS, 'retention'].join(', ')}.`);
    }
    assign(values, key as Key, raw, label(key as Key), (m) => configError(m));
  }
  return { source: 'config', values, baseDir, label };
}

/**
 * Decides the store from layers given highest precedence first (flags, then environment, then the
 * config file). Each option comes from the first layer that sets it; the backend is `backend` if
 * set, else implied by the highest layer that names a store (`path`, `redisUrl`, `databaseUrl`).
 */
export function resolveStore(layers: readonly Layer[]): StoreSpec {
  const pick = <K extends Key>(key: K): { value: NonNullable<StoreOptions[K]>; layer: Layer } | undefined => {
    for (const layer of layers) {
      const value = layer.values[key];
      if (value !== undefined) return { value: value as NonNullable<StoreOptions[K]>, layer };
    }
    return undefined;
  };
  const backend = chooseBackend(layers);
  const retention: RetentionPolicy = {};
  for (const key of ['maxRecords', 'maxAgeMs', 'maxTotalBytes'] as const) {
    const found = pick(key);
    if (found) retention[key] = found.value;
  }
  const require = <K extends Key>(key: K): NonNullable<StoreOptions[K]> => {
    const found = pick(key);
    if (found) return found.value;
    throw usageError(`The ${backend} backend needs --${kebab(key)} (or ${envName(key)}).`);
  };
  const pathOf = () => {
    const found = pick('path');
    if (!found) throw usageError(`The ${backend} backend needs --path (or PAPYRA_PATH).`);
    return isAbsolute(found.value) ? found.value : resolve(found.layer.baseDir, found.value);
  };
  switch (backend) {
    case 'memory':
      return { backend, retention };
    case 'ndjson':
      return { backend, path: pathOf(), retention };
    case 'rotating':
      return { backend, path: pathOf(), maxBytes: require('maxBytes'), maxFiles: require('maxFiles'), retention };
    case 'redis': {
      const prefix = pick('prefix')?.value;
      const systemId = pick('systemId')?.value;
      return {
        backend,
        url: checkUrl(pick('redisUrl'), 'redisUrl') ?? 'redis://127.0.0.1:6379',
        ...(prefix !== undefined && { prefix }),
        ...(systemId !== undefined && { systemId }),
        retention,
      };
    }
    case 'postgres': {
      const url = checkUrl(pick('databaseUrl'), 'databaseUrl');
      if (url === undefined) throw usageError('The postgres backend needs --database-url (or PAPYRA_DATABASE_URL).');
      const schema = pick('schema')?.value;
      const table = pick('table')?.value;
      const systemId = pick('systemId')?.value;
      return {
        backend,
        connectionString: url,
        ...(schema !== undefined && { schema }),
        ...(table !== undefined && { table }),
        ...(systemId !== undefined && { systemId }),
        retention,
      };
    }
  }
}

function chooseBackend(layers: readonly Layer[]): BackendKind {
  for (const layer of layers) {
    const { backend } = layer.values;
    if (backend !== undefined) {
      if ((BACKENDS as readonly string[]).includes(backend)) return backend as BackendKind;
      const fail = layer.source === 'flag' ? usageError : (m: string) => configError(m);
      throw fail(`${layer.label('backend')} ${JSON.stringify(backend)} is not a backend; use one of ${BACKENDS.join(', ')}.`);
    }
    const implied = new Set<BackendKind>();
    const v = layer.values;
    if (v.maxBytes !== undefined || v.maxFiles !== undefined) implied.add('rotating');
    else if (v.path !== undefined) implied.add('ndjson');
    if (v.redisUrl !== undefined) implied.add('redis');
    if (v.databaseUrl !== undefined) implied.add('postgres');
    if (implied.size === 1) return [...implied][0]!;
    if (implied.size > 1) {
      const fail = layer.source === 'flag' ? usageError : (m: string) => configError(m);
      throw fail(`These options name different stores (${[...implied].join(', ')}); choose one with --backend.`);
    }
  }
  throw usageError('No store selected: pass --path FILE (ndjson), --backend NAME with its options, or --config FILE.');
}

function checkUrl(found: { value: string; layer: Layer } | undefined, key: 'redisUrl' | 'databaseUrl'): string | undefined {
  if (!found) return undefined;
  try {
    new URL(found.value);
  } catch {
    // The value is not echoed: it may hold a password.
    const message = `${found.layer.label(key)} is not a URL (expected e.g. ${key === 'redisUrl' ? 'redis://host:6379' : 'postgres://user@host:5432/db'}).`;
    throw found.layer.source === 'flag' ? usageError(message) : configError(message);
  }
  return found.value;
}

function assign(values: StoreOptions, key: Key, raw: unknown, label: string, fail: (message: string) => Error): void {
  switch (key) {
    case 'maxBytes':
    case 'maxFiles':
    case 'maxRecords':
    case 'maxTotalBytes': {
      const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      const min = key === 'maxBytes' || key === 'maxFiles' ? 1 : 0;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
        throw fail(`${label} must be ${min === 1 ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(raw)}.`);
      }
      values[key] = n;
      return;
    }
    case 'maxAgeMs': {
      const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? (/^\d+$/.test(raw.trim()) ? Number(raw) : parseDuration(raw)) : null;
      if (ms === null || !Number.isSafeInteger(ms) || ms < 0) {
        throw fail(`${label} must be milliseconds or a duration such as 30m, 12h or 7d, got ${JSON.stringify(raw)}.`);
      }
      values.maxAgeMs = ms;
      return;
    }
    case 'redisUrl':
    case 'databaseUrl':
      if (typeof raw !== 'string' || raw === '') throw fail(`${label} must be a URL string.`);
      values[key] = raw;
      return;
    default:
      if (typeof raw !== 'string' || raw === '') throw fail(`${label} must be a non-empty string, got ${JSON.stringify(raw)}.`);
      values[key] = raw;
  }
}
