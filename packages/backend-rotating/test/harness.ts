import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConformanceHarness, CorruptionKind } from '@papyra/persistence-contract/conformance';
import { RotatingBackend, type RotatingBackendOptions } from '../src/index.js';

const optionsOf = new WeakMap<RotatingBackend, RotatingBackendOptions>();

function open(options: RotatingBackendOptions): RotatingBackend {
  const backend = new RotatingBackend(options);
  optionsOf.set(backend, options);
  return backend;
}

/** The conformance harness of the rotating backend: small files, so most scenarios rotate. */
export const harness: ConformanceHarness<RotatingBackend> = {
  name: 'rotating',
  // Small files, so most scenarios span several files and rotate; enough of them that none is deleted.
  make: async (ctx) =>
    open({
      path: join(ctx.tmpDir, 'store.ndjson'),
      maxBytes: 2048,
      maxFiles: 1000,
      fsync: 'always',
      ...(ctx.retention && { retention: ctx.retention }),
      ...(ctx.clock && { clock: ctx.clock }),
    }),
  reopen: async (backend) => open(optionsOf.get(backend)!),
  corrupt: async (backend, kind: CorruptionKind) => {
    const files = await backend.files();
    switch (kind) {
      case 'torn_tail':
        return appendFile(backend.path, '{"kind":"event","id":"torn","timesta');
      // Into the oldest file, so damage away from the active file is found and repaired too.
      case 'corrupt_line':
        return appendFile(files[0] ?? backend.path, '{this is not json}\n');
      case 'invalid_record':
        return appendFile(files[0] ?? backend.path, '{"kind":"nonsense","timestamp":1}\n');
      case 'orphan_file':
        return writeFile(`${backend.path}.orphan`, '{"kind":"event","timestamp":1}\n');
    }
  },
  corruptions: ['torn_tail', 'corrupt_line', 'invalid_record', 'orphan_file'],
};
