import { PapyraError, type Logger, type PersistenceBackend } from '@papyra/persistence-contract';
import { openStore } from './backends.js';
import { loadConfig } from './config-file.js';
import { ExitCode, configError, errorCode, exitCodeFor } from './errors.js';
import { makeRedactor, redactedIo, type Io } from './io.js';
import { LOG_LEVELS, chooseLogLevel, createLogger } from './logger.js';
import { progressReporter, type ProgressReporter } from './progress.js';
import { envLayer, flagLayer, resolveStore, type Layer, type StoreSpec } from './settings.js';

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
  /** The store options to repeat in a suggested next command (`--path /srv/papyra.ndjson`). */
  storeArgs: string;
  progress: ProgressReporter;
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
}

export interface Command<A> {
  /** Checks that need no store, run before it is opened. */
  validate?(args: A, io: Io): void;
  run(ctx: CommandContext, args: A): Promise<CommandResult>;
}

/** Runs one command against the selected store and returns the process exit code. Never throws. */
export async function runCommand<A extends GlobalArgs>(args: A, rawIo: Io, command: Command<A>): Promise<number> {
  const redact = makeRedactor();
  for (const url of [args['redisUrl'], args['databaseUrl'], rawIo.env['PAPYRA_REDIS_URL'], rawIo.env['PAPYRA_DATABASE_URL']]) {
    if (typeof url === 'string') redact.addUrl(url);
  }
  const redacted = redactedIo(rawIo, redact);
  const progress = progressReporter(redacted.stderr, redacted.stderrIsTTY, redacted.now);
  const io: Io = { ...redacted, stderr: progress.write };
  const logLevel = chooseLogLevel(args.logLevel, rawIo.env);
  const logger = createLogger(logLevel.level, io);
  const json = args.json === true;
  let backend: PersistenceBackend | undefined;
  let exitCode: number;
  try {
    if (!logLevel.valid) throw configError(`PAPYRA_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);
    command.validate?.(args, io);
    const selected = await selectStore(args, io, redact.addUrl, logger);
    backend = selected.backend;
    let result: CommandResult;
    try {
      result = await command.run({ backend, logger, store: selected.label, storeArgs: selected.args, progress, now: io.now }, args);
    } finally {
      progress.done();
    }
    io.stdout(json ? `${JSON.stringify(result.data, null, 2)}\n` : `${result.text}\n`);
    if (result.hint && !json) io.stderr(`hint: ${result.hint}\n`);
    exitCode = result.exitCode;
  } catch (error) {
    exitCode = reportError(error, io, logger, json);
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

/** Prints an error (stderr, and as the JSON document with --json) and returns its exit code. */
export function reportError(error: unknown, io: Io, logger: Logger, json: boolean): number {
  const exitCode = exitCodeFor(error);
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (exitCode === ExitCode.internal) logger.error({ err: error }, 'command failed');
  else logger.debug({ err: error }, 'command failed');
  io.stderr(`papyra: ${message}${code === 'PAPYRA_USAGE' ? '' : ` [${code}]`}\n`);
  const hint = HINTS[code];
  if (hint) io.stderr(`hint: ${hint}\n`);
  if (json) io.stdout(`${JSON.stringify({ error: { code, message, exitCode } }, null, 2)}\n`);
  return exitCode;
}

const HINTS: Record<string, string> = {
  PAPYRA_USAGE: 'run papyra --help (or papyra <command> --help) for the options and examples.',
  PAPYRA_INVALID_ARGUMENT: 'run papyra <command> --help for the accepted values.',
  PAPYRA_BACKEND_UNAVAILABLE: 'check that the server is running and that the URL (--redis-url / --database-url) is right.',
  PAPYRA_LOCKED: 'another process is writing to or maintaining this store; stop it (or wait for it) and run the command again.',
  PAPYRA_INVALID_CONFIG: 'check the options, PAPYRA_* variables and --config file; papyra <command> --help lists them.',
  PAPYRA_IO: 'the store could not be read or written; the message above says why.',
  PAPYRA_INTERNAL: 'this is a bug; run again with --log-level debug and report the output.',
};

interface SelectedStore {
  backend: PersistenceBackend;
  label: string;
  args: string;
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
        throw new PapyraError('PAPYRA_USAGE', `${configFile} provides a backend instance; it cannot be combined with ${given.map((k) => flags.label(k as never)).join(', ')}.`);
      }
      return { backend: loaded.backend, label: `${loaded.backend.name} (from ${configFile})`, args: `--config ${quote(configFile)}` };
    }
    addSecretUrl(loaded.layer.values.redisUrl);
    addSecretUrl(loaded.layer.values.databaseUrl);
    layers.push(loaded.layer);
  }
  const spec = resolveStore(layers);
  const backend = await openStore(spec, logger);
  return { backend, label: describe(spec), args: configFile !== undefined ? `--config ${quote(configFile)}` : storeArgs(spec) };
}

export function describe(spec: StoreSpec): string {
  switch (spec.backend) {
    case 'memory':
      return 'memory (empty in-process store)';
    case 'ndjson':
      return `ndjson ${spec.path}`;
    case 'rotating':
      return `rotating ${spec.path} (max ${spec.maxBytes} bytes × ${spec.maxFiles} files)`;
    case 'redis':
      return `redis ${spec.url} (prefix ${spec.prefix ?? 'papyra'}, system ${spec.systemId ?? 'local'})`;
    case 'postgres': {
      const where = [spec.schema && `schema ${spec.schema}`, `table ${spec.table ?? 'papyra_records'}`, spec.systemId && `system ${spec.systemId}`].filter(Boolean);
      return `postgres ${spec.connectionString} (${where.join(', ')})`;
    }
  }
}

function storeArgs(spec: StoreSpec): string {
  switch (spec.backend) {
    case 'ndjson':
      return `--path ${quote(spec.path)}`;
    case 'rotating':
      return `--backend rotating --path ${quote(spec.path)} --max-bytes ${spec.maxBytes} --max-files ${spec.maxFiles}`;
    default:
      // URLs may hold passwords: point at the options rather than repeat them.
      return `--backend ${spec.backend} <same store options>`;
  }
}

function quote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
