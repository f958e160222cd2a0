import { spawn } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { tempDirs } from '@papyra/test-support';
import { ExitCode } from '../src/index.js';
import { getJson } from './helpers.js';

const dirs = tempDirs('papyra-http-process-');
afterEach(() => dirs.cleanup());

/** Starts fixtures/service.mjs (the built package, real signals, real exit); resolves with its URL once it serves. */
function startService(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [new URL('./fixtures/service.mjs', import.meta.url).pathname], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    void exited.then((code) => reject(new Error(`exited with ${code} before serving`)));
  });
  url.catch(() => undefined); // a test that expects no URL awaits `exited` instead
  return { child, url, exited };
}

describe('runService in a real process', () => {
  it('SIGTERM: not ready while draining, then exit 0; SIGINT likewise', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const { child, url, exited } = startService({ DRAIN_DELAY_MS: '500' });
      const base = await url;
      expect((await getJson(`${base}/readyz`)).status).toBe(200);
      child.kill(signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await getJson(`${base}/readyz`)).toMatchObject({ status: 503, body: { reasons: ['shutting_down'] } });
      expect([signal, await exited]).toEqual([signal, ExitCode.OK]);
    }
  });

  it('a store the startup check refuses: exit STARTUP_FAILED', async () => {
    const store = join(await dirs.make(), 'papyra.ndjson');
    await appendFile(store, '{"kind":"event"');
    const { exited } = startService({ PAPYRA_STORE: store });
    expect(await exited).toBe(ExitCode.STARTUP_FAILED);
  });
});
