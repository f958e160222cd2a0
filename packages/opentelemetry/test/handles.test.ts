import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/register-unregister.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('process hygiene', () => {
  it('leaves no timers or handles behind: the process exits by itself after unregister', async () => {
    expect(existsSync(dist)).toBe(true); // the child imports the built package: run `npx tsc -b` first
    const result = await new Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [fixture], { timeout: 10_000, env: { ...process.env, NODE_OPTIONS: '' } }, (error, stdout, stderr) =>
        resolve({ code: child.exitCode, killed: error?.killed ?? false, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe('');
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    const { names, handles } = JSON.parse(result.stdout) as { names: string[]; handles: string[] };
    expect(names).toEqual(expect.arrayContaining(['papyra.persistence.record.written', 'papyra.message.processed']));
    expect(handles).toEqual([]);
  });
});
