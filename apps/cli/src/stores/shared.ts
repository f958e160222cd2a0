import { stat } from 'node:fs/promises';
import { PapyraError, type PersistenceBackend } from '@papyra/persistence-contract';
import type { StoreOption } from './types.js';

/** Options several backends read. */
export const PATH_OPTION: StoreOption = { key: 'path', kind: 'string', describe: 'NDJSON file (ndjson, rotating)' };
export const SYSTEM_ID_OPTION: StoreOption = {
  key: 'systemId',
  kind: 'string',
  describe: 'Redis: the system whose streams to read (default local); PostgreSQL: only this system in lists and compaction',
};

export type BackendClass = new (options: Record<string, unknown>) => PersistenceBackend;

/**
 * A backend package's class, imported only when chosen (an ndjson user never loads ioredis or pg),
 * and checked at run time so the CLI keeps building whatever shape a backend package has today.
 */
export async function backendClass(load: () => Promise<object>, name: string, pkg: string): Promise<BackendClass> {
  const value = ((await load()) as Record<string, unknown>)[name];
  if (typeof value !== 'function') {
    throw new PapyraError('PAPYRA_INTERNAL', `${pkg} does not export ${name}; reinstall or rebuild it.`, { details: { package: pkg } });
  }
  return value as BackendClass;
}

/** Whether a file exists (a directory or other non-file is left for the backend to refuse). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw error;
  }
}

/** A shell word: quoted only when needed. */
export function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The options object without undefined members (backends treat a present `undefined` as given). */
export function defined<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
