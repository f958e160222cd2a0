import { describe, expect, it } from '@jest/globals';
import { compareRuns } from '../src/compare.js';
import { evaluate, type Figure } from '../src/harness.js';

const figure = (id: string, unit: string, subject: number[], baseline: number[]): Figure => ({
  id,
  section: 's',
  name: id,
  subject: { label: 'papyra', unit, values: subject },
  baseline: { label: 'floor', unit, values: baseline },
});

describe('pnpm bench:compare', () => {
  const committed = {
    results: [
      // ratios per round 0.9, 1.0, 1.1: median 1.0, worst round 0.9.
      evaluate(figure('rate', 'rec/s', [90, 100, 110], [100, 100, 100])),
      // a time: ratios 1.0, 1.2, 1.4: lower is better, worst round 1.4.
      evaluate(figure('time', 'ms', [10, 12, 14], [10, 10, 10])),
      evaluate({ id: 'absolute', section: 's', name: 'absolute', subject: { label: 'x', unit: 'MB', values: [1] } }),
    ],
  };

  it('flags a ratio that fell by more than the committed spread, in the bad direction only', () => {
    const within = { results: [evaluate(figure('rate', 'rec/s', [92], [100])), evaluate(figure('time', 'ms', [13.5], [10]))] };
    expect(compareRuns(committed, within).map((v) => [v.id, v.fell])).toEqual([
      ['rate', false],
      ['time', false],
    ]);
    const worse = { results: [evaluate(figure('rate', 'rec/s', [85], [100])), evaluate(figure('time', 'ms', [15], [10]))] };
    expect(compareRuns(committed, worse).map((v) => [v.id, v.fell])).toEqual([
      ['rate', true],
      ['time', true],
    ]);
    const better = { results: [evaluate(figure('rate', 'rec/s', [200], [100])), evaluate(figure('time', 'ms', [5], [10]))] };
    expect(compareRuns(committed, better).every((v) => !v.fell)).toBe(true);
  });

  it('compares ratios only, matched by id', () => {
    const current = {
      results: [
        evaluate({ id: 'absolute', section: 's', name: 'absolute', subject: { label: 'x', unit: 'MB', values: [500] } }),
        evaluate(figure('new-row', 'rec/s', [1], [100])),
      ],
    };
    expect(compareRuns(committed, current)).toEqual([]);
  });
});
