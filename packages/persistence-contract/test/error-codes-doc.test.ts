import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the error-code table of the README', () => {
  it('has a row for every PAPYRA_* code thrown in any package', () => {
    const dirs = [...readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src')), join(root, 'apps/cli/src')];
    const thrown = new Set<string>();
    for (const file of dirs.flatMap(sources)) {
      const text = readFileSync(file, 'utf8');
      // Codes appear as string literals next to PapyraError; environment variables (PAPYRA_PATH…) are not codes.
      for (const m of text.matchAll(/(?:new PapyraError|code:|hasCode\([^,]+,)\s*\(?\s*'(PAPYRA_[A-Z_]+)'/g)) thrown.add(m[1]!);
      for (const m of text.matchAll(/^\s+(PAPYRA_[A-Z_]+): ExitCode\./gm)) thrown.add(m[1]!);
    }
    const readme = readFileSync(join(root, 'packages/persistence-contract/README.md'), 'utf8');
    const rows = new Set([...readme.matchAll(/^\| `(PAPYRA_[A-Z_]+)` \|/gm)].map((m) => m[1]!));
    expect(thrown.size).toBeGreaterThan(15);
    expect([...thrown].filter((code) => !rows.has(code)).sort()).toEqual([]);
  });
});
