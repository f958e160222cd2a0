// `changeset version` on a clean checkout: every published package becomes 0.1.0 (the first
// release) and no private package is touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('changeset version releases 0.1.0 and versions no private package', () => {
  const work = mkdtempSync(join(tmpdir(), 'papyra-changesets-'));
  try {
    const clone = join(work, 'repo');
    sh('git', ['clone', '--quiet', root, clone]);
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
    sh(join(root, 'node_modules/.bin/changeset'), ['version'], clone);
    const changed = sh('git', ['status', '--porcelain'], clone)
      .split('\n')
      .map((line) => line.slice(3))
      .filter((path) => path.endsWith('package.json'));
    assert.ok(changed.length > 0, 'changeset version changed no manifest');
    for (const path of changed) {
      const manifest = JSON.parse(readFileSync(join(clone, path), 'utf8'));
      assert.notEqual(manifest.private, true, `private package touched: ${path}`);
      assert.equal(manifest.version, '0.1.0', path);
    }
    const published = sh('git', ['ls-files', 'packages/*/package.json', 'apps/*/package.json'], clone).trim().split('\n');
    for (const path of published) {
      const manifest = JSON.parse(readFileSync(join(clone, path), 'utf8'));
      if (manifest.private !== true) assert.ok(changed.includes(path), `${path} was not versioned`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
