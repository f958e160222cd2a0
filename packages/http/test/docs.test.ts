import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { ExitCode, READINESS_REASONS } from '../src/index.js';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every readiness reason code and exit code', () => {
    for (const reason of READINESS_REASONS) expect([reason, readme.includes(`| \`${reason}\` |`)]).toEqual([reason, true]);
    for (const [name, code] of Object.entries(ExitCode)) expect([name, readme.includes(`| ${code} (\`ExitCode.${name}\`) |`)]).toEqual([name, true]);
  });
});
