// pnpm bench [section …] [--quick] [--out FILE]: every SPEC §11 figure beside its baseline.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { evaluate, machineFacts, table, type Figure, type Result } from './harness.js';
import { FULL, QUICK } from './scale.js';
import { actorsSection } from './sections/actors.js';
import { ndjsonSection } from './sections/ndjson.js';
import { postgresSection } from './sections/postgres.js';
import { redisSection } from './sections/redis.js';

const SECTIONS = { ndjson: ndjsonSection, redis: redisSection, postgres: postgresSection, actors: actorsSection } as const;
type SectionName = keyof typeof SECTIONS;

export interface BenchOptions {
  sections?: SectionName[];
  quick?: boolean;
  log?: (line: string) => void;
}

export interface BenchOutcome {
  results: Result[];
  failures: { section: string; error: string }[];
}

export async function runBench(options: BenchOptions = {}): Promise<BenchOutcome> {
  const scale = options.quick ? QUICK : FULL;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const results: Result[] = [];
  const failures: BenchOutcome['failures'] = [];
  for (const name of options.sections ?? (Object.keys(SECTIONS) as SectionName[])) {
    log(`bench: ${name}…`);
    const started = performance.now();
    try {
      const figures: Figure[] = await SECTIONS[name](scale);
      results.push(...figures.map(evaluate));
      log(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      failures.push({ section: name, error: error instanceof Error ? error.message : String(error) });
      log(`bench: ${name} FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  return { results, failures };
}

function report(outcome: BenchOutcome, command: string): string {
  const met = outcome.results.filter((r) => r.met === true).length;
  const judged = outcome.results.filter((r) => r.met !== null).length;
  return [
    '# Benchmarks',
    '',
    `Written by \`${command}\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machineFacts()}.`,
    '',
    'Each figure runs the Papyra code and its baseline alternately in the same process (or, for',
    'memory figures, in child processes of the same script), several times; the table shows medians',
    'with min–max, and the ratio of the medians. Throughput ratios are papyra ÷ baseline (higher is',
    'better); time and memory ratios are papyra ÷ baseline where lower is better.',
    '',
    table(outcome.results),
    '',
    ...outcome.results.filter((r) => r.note).map((r) => `- ${r.section}, ${r.name}: ${r.note}`),
    '',
    `${met} of ${judged} targets met.`,
    ...(outcome.failures.length ? ['', 'Sections that could not run:', ...outcome.failures.map((f) => `- ${f.section}: ${f.error}`)] : []),
    '',
  ].join('\n');
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
  const outcome = await runBench({ sections: names.length ? (names as SectionName[]) : undefined, quick });
  const text = report(outcome, `pnpm bench${args.length ? ' ' + args.join(' ') : ''}`);
  console.log(text);
  // A partial run must not overwrite the full table.
  if (out && names.length === 0) writeFileSync(out, text);
  process.exit(outcome.failures.length ? 1 : 0);
}
