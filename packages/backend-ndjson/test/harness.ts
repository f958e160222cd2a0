import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConformanceHarness, CorruptionKind } from '@papyra/persistence-contract/conformance';
import { NdjsonBackend, type NdjsonBackendOptions } from '../src/index.js';

const optionsOf = new WeakMap<NdjsonBackend, NdjsonBackendOptions>();

function open(options: NdjsonBackendOptions): NdjsonBackend {
  const backend = new NdjsonBackend(options);
  optionsOf.set(backend, options);
  return backend;
}

// The damage each kind does, appended after the records the suite wrote.
const DAMAGE: Record<Exclude<CorruptionKind, 'orphan_file'>, string> = {
  torn_tail: '{"kind":"event","id":"torn","timesta',
  corrupt_line: '{this is not json}\n',
  invalid_record: '{"kind":"nonsense","timestamp":1}\n',
};

/** The conformance harness of the ndjson backend: one file per test, damage appended to it. */
export const harness: ConformanceHarness<NdjsonBackend> = {
  name: 'ndjson',
  make: async (ctx) =>
    open({
      path: join(ctx.tmpDir, 'store.ndjson'),
      fsync: 'always',
      ...(ctx.retention && { retention: ctx.retention }),
      ...(ctx.clock && { clock: ctx.clock }),
    }),
  reopen: async (backend) => open(optionsOf.get(backend)!),
  corrupt: async (backend, kind) => {
    if (kind === 'orphan_file') throw new Error('a single-file store has no orphans');
    await appendFile(backend.path, DAMAGE[kind]);
  },
  corruptions: ['torn_tail', 'corrupt_line', 'invalid_record'],
};
