import { PapyraError, type Logger, type PersistenceBackend } from '@papyra/persistence-contract';
import { loadConfig } from './config-file.js';
import { ExitCode, configError, errorCode, exitCodeFor, storageError } from './errors.js';
import { colorEnabled, highlight, palette } from './color.js';
import { makeRedactor, redactedIo, type Io } from './io.js';
import { LOG_LEVELS, chooseLogLevel, createLogger } from './logger.js';
import { progressReporter, type ProgressReporter } from './progress.js';
import { envLayer, envName, flagLayer, resolveStore, secretUrls, type Layer } from './settings.js';
import { describeStore, openStore, storeModule, type StoreDescription, type StoreSpec } from './stores/index.js';
import { quote } from './stores/shared.js';

/** The version of every `--json` document's layout; raised when a field changes meaning or goes away. */
export const SCHEMA_VERSION = 1;

/** Options every command takes. */
export interface GlobalArgs {
  json?: boolean;
  logLevel?: string;
  config?: string;
  [option: string]: unknown;
}

/** What a command handler works with. */
export interface CommandContext {
  backend: PersistenceBackend;
  logger: Logger;
  /** `ndjson /srv/papyra.ndjson`, `redis redis://:***@host:6379`: the store, credentials removed. */
  store: string;
  /** The store for `--json` documents: `{ backend, path }`, `{ backend, url, prefix, systemId }`, never a credential. */
  storeInfo: StoreDescription;
  /** The store options to repeat in a suggested next command (`--path /srv/papyra.ndjson`). */
  storeArgs: string;
  progress: ProgressReporter;
  /** Aborted on SIGINT/SIGTERM; pass it to long operations. */
  signal: AbortSignal;
  /** The directory relative paths of the command line are resolved against. */
  cwd: string;
  now(): number;
}

export interface CommandResult {
  exitCode: number;
  /** The `--json` document. */
  data: Record<string, unknown>;
  /** The human report (stdout). */
  text: string;
  /** A short next step, printed on stderr. */
  hint?: string;
  /** Something the operator must know that the report does not show (skipped damaged lines), on stderr. */
  note?: string;
}

export interface Command<A> {
  /**
   * Passes `ctx.signal` to its long operation, which cleans up when aborted: SIGINT/SIGTERM then
   * abort it (exit 130). Other commands keep the default: the signal ends the process.
   */
  interruptible?: boolean;
  /** Checks that need no store, run before it is opened. */
  validate?(args: A, io: Io): void;
  run(ctx: CommandContext, args: A): Promise<CommandResult>;
}

/** Runs one command against the selected store and returns the process exit code. Never throws. */
export async function runCommand<A extends GlobalArgs>(args: A, rawIo: Io, command: Command<A>): Promise<number> {
  const redact = makeRedactor();
  for (const url of [...secretUrls(args), ...secretUrls(rawIo.env, envName)]) redact.addUrl(url);
  const redacted = redactedIo(rawIo, redact);
  const progress = progressReporter(redacted.stderr, redacted.stderrIsTTY, redacted.now);
  const io: Io = { ...redacted, stderr: progress.write };
  const logLevel = chooseLogLevel(args.logLevel, rawIo.env);
  const logger = createLogger(logLevel.level, io);
  const json = args.json === true;
  let backend: PersistenceBackend | undefined;
  let exitCode: number;
  // Ctrl-C (or SIGTERM) aborts a running operation: the backend stops at its next check, removes
  // its temporary file and releases its lock, and the command exits 130.
  const interrupt = new AbortController();
  const listen = command.interruptible === true ? rawIo.onInterrupt : undefined;
  const stopListening = listen?.((signal) => interrupt.abort(new PapyraError('PAPYRA_ABORTED', `Interrupted by ${signal}.`))) ?? (() => {});
  try {
    if (!logLevel.valid) throw configError(`PAPYRA_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);
    command.validate?.(args, io);
    const selected = await selectStore(args, io, redact.addUrl, logger);
    backend = selected.backend;
    const storeInfo = await checkExists(selected, args.requireExisting === true, io);
    let result: CommandResult;
    try {
      const signal = interrupt.signal;
      result = await command.run(
        { backend, logger, store: selected.label, storeInfo, storeArgs: selected.args, progress, signal, cwd: io.cwd, now: io.now },
        args,
      );
    } finally {
      progress.done();
    }
    const colors = palette(colorEnabled(rawIo.env, rawIo.stdoutIsTTY === true));
    io.stdout(
      json ? `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...result.data, store: storeInfo }, null, 2)}\n` : `${highlight(result.text, colors)}\n`,
    );
    if (result.note) io.stderr(`note: ${result.note}\n`);
    if (interrupt.signal.aborted) io.stderr('note: interrupted, but the operation had already completed; its report is above.\n');
    if (result.hint && !json) io.stderr(`hint: ${result.hint}\n`);
    exitCode = result.exitCode;
  } catch (error) {
    exitCode = reportError(interrupt.signal.aborted && PapyraError.hasCode(error, 'PAPYRA_ABORTED') ? interrupt.signal.reason : error, io, logger, json);
  } finally {
    stopListening();
  }
  if (backend) {
    try {
      await backend.close();
    } catch (error) {
      logger.error({ err: error }, 'closing the store failed');
      if (exitCode === ExitCode.ok) exitCode = exitCodeFor(error);
    }
  }
  return exitCode;
}

/** Runs a command that opens no store (`verify`) and prints its result the way every command does. */
export async function printResult(io: Io, json: boolean, run: () => Promise<CommandResult>): Promise<number> {
  try {
    const result = await run();
    const colors = palette(colorEnabled(io.env, io.stdoutIsTTY === true));
    io.stdout(json ? `${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...result.data }, null, 2)}\n` : `${highlight(result.text, colors)}\n`);
    if (result.hint && !json) io.stderr(`hint: ${result.hint}\n`);
    return result.exitCode;
  } catch (error) {
    return reportError(error, io, createLogger(chooseLogLevel(undefined, io.env).level, io), json);
  }
}

/** Prints an error (stderr, and as the JSON document with --json) and returns its exit code. */
export function reportError(thrown: unknown, io: Io, logger: Logger, json: boolean): number {
  const error = storageError(thrown);
  const exitCode = exitCodeFor(error);
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (exitCode === ExitCode.internal) logger.error({ err: error }, 'command failed');
  else logger.debug({ err: error }, 'command failed');
  const red = palette(colorEnabled(io.env, io.stderrIsTTY)).red;
  io.stderr(`${red('papyra:')} ${message}${code === 'PAPYRA_USAGE' ? '' : ` [${code}]`}\n`);
  const hint = hintFor(code, message);
  if (hint) io.stderr(`hint: ${hint}\n`);
  if (json) io.stdout(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, error: { code, message, exitCode } }, null, 2)}\n`);
  return exitCode;
}

/** The next step for an error: specific where the message says what is wrong, else by code. */
export function hintFor(code: string, message: string): string | undefined {
  if (code === 'PAPYRA_INVALID_CONFIG' && /Redis Cluster node/i.test(message)) {
    return 'the server is a Redis Cluster node: add --redis-cluster (PAPYRA_REDIS_CLUSTER=true, redisCluster: true in --config), or list seed nodes with --redis-nodes host:port,host:port.';
  }
  if (code === 'PAPYRA_INVALID_CONFIG' && /WRONGPASS|NOAUTH|password/i.test(message)) {
    return 'the server refused the credentials: check the user and password in --redis-url / --database-url (or PAPYRA_REDIS_URL / PAPYRA_DATABASE_URL).';
  }
  return HINTS[code];
}

const HINTS: Record<string, string> = {
  PAPYRA_USAGE: 'run papyra --help (or papyra <command> --help) for the options and examples.',
  PAPYRA_INVALID_ARGUMENT: 'run papyra <command> --help for the accepted values.',
  PAPYRA_BACKEND_UNAVAILABLE: 'check that the server is running and that the URL (--redis-url / --database-url) is right.',
  PAPYRA_LOCKED:
    'the .lock file beside the store says another process is writing to or maintaining it; the store itself is untouched. Stop that process (or wait for it) and run the command again.',
  PAPYRA_ABORTED: 'nothing was changed: the rewrite stopped before replacing the store, and its temporary file and lock were removed.',
  PAPYRA_NO_SPACE: 'the store was not changed; df -h shows the free space of each file system.',
  PAPYRA_INVALID_CONFIG: 'check the options, PAPYRA_* variables and --config file; papyra <command> --help lists them.',
  PAPYRA_IO: 'the store could not be read or written; the message above says why.',
  PAPYRA_STORE_MISSING: 'check the path (--path / PAPYRA_PATH); drop --require-existing if an absent store is expected.',
  PAPYRA_INTERNAL: 'this is a bug; run again with --log-level debug and report the output.',
};

interface SelectedStore {
  backend: PersistenceBackend;
  /** Absent for a backend instance from a config module. */
  spec?: StoreSpec;
  info: StoreDescription;
  label: string;
  args: string;
}

/**
 * A file store that does not exist reads as empty, which would pass every check: say so (stderr, and
 * `exists: false` in the store description), or refuse with --require-existing.
 */
async function checkExists(selected: SelectedStore, required: boolean, io: Io): Promise<StoreDescription> {
  const exists = selected.spec === undefined ? undefined : await storeModule(selected.spec).exists?.(selected.spec, selected.backend);
  if (exists === undefined) return selected.info;
  if (!exists) {
    const what = typeof selected.info['path'] === 'string' ? selected.info['path'] : selected.label;
    if (required) {
      throw new PapyraError('PAPYRA_STORE_MISSING', `The store ${what} does not exist (--require-existing).`, { details: { store: selected.info } });
    }
    io.stderr(`note: ${what} does not exist; it is treated as an empty store (pass --require-existing to fail instead).\n`);
  }
  return { ...selected.info, exists };
}

/** Flags beat `PAPYRA_*` variables, which beat the `--config` file. */
async function selectStore(args: GlobalArgs, io: Io, addSecretUrl: (url: string | undefined) => void, logger: Logger): Promise<SelectedStore> {
  const flags = flagLayer(args, io.cwd);
  const env = envLayer(io.env, io.cwd);
  const configFile = typeof args.config === 'string' ? args.config : io.env['PAPYRA_CONFIG'] || undefined;
  const layers: Layer[] = [flags, env];
  if (configFile !== undefined) {
    const loaded = await loadConfig(configFile, io.cwd);
    if (loaded.kind === 'instance') {
      const given = Object.keys(flags.values);
      if (given.length > 0) {
        await loaded.backend.close();
        throw new PapyraError(
          'PAPYRA_USAGE',
          `${configFile} provides a backend instance; it cannot be combined with ${given.map((k) => flags.label(k as never)).join(', ')}.`,
        );
      }
      return {
        backend: loaded.backend,
        info: { backend: loaded.backend.name, config: configFile },
        label: `${loaded.backend.name} (from ${configFile})`,
        args: `--config ${quote(configFile)}`,
      };
    }
    for (const url of secretUrls(loaded.layer.values)) addSecretUrl(url);
    layers.push(loaded.layer);
  }
  const spec = resolveStore(layers);
  const backend = await openStore(spec, { logger });
  return {
    backend,
    spec,
    info: describeStore(spec),
    label: storeLabel(spec),
    args: configFile !== undefined ? `--config ${quote(configFile)}` : storeModule(spec).args(spec),
  };
}

/** `ndjson /srv/papyra.ndjson`: the store for people (output is redacted). */
export function storeLabel(spec: StoreSpec): string {
  return storeModule(spec).label(spec);
}
