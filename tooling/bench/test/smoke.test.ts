import { describe, expect, it } from '@jest/globals';
import { createConnection } from 'node:net';
import { runBench } from '../src/main.js';

const reachable = (url: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const { hostname, port: given } = new URL(url);
    const socket = createConnection({ host: hostname, port: Number(given) || port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });

const services = {
  redis: await reachable(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', 6379),
  postgres: await reachable(process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', 5432),
};
const ci = process.env['CI'] === 'true';
for (const [name, up] of Object.entries(services)) {
  if (!up && !ci) console.warn(`\n!!! bench smoke test: ${name} is unreachable; its section is SKIPPED (it would fail under CI=true)\n`);
}

// The harness must not rot: every section runs end to end at tiny sizes (no timing asserted).
describe('pnpm bench --quick', () => {
  it('measures every SPEC §11 figure with its baseline and target', async () => {
    const sections = (['ndjson', 'redis', 'postgres', 'actors'] as const).filter((s) => ci || s === 'ndjson' || s === 'actors' || services[s]);
    const outcome = await runBench({ quick: true, sections: [...sections], log: () => {} });
    expect(outcome.failures).toEqual([]);
    const expected = { ndjson: 6, redis: 1, postgres: 1, actors: 3 };
    expect(outcome.results).toHaveLength(sections.reduce((n, s) => n + expected[s], 0));
    for (const result of outcome.results) {
      expect(result.subject.values.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
      if (result.baseline) expect(result.ratio).toBeGreaterThan(0);
      if (result.section !== 'postgres') expect(result.target).toBeDefined();
    }
  }, 240_000);
});
