import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PersistenceBackend } from '@papyra/persistence-contract';
import { configError } from './errors.js';
import { configLayer, type Layer } from './settings.js';

export type LoadedConfig = { kind: 'instance'; backend: PersistenceBackend; file: string } | { kind: 'options'; layer: Layer; file: string };

/**
 * Reads `--config FILE`: a `.json` file holds options; any other file is imported as an ES module
 * whose default export is a backend instance or an options object. Relative paths inside it
 * resolve against the file's directory.
 */
export async function loadConfig(file: string, cwd: string): Promise<LoadedConfig> {
  const absolute = resolve(cwd, file);
  let value: unknown;
  if (extname(absolute).toLowerCase() === '.json') {
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (cause) {
      throw configError(`Cannot read the config file ${file}: ${(cause as Error).message}`, { cause });
    }
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw configError(`The config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
  } else {
    try {
      const module = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
      value = await module.default;
    } catch (cause) {
      throw configError(`Cannot load the config module ${file}: ${(cause as Error).message}`, { cause });
    }
  }
  if (isBackend(value)) return { kind: 'instance', backend: value, file };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw configError(`The config file ${file} must hold an options object${extname(absolute) === '.json' ? '' : ' or default-export a backend instance'}.`);
  }
  return { kind: 'options', layer: configLayer(value as Record<string, unknown>, file, dirname(absolute)), file };
}

function isBackend(value: unknown): value is PersistenceBackend {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['name'] === 'string' && typeof v['capabilities'] === 'object' && typeof v['listEvents'] === 'function' && typeof v['close'] === 'function';
}
