import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeStore } from '../files.js';
import { childScript, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';

/** The built CLI; the bench runs what users run. */
export const CLI = fileURLToPath(new URL('../../../../apps/cli/dist/bin.js', import.meta.url));
const peakPreload = pathToFileURL(childScript('peak-rss')).href;

const COMMANDS = [
  ['persistence', 'scan'],
  ['doctor', 'run'],
  ['inspect', 'summary'],
  ['metrics', 'persistence'],
  ['persistence', 'inspect'],
] as const;

interface CliRun {
  ms: number;
  maxRssMb: number;
  output: unknown;
}

/** Runs one command on the store as a user would (`--json`), timing it from spawn to exit. */
function runCli(command: readonly string[], store: string, dir: string): Promise<CliRun> {
  const peakFile = join(dir, `peak-${Math.random().toString(36).slice(2)}`);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', peakPreload, CLI, ...command, '--path', store, '--json'],
      { env: { ...process.env, PAPYRA_BENCH_PEAK_FILE: peakFile }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const ms = performance.now() - start;
        if (error) return reject(new Error(`papyra ${command.join(' ')} failed (${String(error.code)}): ${stderr.slice(0, 500)}`));
        try {
          const maxRssMb = Number(readFileSync(peakFile, 'utf8')) / 1024;
          rmSync(peakFile, { force: true });
          resolve({ ms, maxRssMb, output: JSON.parse(stdout) as unknown });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    );
  });
}

/** Whether a command's JSON shows it read the whole store: some count in it equals the number of events. */
function accountsFor(output: unknown, events: number): boolean {
  return JSON.stringify(output).includes(`:${events}`);
}

export async function cliSection(scale: Scale): Promise<Figure[]> {
  if (!existsSync(CLI)) throw new Error(`the CLI is not built (${CLI}): pnpm --filter @papyra/cli build (pnpm bench builds it)`);
  const dir = mkdtempSync(join(tmpdir(), 'papyra-bench-cli-'));
  try {
    const store = join(dir, 'big.ndjson');
    writeStore(store, scale.scanRecords);
    const size = `${(statSync(store).size / 2 ** 20).toFixed(0)} MiB`;
    const events = scale.scanRecords - Math.floor(scale.scanRecords / 10);
    // Up to `readRuns` rounds, but no second one when a round takes over a minute: a slow command
    // on 1M records should not hold the whole bench for ten minutes to show its spread.
    const runs: CliRun[][] = COMMANDS.map(() => []);
    const started = performance.now();
    for (let round = 0; round < scale.readRuns && (round === 0 || performance.now() - started < 60_000); round++) {
      // Each round starts with a different command, as interleaved() rotates them.
      const order = COMMANDS.map((_, i) => (i + round) % COMMANDS.length);
      for (const i of order) runs[i]!.push(await runCli(COMMANDS[i]!, store, dir));
    }
    const scan = runs[0]!;
    const figures: Figure[] = [];
    COMMANDS.forEach((command, i) => {
      const own = runs[i]!;
      const name = `papyra ${command.join(' ')}`;
      const whole = own.every((r) => accountsFor(r.output, events));
      const id = `cli.${command.join('-')}`;
      figures.push(
        i === 0
          ? {
              id: `${id}.time`,
              section: 'cli',
              name: `${name}, ${scale.scanRecords.toLocaleString('en-US')} records (${size}), spawn to exit`,
              subject: { label: name, unit: 'ms', values: own.map((r) => r.ms) },
              note: 'the reference for the rows below; includes Node start-up',
            }
          : {
              id: `${id}.time`,
              section: 'cli',
              name: `${name}, same store, spawn to exit`,
              subject: { label: name, unit: 'ms', values: own.map((r) => r.ms) },
              baseline: { label: 'papyra persistence scan', unit: 'ms', values: scan.map((r) => r.ms) },
              target: { kind: 'max-ratio', value: 2 },
              ...(!whole && { note: `its --json output shows no count of ${events.toLocaleString('en-US')} events (a sampled or partial read?)` }),
            },
        {
          id: `${id}.rss`,
          section: 'cli',
          name: `${name}, peak RSS`,
          subject: { label: name, unit: 'MB', values: own.map((r) => r.maxRssMb) },
          target: { kind: 'max', value: 100 },
        },
      );
    });
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
