import { isAbsolute, resolve } from 'node:path';
import type { RetentionPolicy } from '@papyra/persistence-contract';
import { parseDuration } from './duration.js';
import { configError, usageError } from './errors.js';
import { BACKENDS, STORES, backendOptions, type BackendKind, type StoreSpec } from './stores/index.js';
import type { OptionSource, OptionValue, StoreOption, StoreValues } from './stores/types.js';

export { BACKENDS, type BackendKind, type StoreSpec };

const RETENTION_OPTIONS: readonly StoreOption[] = [
  { key: 'maxRecords', kind: 'count', describe: 'Keep the newest N records per kind' },
  { key: 'maxAgeMs', name: 'maxAge', kind: 'duration', describe: 'Keep records younger than this (7d, 12h, or ms)' },
  { key: 'maxTotalBytes', kind: 'count', describe: 'Keep the newest records per kind within N bytes' },
];
const BACKEND_OPTION: StoreOption = { key: 'backend', kind: 'string', describe: 'Backend; --path alone means ndjson' };

/** Every store-selection option: the backend, each backend's own, then retention. */
export function storeOptionList(): { backend: StoreOption; store: StoreOption[]; retention: readonly StoreOption[] } {
  return { backend: BACKEND_OPTION, store: backendOptions(), retention: RETENTION_OPTIONS };
}

const allOptions = (): StoreOption[] => [BACKEND_OPTION, ...backendOptions(), ...RETENTION_OPTIONS];

/** The store-selection options of one layer, by camelCase key. */
export type StoreOptions = Record<string, OptionValue | undefined>;

export type Source = 'flag' | 'env' | 'config';

/** Options from one place (flags, the environment or a config file), and how to name them in errors. */
export interface Layer {
  source: Source;
  values: StoreOptions;
  /** Relative paths resolve against this directory. */
  baseDir: string;
  /** How the user wrote this option here: `--max-bytes`, `PAPYRA_MAX_BYTES`, `maxBytes in ./papyra.json`. */
  label(key: string): string;
}

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string): string => `PAPYRA_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
const nameOf = (key: string): string => allOptions().find((o) => o.key === key)?.name ?? key;

/** The credential-bearing URLs among option values (a string, a comma-separated list or an array). */
export function secretUrls(values: Record<string, unknown>, keyName: (key: string) => string = (key) => key): string[] {
  const urls: string[] = [];
  for (const key of secretKeys()) {
    const value = values[keyName(key)];
    for (const item of Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : []) if (typeof item === 'string') urls.push(item.trim());
  }
  return urls;
}

/** The keys of options whose values may hold credentials (URLs with passwords). */
export function secretKeys(): string[] {
  return allOptions()
    .filter((o) => o.secret)
    .map((o) => o.key);
}

/** Flags as yargs parsed them (camelCase). */
export function flagLayer(argv: Record<string, unknown>, cwd: string): Layer {
  const label = (key: string) => `--${kebab(nameOf(key))}`;
  const values: StoreOptions = {};
  for (const option of allOptions()) {
    const raw = argv[option.name ?? option.key];
    if (raw !== undefined) values[option.key] = parseOption(option, raw, label(option.key), usageError);
  }
  return { source: 'flag', values, baseDir: cwd, label };
}

/** `PAPYRA_<OPTION>` variables; unknown `PAPYRA_*` names are none of our business. */
export function envLayer(env: NodeJS.ProcessEnv, cwd: string): Layer {
  const label = (key: string) => envName(nameOf(key));
  const values: StoreOptions = {};
  for (const option of allOptions()) {
    const raw = env[label(option.key)];
    if (raw !== undefined && raw !== '') values[option.key] = parseOption(option, raw, label(option.key), (m) => configError(m));
  }
  return { source: 'env', values, baseDir: cwd, label };
}

/** A config file's options object (already parsed); unknown keys are a configuration error. */
export function configLayer(options: Record<string, unknown>, file: string, baseDir: string): Layer {
  const values: StoreOptions = {};
  const label = (key: string) => `${key} in ${file}`;
  const byKey = new Map(allOptions().map((o) => [o.key, o]));
  for (const [key, raw] of Object.entries(options)) {
    if (raw === undefined) continue;
    if (key === 'retention') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw configError(`${label('retention')} must be an object.`);
      for (const [rKey, rRaw] of Object.entries(raw)) {
        const option = RETENTION_OPTIONS.find((o) => o.key === rKey);
        if (!option) throw configError(`Unknown option retention.${rKey} in ${file}; use maxRecords, maxAgeMs or maxTotalBytes.`);
        if (rRaw !== undefined && rRaw !== null) values[rKey] = parseOption(option, rRaw, `retention.${rKey} in ${file}`, (m) => configError(m));
      }
      continue;
    }
    const option = byKey.get(key);
    if (!option) throw configError(`Unknown option ${JSON.stringify(key)} in ${file}; known: ${[...byKey.keys(), 'retention'].join(', ')}.`);
    values[key] = parseOption(option, raw, label(key), (m) => configError(m));
  }
  return { source: 'config', values, baseDir, label };
}

/**
 * Decides the store from layers given highest precedence first (flags, then environment, then the
 * config file). Each option comes from the first layer that sets it; the backend is `backend` if
 * set, else implied by the highest layer that names a store (`path`, `redisUrl`, `databaseUrl`…).
 */
export function resolveStore(layers: readonly Layer[]): StoreSpec {
  const pick = (key: string): { value: OptionValue; layer: Layer } | undefined => {
    for (const layer of layers) {
      const value = layer.values[key];
      if (value !== undefined) return { value, layer };
    }
    return undefined;
  };
  const backend = chooseBackend(layers);
  const retention: RetentionPolicy = {};
  for (const { key } of RETENTION_OPTIONS) {
    const found = pick(key);
    if (found) retention[key as keyof RetentionPolicy] = found.value as number;
  }
  const source: OptionSource = {
    get: <T extends OptionValue>(key: string) => {
      const found = pick(key);
      if (found && allOptions().find((o) => o.key === key)?.kind === 'url') checkUrl(found, key);
      return found?.value as T | undefined;
    },
    require: <T extends OptionValue>(key: string) => {
      const value = source.get<T>(key);
      if (value !== undefined) return value;
      throw usageError(`The ${backend} backend needs --${kebab(nameOf(key))} (or ${envName(nameOf(key))}).`);
    },
    path: (key) => {
      const found = pick(key);
      if (!found) return undefined;
      const value = found.value as string;
      return isAbsolute(value) ? value : resolve(found.layer.baseDir, value);
    },
  };
  return STORES[backend].spec(source, retention);
}

function chooseBackend(layers: readonly Layer[]): BackendKind {
  for (const layer of layers) {
    const fail = layer.source === 'flag' ? usageError : (m: string) => configError(m);
    const { backend } = layer.values;
    if (backend !== undefined) {
      if ((BACKENDS as readonly unknown[]).includes(backend)) return backend as BackendKind;
      throw fail(`${layer.label('backend')} ${JSON.stringify(backend)} is not a backend; use one of ${BACKENDS.join(', ')}.`);
    }
    const implied = BACKENDS.filter((name) => STORES[name].implies(layer.values as StoreValues));
    if (implied.length === 1) return implied[0]!;
    if (implied.length > 1) throw fail(`These options name different stores (${implied.join(', ')}); choose one with --backend.`);
  }
  throw usageError('No store selected: pass --path FILE (ndjson), --backend NAME with its options, or --config FILE.');
}

function checkUrl(found: { value: OptionValue; layer: Layer }, key: string): void {
  try {
    new URL(found.value as string);
  } catch {
    // The value is not echoed: it may hold a password.
    const message = `${found.layer.label(key)} is not a URL (expected e.g. ${key === 'redisUrl' ? 'redis://host:6379' : 'postgres://user@host:5432/db'}).`;
    throw found.layer.source === 'flag' ? usageError(message) : configError(message);
  }
}

function isUrl(text: string): boolean {
  try {
    return new URL(text).host !== '';
  } catch {
    return false;
  }
}

const HOST_PORT = /^(?:\[[0-9a-f:.]+\]|[\w.-]+):\d{1,5}$/i;

/** Checks one option's value (text from a flag or variable, or a JSON value) against its kind. */
function parseOption(option: StoreOption, raw: unknown, label: string, fail: (message: string) => Error): OptionValue {
  switch (option.kind) {
    case 'positive':
    case 'count': {
      const n = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      const min = option.kind === 'positive' ? 1 : 0;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
        throw fail(`${label} must be ${min === 1 ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(raw)}.`);
      }
      return n;
    }
    case 'duration': {
      const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? (/^\d+$/.test(raw.trim()) ? Number(raw) : parseDuration(raw)) : null;
      if (ms === null || !Number.isSafeInteger(ms) || ms < 0) {
        throw fail(`${label} must be milliseconds or a duration such as 30m, 12h or 7d, got ${JSON.stringify(raw)}.`);
      }
      return ms;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off'].includes(text)) return false;
      throw fail(`${label} must be true or false, got ${JSON.stringify(raw)}.`);
    }
    case 'hosts': {
      // `host:port`, or a URL (`redis://user:password@host:port`) for credentials; the value is not echoed.
      const list: unknown = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw;
      if (!Array.isArray(list) || list.length === 0 || !list.every((h) => typeof h === 'string' && (HOST_PORT.test(h) || isUrl(h)))) {
        throw fail(`${label} must list host:port pairs (or redis:// URLs) separated by commas, e.g. 10.0.0.1:7000,10.0.0.2:7000.`);
      }
      return (list as string[]).map((h) => (HOST_PORT.test(h) ? `redis://${h}` : h));
    }
    case 'url':
      if (typeof raw !== 'string' || raw === '') throw fail(`${label} must be a URL string.`);
      return raw;
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw fail(`${label} must be a non-empty string, got ${JSON.stringify(raw)}.`);
      return raw;
  }
}
