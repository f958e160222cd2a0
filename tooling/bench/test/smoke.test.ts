import { describe, expect, it } from '@jest/globals';
import { runBench } from '../src/main.js';

// The harness must not rot: every section runs end to end at tiny sizes (no timing asserted).
describe('pnpm bench --quick', () => {
  it('measures every SPEC §11 figure with its baseline and target', async () => {
    const outcome = await runBench({ quick: true, log: () => {} });
    expect(outcome.failures).toEqual([]);
    const names = outcome.results.map((r) => `${r.section}: ${r.name}`);
    expect(names).toHaveLength(10);
    for (const result of outcome.results) {
      expect(result.subject.values.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
      if (result.section !== 'postgres') expect(result.target).toBeDefined();
    }
  }, 240_000);
});
