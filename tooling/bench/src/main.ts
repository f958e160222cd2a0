// pnpm bench [section …] [--quick] [--out FILE]: every SPEC §11 figure beside its baseline.
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment, environmentTable, type Environment } from './environment.js';
import { evaluate, load, table, type Figure, type Result } from './harness.js';
import { FULL, QUICK } from './scale.js';
import { actorsSection } from './sections/actors.js';
import { cliSection } from './sections/cli.js';
import { ndjsonSection } from './sections/ndjson.js';
import { persistedSection } from './sections/persisted.js';
import { postgresSection } from './sections/postgres.js';
import { redisSection } from './sections/redis.js';

export const SECTIONS = {
  ndjson: ndjsonSection,
  redis: redisSection,
  postgres: postgresSection,
  actors: actorsSection,
  persisted: persistedSection,
  cli: cliSection,
} as const;
export type SectionName = keyof typeof SECTIONS;

export interface BenchOptions {
  sections?: SectionName[];
  quick?: boolean;
  log?: (line: string) => void;
}

export interface BenchOutcome {
  results: Result[];
  failures: { section: string; error: string }[];
  /** The 1-minute load average before and after each section: the noise it ran in. */
  load: { section: string; before: number; after: number; seconds: number }[];
}

/** What `pnpm bench` writes beside BENCHMARKS.md, and what `pnpm bench:compare` reads. */
export interface BenchRecord extends BenchOutcome {
  date: string;
  command: string;
  quick: boolean;
  environment: Environment;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchOutcome> {
  const scale = options.quick ? QUICK : FULL;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const outcome: BenchOutcome = { results: [], failures: [], load: [] };
  for (const name of options.sections ?? (Object.keys(SECTIONS) as SectionName[])) {
    log(`bench: ${name}…`);
    const started = performance.now();
    const before = load();
    try {
      const figures: Figure[] = await SECTIONS[name](scale);
      outcome.results.push(...figures.map(evaluate));
      log(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      outcome.failures.push({ section: name, error: error instanceof Error ? error.message : String(error) });
      log(`bench: ${name} FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    }
    outcome.load.push({ section: name, before, after: load(), seconds: (performance.now() - started) / 1000 });
  }
  return outcome;
}

export function report(record: BenchRecord): string {
  const met = record.results.filter((r) => r.met === true).length;
  const judged = record.results.filter((r) => r.met !== null).length;
  const missed = record.results.filter((r) => r.met === false);
  const loads = record.load.map((l) => `${l.section} ${l.before.toFixed(1)}→${l.after.toFixed(1)} (${l.seconds.toFixed(0)} s)`).join(', ');
  return [
    '# Benchmarks',
    '',
    `Written by \`${record.command}\` on ${record.date.slice(0, 10)}; the same figures, machine-readable, are in`,
    '`benchmarks.json` beside this file, which `pnpm bench:compare` compares a new run with.',
    '',
    '## Environment',
    '',
    environmentTable(record.environment),
    '',
    `1-minute load average per section (before→after, duration): ${loads}. The machine has ${record.environment.cores} cores; a load above`,
    'that means other work shared them, so absolute figures are noisy: read the ratios, whose two arms',
    'ran back to back in the same rounds.',
    '',
    '## Method',
    '',
    '- **Completed work only.** Every arm counts what was done, not calls made: records readable in the',
    '  file (or stream entries, or rows) afterwards, messages processed by the handlers (and by the',
    "  runtime's own counter), actors fully stopped, replies received. A shortfall fails the section.",
    '- **Interleaved rounds.** Papyra and its baseline(s) run alternately in the same process, the order',
    '  rotating every round; memory and CLI figures run in child processes of the same script.',
    '- **Medians with spread.** Each cell is the median of the rounds with min–max and n; the ratio is',
    '  the ratio of the medians, and beside it the lowest and highest ratio of a single round.',
    '- **Units.** `rec/s` records, `msg/s` messages processed (one `tell` handled = one message),',
    '  an *exchange* is one `ask` request and its reply, `actors/s` actors through their whole life.',
    '  Throughput ratios are papyra ÷ baseline (higher is better); time and memory ratios are',
    '  papyra ÷ baseline (lower is better).',
    '',
    '## Results',
    '',
    table(record.results),
    '',
    ...record.results.filter((r) => r.note).map((r) => `- ${r.section}, ${r.name}: ${r.note}`),
    '',
    `${met} of ${judged} targets met.${missed.length ? ` Missed: ${missed.map((r) => `${r.section}, ${r.name}`).join('; ')}.` : ''}`,
    ...(record.failures.length ? ['', 'Sections that could not run:', ...record.failures.map((f) => `- ${f.section}: ${f.error}`)] : []),
    '',
  ].join('\n');
}

/** BENCHMARKS.md → benchmarks.json beside it; any other report → the same name with .json. */
export function jsonPathFor(report: string): string {
  const name = basename(report);
  return join(dirname(report), name === 'BENCHMARKS.md' ? 'benchmarks.json' : name.replace(/(\.md)?$/, '.json'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : quick ? undefined : fileURLToPath(new URL('../../../BENCHMARKS.md', import.meta.url));
  const names = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--out');
  const unknown = names.filter((n) => !(n in SECTIONS));
  if (unknown.length) {
    console.error(`Unknown section(s): ${unknown.join(', ')}. Sections: ${Object.keys(SECTIONS).join(', ')}.`);
    process.exit(64);
  }
  const env = await environment();
  const outcome = await runBench({ sections: names.length ? (names as SectionName[]) : undefined, quick });
  const record: BenchRecord = {
    date: new Date().toISOString(),
    command: `pnpm bench${args.length ? ' ' + args.join(' ') : ''}`,
    quick,
    environment: env,
    ...outcome,
  };
  const text = report(record);
  console.log(text);
  // A partial run must not overwrite the full table.
  if (out && names.length === 0) {
    writeFileSync(out, text);
    writeFileSync(jsonPathFor(out), JSON.stringify(record, null, 1) + '\n');
  }
  process.exit(outcome.failures.length ? 1 : 0);
}
