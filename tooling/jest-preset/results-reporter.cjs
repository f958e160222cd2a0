'use strict';
// Writes this package's totals where scripts/test.mjs sums them into one closing line for CI.
const fs = require('node:fs');
const path = require('node:path');

class ResultsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const dir = findWorkspaceRoot(this.rootDir);
    if (!dir) return;
    const out = path.join(dir, '.test-results');
    fs.mkdirSync(out, { recursive: true });
    const name = path.relative(dir, this.rootDir).replace(/[\\/]/g, '__') || 'root';
    fs.writeFileSync(
      path.join(out, `jest-${name}.json`),
      JSON.stringify({
        passed: results.numPassedTests,
        failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
        skipped: results.numPendingTests + results.numTodoTests,
      }),
    );
  }
}

function findWorkspaceRoot(start) {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

module.exports = ResultsReporter;
