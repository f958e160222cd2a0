import { describe, expect, it } from '@jest/globals';
import { conformanceScenarios, runBackendConformance, runScenario } from '../src/conformance/index.js';
import { BROKEN } from './support/broken-backends.js';
import { collectingRunner, type Outcome } from './support/fake-runner.js';
import { lineStoreHarness } from './support/line-store.js';

async function outcomesFor(harness: Parameters<typeof runBackendConformance>[1]): Promise<Outcome[]> {
  const { runner, run } = collectingRunner();
  await runBackendConformance(runner, harness);
  return run();
}

const summary = (outcomes: Outcome[]) =>
  outcomes.filter((o) => o.status === 'failed').map((o) => `${o.name}: ${String((o.error as Error)?.message).split('\n')[0]}`);

describe('the conformance suite has teeth', () => {
  it('passes the reference backend with every scenario run and none skipped', async () => {
    const outcomes = await outcomesFor(lineStoreHarness('reference'));
    expect(summary(outcomes)).toEqual([]);
    expect(outcomes.filter((o) => o.status === 'skipped')).toEqual([]);
    expect(outcomes).toHaveLength(conformanceScenarios.length);
  });

  it.each(BROKEN.map((b) => [b.name, b] as const))('fails a backend that %s', async (_name, broken) => {
    const outcomes = await outcomesFor(lineStoreHarness(broken.name, broken.Backend));
    const failed = outcomes.filter((o) => o.status === 'failed').map((o) => o.name);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((name) => name.includes(broken.caughtBy))).toBe(true);
  });

  it('registers a missing capability as a skipped test naming the reason', async () => {
    const harness = lineStoreHarness('no-compact');
    const make = harness.make;
    harness.make = async (ctx) =>
      Object.assign(await make(ctx), { capabilities: { scan: true, recover: true, quarantine: true, compact: false, metrics: true, durable: true } });
    const outcomes = await outcomesFor({ ...harness, reopen: undefined, corruptions: ['torn_tail'] });
    const skipped = outcomes.filter((o) => o.status === 'skipped').map((o) => o.name);
    expect(skipped).toContainEqual(
      expect.stringContaining('compact physically applies maxRecords per kind; lists are unchanged by it [skipped: backend lacks capability compact]'),
    );
    expect(skipped).toContainEqual(expect.stringContaining('everything flushed is listed after close and reopen [skipped: harness has no reopen]'));
    expect(skipped).toContainEqual(expect.stringContaining('[skipped: harness cannot inflict corrupt_line]'));
    expect(outcomes.filter((o) => o.status === 'failed')).toEqual([]);
  });

  it('exposes scenarios as data that run on their own', async () => {
    const scenario = conformanceScenarios.find((s) => s.name.includes('lists each kind in append order'))!;
    const caps = { scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true };
    await expect(runScenario(lineStoreHarness('reference'), scenario, caps)).resolves.toBeUndefined();
    const losing = BROKEN.find((b) => b.name === 'loses a record')!;
    await expect(runScenario(lineStoreHarness('broken', losing.Backend), scenario, caps)).rejects.toThrow();
  });
});
