import type { ArgumentsCamelCase, InferredOptionTypes, Options } from 'yargs';
import { usageError } from './errors.js';
import type { Io } from './io.js';
import type { CommandContext, CommandResult, GlobalArgs } from './run.js';

/** The arguments a command's handler receives: its own options (types inferred from them) and the global ones. */
export type CommandArgs<O extends Record<string, Options>> = GlobalArgs & ArgumentsCamelCase<InferredOptionTypes<O>>;

/**
 * One subcommand: its yargs options, help examples, and what it does with the selected store.
 * `cli.ts` turns it into a yargs command module; the handler's argument types come from `options`.
 */
export interface CommandSpec<O extends Record<string, Options> = Record<string, never>> {
  command: string;
  describe: string;
  options?: O;
  examples: [string, string][];
  /** See `Command.interruptible`. */
  interruptible?: boolean;
  /** Checks that need no store, run before it is opened. */
  validate?(args: CommandArgs<O>, io: Io): void;
  run(ctx: CommandContext, args: CommandArgs<O>): Promise<CommandResult>;
}

/** Declares a command; a function only so that TypeScript infers the argument types from `options`. */
export function defineCommand<const O extends Record<string, Options> = Record<string, never>>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/**
 * A yargs `coerce` for an integer flag: `--limit abc` is a usage error naming the flag and the
 * text, never "got NaN".
 */
export function integerFlag(flag: string, min: number): (value: unknown) => number {
  return (value) => {
    const text = String(value).trim();
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min) {
      throw usageError(
        `${flag} must be ${min > 0 ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(Array.isArray(value) ? value.join(' ') : value)}.`,
      );
    }
    return n;
  };
}
