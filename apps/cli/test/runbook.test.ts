import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { papyraInProcess, tempDir, writeStore } from './helpers.js';

/*
 * docs/operations.md cannot rot: every `papyra` line of its `sh` blocks runs here, in order, on
 * one store (the helpers' sample store with a torn tail added), and must end with an exit code the
 * runbook documents for it — never a usage error (64) or an internal error (70).
 */
const RUNBOOK = new URL('../../../docs/operations.md', import.meta.url).pathname;

function commands(markdown: string): string[] {
  const out: string[] = [];
  let inSh = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      inSh = line.trim() === '```sh';
      continue;
    }
    if (inSh && line.startsWith('papyra ')) out.push(line.trim());
  }
  return out;
}

/** Splits a command line the way a POSIX shell would for these simple lines (no quotes needed). */
const argv = (line: string) => line.split(/\s+/).slice(1);

describe('docs/operations.md', () => {
  const { dir, cleanup } = tempDir();
  const lines = commands(readFileSync(RUNBOOK, 'utf8'));

  beforeAll(async () => {
    const path = join(dir, 'papyra.ndjson');
    await writeStore(path);
    appendFileSync(path, '{"kind": "event", "timest'); // a torn tail, as after a crash (scenario D)
  });
  afterAll(() => cleanup());

  it('shows commands to run', () => {
    expect(lines.length).toBeGreaterThanOrEqual(15);
  });

  for (const line of lines) {
    it(`runs: ${line}`, async () => {
      const run = await papyraInProcess(argv(line), { cwd: dir });
      const ok = [0, 1, 2];
      expect({ line, code: run.code, stderr: ok.includes(run.code ?? -1) ? '' : run.stderr }).toEqual({ line, code: run.code, stderr: '' });
      expect(ok).toContain(run.code);
      // Reading, exporting and restoring never report damage on this store.
      if (/^papyra (export|import|verify|diff|actors|explain|inspect|metrics)\b/.test(line)) expect(run.code).toBe(0);
      if (line.includes('--json')) expect(() => JSON.parse(run.stdout)).not.toThrow();
    });
  }
});
