import type { PersistenceBackend, RetentionPolicy } from '@papyra/persistence-contract';
import { PATH_OPTION, backendClass, quote } from './shared.js';
import type { StoreModule } from './types.js';

export interface RotatingSpec {
  backend: 'rotating';
  path: string;
  maxBytes: number;
  maxFiles: number;
  retention: RetentionPolicy;
}

/** A rotation set `path`, `path.1`, …; `--max-bytes` or `--max-files` selects it. */
export const rotatingStore: StoreModule<RotatingSpec> = {
  backend: 'rotating',
  options: [
    PATH_OPTION,
    { key: 'maxBytes', kind: 'positive', describe: 'Rotating: bytes per file' },
    { key: 'maxFiles', kind: 'positive', describe: 'Rotating: files in the set' },
  ],
  implies: (v) => v['maxBytes'] !== undefined || v['maxFiles'] !== undefined,
  spec(options, retention) {
    return {
      backend: 'rotating',
      path: options.path('path') ?? options.require<string>('path'),
      maxBytes: options.require<number>('maxBytes'),
      maxFiles: options.require<number>('maxFiles'),
      retention,
    };
  },
  async open(spec, common) {
    const RotatingBackend = await backendClass(() => import('@papyra/backend-rotating'), 'RotatingBackend', '@papyra/backend-rotating');
    return new RotatingBackend({ ...common, path: spec.path, maxBytes: spec.maxBytes, maxFiles: spec.maxFiles });
  },
  describe: (spec) => ({ backend: 'rotating', path: spec.path, maxBytes: spec.maxBytes, maxFiles: spec.maxFiles }),
  label: (spec) => `rotating ${spec.path} (max ${spec.maxBytes} bytes × ${spec.maxFiles} files)`,
  args: (spec) => `--backend rotating --path ${quote(spec.path)} --max-bytes ${spec.maxBytes} --max-files ${spec.maxFiles}`,
  // The backend knows which files are members of its set.
  async exists(_spec, backend) {
    const files = (backend as PersistenceBackend & { files?: () => Promise<string[]> }).files;
    return files === undefined ? true : (await files.call(backend)).length > 0;
  },
};
