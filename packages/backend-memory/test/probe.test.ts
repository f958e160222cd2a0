import { describe, expect, it } from '@jest/globals';
import { PapyraError } from '@papyra/persistence-contract';
import { MemoryBackend } from '../src/index.js';

async function codeOf(action: () => Promise<unknown>): Promise<string> {
  const error = await action().then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (PapyraError.isInstance(error)) return error.code;
  throw error;
}

describe('MemoryBackend.probe', () => {
  it('resolves while open, without touching the store', async () => {
    const backend = new MemoryBackend();
    await expect(backend.probe()).resolves.toBeUndefined();
    await expect(backend.probe({ timeoutMs: 10 })).resolves.toBeUndefined();
    expect(backend.metrics.snapshot().recordsWritten).toBe(0);
    expect(await backend.listEvents()).toEqual([]);
  });

  it('rejects with PAPYRA_BACKEND_CLOSED after close, and PAPYRA_ABORTED on an aborted signal', async () => {
    const backend = new MemoryBackend();
    expect(await codeOf(() => backend.probe({ signal: AbortSignal.abort() }))).toBe('PAPYRA_ABORTED');
    await backend.close();
    expect(await codeOf(() => backend.probe())).toBe('PAPYRA_BACKEND_CLOSED');
  });
});
