import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

/** One measured quantity: several runs of the same thing. */
export interface Sample {
  label: string;
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
  section: string;
  name: string;
  subject: Sample;
  baseline?: Sample;
  target?: Target;
  note?: string;
}

export interface Result extends Figure {
  ratio: number | null;
  met: boolean | null;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs subject and baseline alternately (`runs` times each, the order flipped every round) so that
 * drift in machine load affects both alike; each function returns its own figure for one run.
 */
export async function sideBySide<T>(runs: number, subject: () => Promise<T>, baseline: () => Promise<T>): Promise<[T[], T[]]> {
  const s: T[] = [];
  const b: T[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      s.push(await subject());
      b.push(await baseline());
    } else {
      b.push(await baseline());
      s.push(await subject());
    }
  }
  return [s, b];
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

export function evaluate(figure: Figure): Result {
  const s = median(figure.subject.values);
  const ratio = figure.baseline ? s / median(figure.baseline.values) : null;
  let met: boolean | null = null;
  if (figure.target?.kind === 'min-ratio' && ratio !== null) met = ratio >= figure.target.value;
  if (figure.target?.kind === 'max-ratio' && ratio !== null) met = ratio <= figure.target.value;
  if (figure.target?.kind === 'max') met = s <= figure.target.value;
  return { ...figure, ratio, met };
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

/** The table, as Markdown (it also reads well in a terminal). */
export function table(results: readonly Result[]): string {
  const rows = results.map((r) => [
    r.section,
    r.name,
    `${r.subject.label}: ${describeSample(r.subject)}`,
    r.baseline ? `${r.baseline.label}: ${describeSample(r.baseline)}` : '–',
    r.ratio === null ? '–' : `${r.ratio.toFixed(2)}×`,
    describeTarget(r),
    r.met === null ? '–' : r.met ? 'met' : '**missed**',
  ]);
  const head = ['section', 'figure', 'papyra (median, min–max)', 'baseline (median, min–max)', 'ratio', 'target', 'status'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineFacts(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

/** A child script's built path, whether this module runs from dist/ or (under jest) from src/. */
export function childScript(name: string): string {
  return fileURLToPath(new URL(`../dist/children/${name}.js`, import.meta.url));
}
