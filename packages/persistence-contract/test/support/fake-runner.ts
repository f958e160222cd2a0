import type { ConformanceRunner } from '../../src/conformance/index.js';

export interface Outcome {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  error?: unknown;
}

/** A minimal runner that records what the suite registers, then runs it and collects outcomes. */
export function collectingRunner(): { runner: ConformanceRunner; run(): Promise<Outcome[]> } {
  const path: string[] = [];
  const tests: { name: string; fn: (() => Promise<void>) | null }[] = [];
  const before: (() => Promise<void> | void)[] = [];
  const after: (() => Promise<void> | void)[] = [];
  const it = Object.assign((name: string, fn: () => Promise<void>) => void tests.push({ name: [...path, name].join(' › '), fn }), {
    skip: (name: string) => void tests.push({ name: [...path, name].join(' › '), fn: null }),
  });
  const runner: ConformanceRunner = {
    describe(name, fn) {
      path.push(name);
      fn();
      path.pop();
    },
    it,
    beforeEach: (fn) => void before.push(fn),
    afterEach: (fn) => void after.push(fn),
  };
  return {
    runner,
    async run() {
      const outcomes: Outcome[] = [];
      for (const test of tests) {
        if (!test.fn) {
          outcomes.push({ name: test.name, status: 'skipped' });
          continue;
        }
        try {
          for (const hook of before) await hook();
          await test.fn();
          for (const hook of after) await hook();
          outcomes.push({ name: test.name, status: 'passed' });
        } catch (error) {
          outcomes.push({ name: test.name, status: 'failed', error });
        }
      }
      return outcomes;
    },
  };
}
