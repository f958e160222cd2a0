import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const child = fileURLToPath(new URL('./fixtures/exit-child.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
/** A liveness bound, not a timing assertion: the child arms timers of 120 s and should exit in well under one. */
const KILL_AFTER_MS = 20_000;

describe('the process after close()', () => {
  it('exits by itself: no timer (ask deadline, backoff, audit interval, write timeout) outlives close(), no unhandled rejection', async () => {
    if (!existsSync(dist)) throw new Error('dist/ is missing: run `npx tsc -b` in packages/core before the tests');
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not wanted in the child
    const result = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [child], { env, timeout: KILL_AFTER_MS }, (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, signal: error?.signal ?? null, stdout, stderr });
      });
    });
    expect({ code: result.code, signal: result.signal, stderr: result.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(result.stdout)).toEqual({
      state: 'closed',
      outcomes: ['crash: PAPYRA_ACTOR_STOPPED', 'reply: ok', 'stuck: PAPYRA_ACTOR_STOPPED'],
      unhandled: [],
    });
  });
});
