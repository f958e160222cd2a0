import yargs, { type Argv, type CommandModule, type Options } from 'yargs';
import { actorsCommand, explainCommand } from './commands/actors.js';
import { diffCommand, exportCommand, importCommand, verifyResult } from './commands/archive.js';
import { doctorCommand } from './commands/doctor.js';
import { auditsCommand, deadLettersCommand, eventsCommand, summaryCommand } from './commands/inspect.js';
import { metricsCommand, metricsResetCommand } from './commands/metrics.js';
import { compactCommand, inspectStoreCommand, recoverCommand, scanCommand, startupCheckCommand } from './commands/persistence.js';
import type { CommandArgs, CommandSpec } from './command.js';
import { EXIT_CODES_TEXT, usageError } from './errors.js';
import { makeRedactor, processIo, redactedIo, type Io } from './io.js';
import { DEFAULT_LOG_LEVEL, LOG_LEVELS, createLogger } from './logger.js';
import { reportError, runCommand, printResult } from './run.js';
import { BACKENDS, envName, kebab, secretUrls, storeOptionList } from './settings.js';
import type { StoreOption } from './stores/types.js';

import { VERSION } from './version.js';

/** Runs the papyra command line (without the program name) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let exitCode = 0;
  /** A yargs command module running `spec` against the selected store; its own options are listed first in its help. */
  const module = <O extends Record<string, Options>>(spec: CommandSpec<O>): CommandModule => ({
    command: spec.command,
    describe: spec.describe,
    builder: (y: Argv) => {
      const own = spec.options ?? {};
      // Grouped explicitly, so that help lists them before the global groups.
      return y.options(own).group(Object.keys(own), 'Options:').example(spec.examples);
    },
    handler: async (args) => {
      exitCode = await runCommand(args as unknown as CommandArgs<O>, io, spec);
    },
  });
  /** A command group (`papyra persistence`): without a subcommand it lists them (usage error, exit 64). */
  const group = (name: string, describe: string, specs: CommandModule[], examples: [string, string][]): CommandModule => ({
    command: name,
    describe,
    builder: (y: Argv) =>
      specs
        .reduce((acc, m) => acc.command(m), y)
        .example(examples)
        .demandCommand(1, `Choose a ${name} command: ${specs.map((m) => m.command).join(', ')}.`),
    handler: () => {},
  });

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
    .command(
      group(
        'persistence',
        'Scan, recover, compact, inspect and check a store',
        [module(scanCommand), module(recoverCommand), module(compactCommand), module(inspectStoreCommand), module(startupCheckCommand)],
        [
          ['$0 persistence scan --path ./papyra.ndjson', 'Look for corruption (read-only)'],
          ['$0 persistence recover --mode repair --path ./papyra.ndjson', 'Remove what the scan flagged'],
        ],
      ),
    )
    .command(group('doctor', 'Health report of a store', [module(doctorCommand)], [['$0 doctor run --path ./papyra.ndjson', 'Is this store healthy?']]))
    .command(
      group(
        'inspect',
        'List events, audits and dead letters; summarise a store',
        [module(eventsCommand), module(auditsCommand), module(deadLettersCommand), module(summaryCommand)],
        [
          ['$0 inspect summary --path ./papyra.ndjson', 'What is in this store?'],
          ['$0 inspect events --path ./papyra.ndjson --since 1h --reverse', 'The last hour of events, newest first'],
        ],
      ),
    )
    .command(
      group(
        'metrics',
        'Store figures and persistence counters',
        [module(metricsCommand), module(metricsResetCommand)],
        [['$0 metrics persistence --path ./papyra.ndjson', 'Records and bytes per kind']],
      ),
    )
    .command(module(exportCommand))
    .command(module(importCommand))
    .command({
      command: 'verify <archive>',
      describe: 'Check an archive: every file against its manifest, every line a record (exit 0 intact, 2 damaged)',
      builder: (y: Argv) => y.example([['$0 verify ./backup', 'Is this backup intact?']]),
      handler: async (args) => {
        exitCode = await printResult(io, args.json === true, () => verifyResult(String(args['archive']), io.cwd));
      },
    })
    .command(module(diffCommand))
    .command(module(actorsCommand))
    .command(module(explainCommand))
    .completion('completion', 'Print a bash/zsh completion script: papyra completion >> ~/.bashrc')
    .example([
      ['$0 persistence scan --path ./papyra.ndjson', 'Look for corruption (read-only)'],
      ['$0 persistence recover --mode repair --path ./papyra.ndjson', 'Remove what the scan flagged'],
      ['$0 doctor run --backend redis --redis-url redis://localhost:6379', 'Health report of Redis streams'],
      ['$0 inspect events --path ./papyra.ndjson --since 15m --event-type ActorCrashed', 'Recent crashes'],
      ['PAPYRA_PATH=./papyra.ndjson $0 inspect summary --json', 'Options from the environment, JSON output'],
    ])
    .epilogue(
      `Store options may also come from PAPYRA_<OPTION> variables (PAPYRA_PATH, PAPYRA_REDIS_URL, …) or a --config file; flags win over variables, variables over the file.\nExit codes: ${EXIT_CODES_TEXT}.`,
    )
    .demandCommand(1, 'Choose a command.')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(VERSION)
    // At the terminal's width (words are never broken); 80 columns when output is not a terminal.
    .wrap(io.columns ?? 80)
    .exitProcess(false)
    .fail((message, error, y) => {
      // A command group without its subcommand: show what it offers.
      if (!error && message?.startsWith('Choose a')) y.showHelp((help) => io.stderr(`${help}\n\n`));
      // yargs wraps errors thrown by `coerce` (a bad --limit); they are usage errors.
      if (error && error.name !== 'YError') throw error;
      throw usageError(message ?? error?.message ?? 'Invalid command line.');
    });

  try {
    // With a callback, yargs hands over its own output (help, version, completion) instead of printing it.
    await cli.parseAsync([...argv], {}, (_error, _args, output) => {
      if (output) io.stdout(`${output}\n`);
    });
  } catch (error) {
    // A usage error may quote the command line (`Unknown argument: postgres://u:pw@h`).
    const redact = makeRedactor();
    for (const text of [...argv.flatMap((a) => a.replace(/^--[\w-]+=/, '').split(',')), ...secretUrls(io.env, envName)]) redact.addUrl(text);
    const safeIo = redactedIo(io, redact);
    return reportError(error, safeIo, createLogger(DEFAULT_LOG_LEVEL, safeIo), argv.includes('--json'));
  }
  return exitCode;
}

/** The store flags, from each backend's module (all strings: `settings.ts` checks them). */
function storeOptions(): Record<string, Options> {
  const store = 'Store (or PAPYRA_<OPTION>, or --config):';
  const retention = 'Retention (for compact and lists):';
  const list = storeOptionList();
  const flag = (o: StoreOption, group: string): [string, Options] => [
    kebab(o.name ?? o.key),
    { type: o.kind === 'boolean' ? 'boolean' : 'string', describe: o.describe, group },
  ];
  return Object.fromEntries([
    [kebab(list.backend.key), { type: 'string', choices: [...BACKENDS], describe: list.backend.describe, group: store }],
    ...list.store.map((o) => flag(o, store)),
    ['config', { type: 'string', describe: 'JSON options file, or an ES module whose default export is a backend or options', group: store }],
    [
      'require-existing',
      { type: 'boolean', describe: 'Fail (exit 66) when the store file does not exist, instead of reading it as an empty store', group: store },
    ],
    ...list.retention.map((o) => flag(o, retention)),
  ]);
}
