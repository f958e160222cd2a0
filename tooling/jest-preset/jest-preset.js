import { createRequire } from 'node:module';

// Resolved from here because pnpm's strict layout hides ts-jest from the packages using the preset.
const require = createRequire(import.meta.url);

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleNameMapper: {
    // NodeNext sources import './x.js'; jest must find './x.ts'.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': [
      require.resolve('ts-jest'),
      { useESM: true, tsconfig: { isolatedModules: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', verbatimModuleSyntax: false } },
    ],
  },
  reporters: ['default', require.resolve('./results-reporter.cjs')],
  testTimeout: 30_000,
};
