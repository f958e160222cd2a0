import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/** One measured quantity: one value per round. */
export interface Sample {
  label: string;
  /** Explicit: `msg/s` counts messages processed, `exchanges/s` request+reply pairs, `rec/s` records readable afterwards. */
  unit: string;
  values: number[];
}

export type Target =
  /** subject / baseline must be at least `value` (throughput: higher is better). */
  | { kind: 'min-ratio'; value: number }
  /** subject / baseline must be at most `value` (time: lower is better). */
  | { kind: 'max-ratio'; value: number }
  /** the subject's median must be at most `value` (its own unit). */
  | { kind: 'max'; value: number };

export interface Figure {
  /** Stable across sizes and runs: what `pnpm bench:compare` matches on. */
  id: string;
  section: string;
  name: string;
  subject: Sample;
  baseline?: Sample;
  target?: Target;
  note?: string;
}

export interface Result extends Figure {
  /** Median of the subject ÷ median of the baseline. */
  ratio: number | null;
  /** The lowest and highest ratio of one round (subject and baseline of the same round, run back to back). */
  ratioMin: number | null;
  ratioMax: number | null;
  met: boolean | null;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The nearest-rank percentile `p` (0–100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Runs subject and baseline alternately (`runs` times each, the order flipped every round) so that
 * drift in machine load affects both alike; each function returns its own figure for one run.
 */
export async function sideBySide<T>(runs: number, subject: () => Promise<T>, baseline: () => Promise<T>): Promise<[T[], T[]]> {
  const [s, b] = await interleaved(runs, [subject, baseline]);
  return [s!, b!];
}

/** As `sideBySide` for any number of arms: every round runs each arm once, the order rotating. */
export async function interleaved<T>(runs: number, arms: readonly (() => Promise<T>)[]): Promise<T[][]> {
  const out: T[][] = arms.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < arms.length; k++) {
      const arm = (round + k) % arms.length;
      out[arm]!.push(await arms[arm]!());
    }
  }
  return out;
}

export async function repeat(runs: number, fn: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/** Operations per second for `count` operations taking `ms`. */
export const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * A figure counts completed work only: each arm counts what was processed or is readable
 * afterwards, and a shortfall fails the section instead of flattering the rate.
 */
export function verify(what: string, expected: number, actual: number): void {
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, counted ${actual}; the run did not complete its work`);
}

export function evaluate(figure: Figure): Result {
  const s = median(figure.subject.values);
  const ratio = figure.baseline ? s / median(figure.baseline.values) : null;
  let ratioMin: number | null = null;
  let ratioMax: number | null = null;
  const base = figure.baseline?.values;
  if (base && base.length === figure.subject.values.length) {
    const perRound = figure.subject.values.map((v, i) => v / base[i]!);
    ratioMin = Math.min(...perRound);
    ratioMax = Math.max(...perRound);
  }
  let met: boolean | null = null;
  if (figure.target?.kind === 'min-ratio' && ratio !== null) met = ratio >= figure.target.value;
  if (figure.target?.kind === 'max-ratio' && ratio !== null) met = ratio <= figure.target.value;
  if (figure.target?.kind === 'max') met = s <= figure.target.value;
  return { ...figure, ratio, ratioMin, ratioMax, met };
}

const fmt = (n: number): string => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3));

function describeSample(sample: Sample): string {
  const values = sample.values;
  return `${fmt(median(values))} ${sample.unit} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))}, n=${values.length})`;
}

function describeTarget(result: Result): string {
  const t = result.target;
  if (!t) return '–';
  if (t.kind === 'min-ratio') return `≥ ${t.value}×`;
  if (t.kind === 'max-ratio') return `≤ ${t.value}×`;
  return `≤ ${fmt(t.value)} ${result.subject.unit}`;
}

function describeRatio(r: Result): string {
  if (r.ratio === null) return '–';
  const spread = r.ratioMin !== null && r.ratioMax !== null ? ` (${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)})` : '';
  return `${r.ratio.toFixed(2)}×${spread}`;
}

/** The table, as Markdown (it also reads well in a terminal). */
export function table(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.section,
    r.name,
    `${r.subject.label}: ${describeSample(r.subject)}`,
    r.baseline ? `${r.baseline.label}: ${describeSample(r.baseline)}` : '–',
    describeRatio(r),
    describeTarget(r),
    r.met === null ? '–' : r.met ? 'met' : '**missed**',
  ]);
  const head = ['section', 'figure', 'papyra (median, min–max)', 'baseline (median, min–max)', 'ratio (per-round min–max)', 'target', 'status'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineFacts(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** The 1-minute load average: on a shared machine, the noise every figure sat in. */
export const load = (): number => loadavg()[0]!;

/** A child script's built path, whether this module runs from dist/ or (under jest) from src/. */
export function childScript(name: string): string {
  return fileURLToPath(new URL(`../dist/children/${name}.js`, import.meta.url));
}
