// A `node --test` reporter that writes this package's totals beside the Jest ones, so the closing
// line of scripts/test.mjs counts node:test runs too. It prints nothing: pair it with `spec`.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Transform } from 'node:stream';

const totals = { passed: 0, failed: 0, skipped: 0 };

export default new Transform({
  writableObjectMode: true,
  transform({ type, data }, _encoding, callback) {
    // Suites are not tests; their failures show on a test.
    if ((type === 'test:pass' || type === 'test:fail') && data.details?.type !== 'suite') {
      if (data.skip !== undefined || data.todo !== undefined) totals.skipped += 1;
      else if (type === 'test:pass') totals.passed += 1;
      else totals.failed += 1;
    }
    callback();
  },
  flush(callback) {
    const root = workspaceRoot(process.cwd());
    if (root !== null) {
      const out = join(root, '.test-results');
      mkdirSync(out, { recursive: true });
      const name = relative(root, process.cwd()).replace(/[\\/]/g, '__') || 'root';
      writeFileSync(join(out, `node-test-${name}.json`), JSON.stringify(totals));
    }
    callback();
  },
});

function workspaceRoot(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}
