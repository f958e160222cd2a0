import type { RetentionPolicy } from '@papyra/persistence-contract';
import { backendClass } from './shared.js';
import type { StoreModule } from './types.js';

export interface MemorySpec {
  backend: 'memory';
  retention: RetentionPolicy;
}

/** An empty in-process store: useful to try the commands, never named by other options. */
export const memoryStore: StoreModule<MemorySpec> = {
  backend: 'memory',
  options: [],
  implies: () => false,
  spec: (_options, retention) => ({ backend: 'memory', retention }),
  async open(_spec, common) {
    const MemoryBackend = await backendClass(() => import('@papyra/backend-memory'), 'MemoryBackend', '@papyra/backend-memory');
    return new MemoryBackend({ ...common });
  },
  describe: () => ({ backend: 'memory' }),
  label: () => 'memory (empty in-process store)',
  args: () => '--backend memory',
};
