import { afterEach, beforeEach, describe, it } from '@jest/globals';
import { runBackendConformance } from '@papyra/persistence-contract/conformance';
import { MemoryBackend } from '../src/index.js';

await runBackendConformance(
  { describe, it, beforeEach, afterEach },
  {
    name: 'memory',
    make: async (ctx) => new MemoryBackend({ ...(ctx.retention && { retention: ctx.retention }), ...(ctx.clock && { clock: ctx.clock }) }),
  },
);
