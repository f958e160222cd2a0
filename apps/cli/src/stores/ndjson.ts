import type { RetentionPolicy } from '@papyra/persistence-contract';
import { PATH_OPTION, backendClass, fileExists, quote } from './shared.js';
import type { StoreModule } from './types.js';

export interface NdjsonSpec {
  backend: 'ndjson';
  path: string;
  retention: RetentionPolicy;
}

/** One NDJSON file; `--path` alone selects it. */
export const ndjsonStore: StoreModule<NdjsonSpec> = {
  backend: 'ndjson',
  options: [PATH_OPTION],
  implies: (v) => v['path'] !== undefined && v['maxBytes'] === undefined && v['maxFiles'] === undefined,
  spec(options, retention) {
    return { backend: 'ndjson', path: options.path('path') ?? options.require<string>('path'), retention };
  },
  async open(spec, common) {
    const NdjsonBackend = await backendClass(() => import('@papyra/backend-ndjson'), 'NdjsonBackend', '@papyra/backend-ndjson');
    return new NdjsonBackend({ ...common, path: spec.path });
  },
  describe: (spec) => ({ backend: 'ndjson', path: spec.path }),
  label: (spec) => `ndjson ${spec.path}`,
  args: (spec) => `--path ${quote(spec.path)}`,
  exists: (spec) => fileExists(spec.path),
};
