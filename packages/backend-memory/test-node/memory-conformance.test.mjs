// The same conformance suite under node:test, proving it needs no Jest.
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runBackendConformance } from '@papyra/persistence-contract/conformance';
import { MemoryBackend } from '../dist/index.js';

await runBackendConformance(
  { describe, it, beforeEach, afterEach },
  {
    name: 'memory (node:test)',
    make: async (ctx) => new MemoryBackend({ retention: ctx.retention, clock: ctx.clock }),
  },
);
