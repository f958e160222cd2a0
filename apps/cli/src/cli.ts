import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { STARTUP_MODES } from '@papyra/persistence-contract';
import { doctorCommand } from './commands/doctor.js';
import { auditsCommand, deadLettersCommand, eventsCommand, summaryCommand, type ListArgs } from './commands/inspect.js';
import { metricsCommand, metricsResetCommand } from './commands/metrics.js';
import {
  compactCommand,
  inspectStoreCommand,
  recoverCommand,
  scanCommand,
  startupCheckCommand,
  type InspectStoreArgs,
  type RecoverArgs,
  type StartupArgs,
} from './commands/persistence.js';
import { usageError } from './errors.js';
import { makeRedactor, processIo, redactedIo, type Io } from './io.js';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, createLogger } from './logger.js';
import { reportError, runCommand, type Command, type GlobalArgs } from './run.js';
import { BACKENDS } from './settings.js';

// dist/cli.js and src/cli.ts both sit one level below package.json.
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Runs the papyra command line (without the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode = 0;
  const handle =
    <A extends GlobalArgs>(command: Command<A>) =>
    async (args: unknown) => {
      exitCode = await runCommand(args as A, io, command);
    };

  const cli = yargs([...argv])
    .scriptName('papyra')
    .usage('$0 <command> [options]\n\nScan, recover, compact and inspect Papyra persistence stores.')
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .options(storeOptions())
    .option('json', { type: 'boolean', describe: 'Print exactly one JSON document on stdout', group: 'Output:' })
    .option('log-level', {
      type: 'string',
      choices: [...LOG_LEVELS],
      // Not a yargs default: a bad PAPYRA_LOG_LEVEL is a configuration error (78), not a usage error.
      defaultDescription: `${DEFAULT_LOG_LEVEL}, or PAPYRA_LOG_LEVEL`,
      describe: 'pino log level; logs go to stderr (JSON lines, readable lines on a terminal). warn shows what the backends report',
      group: 'Output:',
    })
    .command('persistence', 'Scan, recover, compact, inspect and check a store', (y) =>
      y
        .command(
          'scan',
          'Read-only scan for corruption (exit 0 clean, 2 anomalies)',
          (c) => examples(c, [['$0 persistence scan --path ./papyra.ndjson', 'Scan an NDJSON file'], ['$0 persistence scan --backend redis --redis-url redis://localhost:6379 --json', 'Scan Redis streams, JSON report']]),
          handle(scanCommand),
        )
        .command(
          'recover',
          'Repair the store, or quarantine what is removed (exit 0 clean afterwards, 2 anomalies remain)',
          (c) =>
            examples(
              c
                .option('mode', { type: 'string', choices: ['repair', 'quarantine', 'ignore'], demandOption: true, describe: 'repair: drop what the scan flagged; quarantine: keep its original bytes first; ignore: report only' })
                .option('quarantine-dir', { type: 'string', describe: 'Where quarantine keeps the removed bytes (required for quarantine)' }),
              [
                ['$0 persistence recover --mode repair --path ./papyra.ndjson', 'Drop corrupt lines, keep every valid record'],
                ['$0 persistence recover --mode quarantine --quarantine-dir ./quarantine --path ./papyra.ndjson', 'The same, keeping the original bytes'],
              ],
            ),
          handle<RecoverArgs>(recoverCommand),
        )
        .command(
          'compact',
          'Apply retention physically and print the report',
          (c) => examples(c, [['$0 persistence compact --path ./papyra.ndjson --max-age 7d', 'Drop records older than a week'], ['$0 persistence compact --path ./papyra.ndjson --max-records 10000', 'Keep the newest 10,000 records of each kind']]),
          handle(compactCommand),
        )
        .command(
          'inspect',
          'Backend, capabilities, record counts and the newest records of each kind',
          (c) =>
            examples(
              c
                .option('limit', { type: 'number', default: 5, describe: 'Newest records shown per kind' })
                .option('show-metrics', { type: 'boolean', describe: "Also show this process's persistence counters" }),
              [['$0 persistence inspect --path ./papyra.ndjson --limit 3', 'Overview with the 3 newest records of each kind']],
            ),
          handle<InspectStoreArgs>(inspectStoreCommand),
        )
        .command(
          'startup-check',
          'Run the startup check a service would (exit 0 ok, 1 anomalies, 2 recovery incomplete)',
          (c) => examples(startupOptions(c), [['$0 persistence startup-check --path ./papyra.ndjson', 'Fail (exit 1) on any anomaly'], ['$0 persistence startup-check --path ./papyra.ndjson --mode recover', 'Repair, then require a clean post-scan']]),
          handle<StartupArgs>(startupCheckCommand),
        )
        .example([
          ['$0 persistence scan --path ./papyra.ndjson', 'Look for corruption (read-only)'],
          ['$0 persistence recover --mode repair --path ./papyra.ndjson', 'Drop what the scan flagged'],
        ])
        .demandCommand(1, 'Choose a persistence command.'),
    )
    .command('doctor', 'Health report of a store', (y) =>
      y
        .command(
          'run',
          'Startup check plus an overview of the store (exit codes as startup-check)',
          (c) => examples(startupOptions(c), [['$0 doctor run --path ./papyra.ndjson', 'Is this store healthy?'], ['$0 doctor run --config ./papyra.config.json --json', 'The same from a config file, as JSON']]),
          handle<StartupArgs>(doctorCommand),
        )
        .example([['$0 doctor run --path ./papyra.ndjson', 'Is this store healthy?']])
        .demandCommand(1, 'Choose a doctor command.'),
    )
    .command('inspect', 'List events, audits and dead letters; summarise a store', (y) =>
      y
        .command(
          'events',
          'Lifecycle events (newest --limit, oldest first)',
          (c) =>
            examples(
              listOptions(c)
                .option('event-type', { type: 'string', describe: 'Only this event type (ActorStarted, ActorCrashed, ActorRestarted, ActorStopped)' })
                .option('actor', { type: 'string', describe: 'Only this actor: an address (local:3) or an actor id (3)' }),
              [
                ['$0 inspect events --path ./papyra.ndjson --since 15m', 'Events of the last 15 minutes'],
                ['$0 inspect events --path ./papyra.ndjson --event-type ActorCrashed --reverse', 'Crashes, newest first'],
              ],
            ),
          handle<ListArgs>(eventsCommand),
        )
        .command(
          'audits',
          'Audit snapshots',
          (c) => examples(listOptions(c), [['$0 inspect audits --path ./papyra.ndjson --limit 1', 'The latest audit']]),
          handle<ListArgs>(auditsCommand),
        )
        .command(
          'dead-letters',
          'Messages that could not be delivered',
          (c) =>
            examples(listOptions(c).option('target', { type: 'string', describe: 'Only this target: an address (local:2) or an actor id (2)' }), [
              ['$0 inspect dead-letters --path ./papyra.ndjson --target local:2', 'Dead letters sent to one actor'],
              ['$0 inspect dead-letters --path ./papyra.ndjson --since 2025-01-01T00:00:00Z --json', 'Since a date, as JSON'],
            ]),
          handle<ListArgs>(deadLettersCommand),
        )
        .command(
          'summary',
          'Counts, event types, actors, dead letters by target and type, time range, latest audit',
          (c) => examples(c, [['$0 inspect summary --path ./papyra.ndjson', 'What is in this store?']]),
          handle(summaryCommand),
        )
        .example([
          ['$0 inspect summary --path ./papyra.ndjson', 'What is in this store?'],
          ['$0 inspect events --path ./papyra.ndjson --since 1h --reverse', 'The last hour of events, newest first'],
        ])
        .demandCommand(1, 'Choose an inspect command.'),
    )
    .command('metrics', 'Store figures and persistence counters', (y) =>
      y
        .command(
          'persistence',
          'Records and bytes per kind, oldest and newest record, and this process’s counters',
          (c) => examples(c, [['$0 metrics persistence --path ./papyra.ndjson --json', 'Store figures as JSON']]),
          handle(metricsCommand),
        )
        .command(
          'reset',
          'Reset the counters (of this process: a CLI cannot reach a running service’s)',
          (c) => examples(c, [['$0 metrics reset --path ./papyra.ndjson', 'Reset and explain the scope']]),
          handle(metricsResetCommand),
        )
        .example([['$0 metrics persistence --path ./papyra.ndjson', 'Records and bytes per kind']])
        .demandCommand(1, 'Choose a metrics command.'),
    )
    .example([
      ['$0 persistence scan --path ./papyra.ndjson', 'Look for corruption (read-only)'],
      ['$0 persistence recover --mode repair --path ./papyra.ndjson', 'Drop what the scan flagged'],
      ['$0 doctor run --backend redis --redis-url redis://localhost:6379', 'Health report of Redis streams'],
      ['$0 inspect events --path ./papyra.ndjson --since 15m --event-type ActorCrashed', 'Recent crashes'],
      ['PAPYRA_PATH=./papyra.ndjson $0 inspect summary --json', 'Options from the environment, JSON output'],
    ])
    .epilogue(
      'Store options may also come from PAPYRA_<OPTION> variables (PAPYRA_PATH, PAPYRA_REDIS_URL, …) or a --config file; flags win over variables, variables over the file.\nExit codes: 0 ok · 1 startup check refused · 2 anomalies · 64 usage · 69 backend unreachable · 70 internal · 75 store locked · 78 configuration.',
    )
    .demandCommand(1, 'Choose a command.')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(VERSION)
    .wrap(null)
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? usageError(message ?? 'Invalid command line.');
    });

  try {
    await cli.parseAsync();
  } catch (error) {
    // A usage error may quote the command line (`Unknown argument: postgres://u:pw@h`).
    const redact = makeRedactor();
    for (const text of [...argv, io.env['PAPYRA_REDIS_URL'], io.env['PAPYRA_DATABASE_URL']]) redact.addUrl(text?.replace(/^--[\w-]+=/, ''));
    const safeIo = redactedIo(io, redact);
    return reportError(error, safeIo, createLogger(DEFAULT_LOG_LEVEL, safeIo), argv.includes('--json'));
  }
  return exitCode;
}

function storeOptions() {
  const store = 'Store (or PAPYRA_<OPTION>, or --config):';
  const retention = 'Retention (for compact and lists):';
  return {
    backend: { type: 'string', choices: [...BACKENDS], describe: 'Backend; --path alone means ndjson', group: store },
    path: { type: 'string', describe: 'NDJSON file (ndjson, rotating)', group: store },
    'max-bytes': { type: 'string', describe: 'Rotating: bytes per file', group: store },
    'max-files': { type: 'string', describe: 'Rotating: files in the set', group: store },
    'redis-url': { type: 'string', describe: 'Redis URL (default redis://127.0.0.1:6379)', group: store },
    prefix: { type: 'string', describe: 'Redis key prefix (default papyra)', group: store },
    'system-id': { type: 'string', describe: 'Redis: the system whose streams to read (default local); PostgreSQL: only this system in lists and compaction', group: store },
    'database-url': { type: 'string', describe: 'PostgreSQL connection string', group: store },
    schema: { type: 'string', describe: 'PostgreSQL schema (default: the search_path, normally public)', group: store },
    table: { type: 'string', describe: 'PostgreSQL table (default papyra_records)', group: store },
    config: { type: 'string', describe: 'JSON options file, or an ES module whose default export is a backend or options', group: store },
    'max-records': { type: 'string', describe: 'Keep the newest N records per kind', group: retention },
    'max-age': { type: 'string', describe: 'Keep records younger than this (7d, 12h, or ms)', group: retention },
    'max-total-bytes': { type: 'string', describe: 'Keep the newest records per kind within N bytes', group: retention },
  } as const;
}

function listOptions<T>(y: Argv<T>) {
  return y
    .option('limit', { type: 'number', default: 50, describe: 'The newest N records' })
    .option('since', { type: 'string', describe: 'Only records at or after: epoch ms, ISO-8601, or a duration ago (15m, 2h, 7d)' })
    .option('reverse', { type: 'boolean', describe: 'Newest first' });
}

function startupOptions<T>(y: Argv<T>) {
  return y
    .option('mode', { type: 'string', choices: [...STARTUP_MODES], default: 'fail_on_anomaly', describe: 'What the check does with anomalies' })
    .option('recovery-mode', { type: 'string', choices: ['repair', 'quarantine'], default: 'repair', describe: 'Recovery used by --mode recover' })
    .option('quarantine-dir', { type: 'string', describe: 'Where quarantine keeps the removed bytes' });
}

function examples<T>(y: Argv<T>, list: [string, string][]): Argv<T> {
  return y.example(list);
}
