// A `node --test` reporter that writes this package's totals beside the Jest ones, so the closing
// line of scripts/test.mjs counts node:test runs too. It prints nothing: pair it with `spec`.
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export default async function* nodeTestResults(source) {
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    const { type, data } = event;
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    if (data.details?.type === 'suite') continue; // suites are not tests; their failures show on a test
    if (data.skip !== undefined || data.todo !== undefined) totals.skipped += 1;
    else if (type === 'test:pass') totals.passed += 1;
    else totals.failed += 1;
  }
  const root = workspaceRoot(process.cwd());
  if (root === null) return;
  const out = join(root, '.test-results');
  mkdirSync(out, { recursive: true });
  const name = relative(root, process.cwd()).replace(/[\\/]/g, '__') || 'root';
  writeFileSync(join(out, `node-test-${name}.json`), JSON.stringify(totals));
}

function workspaceRoot(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}
