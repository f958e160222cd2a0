// pnpm bench:compare [--committed FILE] [--current FILE]: compares the ratios of the last
// `pnpm bench` run (benchmarks.json) with the committed run (git HEAD:benchmarks.json) and exits 1
// when any fell by more than the spread that run observed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Result } from './harness.js';
import type { BenchRecord } from './main.js';

/** A ratio change smaller than this is never flagged, even on a row measured in a single round. */
const FLOOR = 0.02;

export interface Verdict {
  id: string;
  name: string;
  committed: number;
  current: number;
  /** How far the ratio may move in the bad direction before it is flagged. */
  allowed: number;
  fell: boolean;
}

/** Rates (`…/s`) are better higher; times, memory and sizes are better lower. */
const higherIsBetter = (r: Result): boolean => r.subject.unit.endsWith('/s');

/**
 * One verdict per ratio present in both runs. A ratio "fell" when it moved in the bad direction by
 * more than the committed run's own spread on that side (its median to its worst single round),
 * and by more than 2 %.
 */
export function compareRuns(committed: Pick<BenchRecord, 'results'>, current: Pick<BenchRecord, 'results'>): Verdict[] {
  const before = new Map(committed.results.filter((r) => r.ratio !== null).map((r) => [r.id, r]));
  const verdicts: Verdict[] = [];
  for (const now of current.results) {
    const then = before.get(now.id);
    if (!then || now.ratio === null || then.ratio === null) continue;
    const up = higherIsBetter(then);
    const worst = up ? (then.ratioMin ?? then.ratio) : (then.ratioMax ?? then.ratio);
    const allowed = Math.max(Math.abs(then.ratio - worst), FLOOR * then.ratio);
    const change = up ? then.ratio - now.ratio : now.ratio - then.ratio;
    verdicts.push({ id: now.id, name: `${now.section}, ${now.name}`, committed: then.ratio, current: now.ratio, allowed, fell: change > allowed });
  }
  return verdicts;
}

function load(file: string | undefined, fallback: () => string): BenchRecord {
  return JSON.parse(file ? readFileSync(file, 'utf8') : fallback()) as BenchRecord;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  let current: BenchRecord;
  try {
    current = load(option('--current'), () => readFileSync(`${root}benchmarks.json`, 'utf8'));
  } catch (error) {
    console.error(`No run to compare (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): run pnpm bench first.`);
    process.exit(66);
  }
  let committed: BenchRecord;
  try {
    committed = load(option('--committed'), () =>
      execFileSync('git', ['show', 'HEAD:benchmarks.json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  } catch (error) {
    console.error(`No committed run to compare with (${error instanceof Error ? error.message.split('\n')[0] : String(error)}).`);
    process.exit(0);
  }
  if (committed.quick !== current.quick) console.error('warning: one run is --quick and the other is not; their ratios are not comparable');
  const verdicts = compareRuns(committed, current);
  const rows = verdicts.map(
    (v) => `| ${v.fell ? '**fell**' : 'ok'} | ${v.name} | ${v.committed.toFixed(2)}× | ${v.current.toFixed(2)}× | ±${v.allowed.toFixed(2)} |`,
  );
  console.log(['| verdict | figure | committed | current | allowed |', '| --- | --- | --- | --- | --- |', ...rows].join('\n'));
  const fell = verdicts.filter((v) => v.fell);
  console.log(
    `\n${verdicts.length} ratios compared (committed ${committed.date.slice(0, 10)}, current ${current.date.slice(0, 10)}); ${fell.length} fell by more than the committed spread.`,
  );
  process.exit(fell.length ? 1 : 0);
}
