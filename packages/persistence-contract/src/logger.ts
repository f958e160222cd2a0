type LogFn = {
  (obj: object, msg?: string, ...args: unknown[]): void;
  (msg: string, ...args: unknown[]): void;
};

/** The part of pino's API Papyra uses; a pino logger is one. Errors go under `err`. */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop = () => {};

/** The default logger of every library: says nothing. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
};

const SECRET_IN_URL = /(\b[a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]*):([^@/?#\s]*)@/gi;

/** Removes passwords from any URLs in a string (`redis://user:secret@host` → `redis://user:***@host`). */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_IN_URL, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/**
 * A copy of an error that is safe to keep as a `cause` or to log: its name, code and redacted
 * message only. Drivers attach the commands they sent (ioredis: `AUTH user password`) and
 * connection strings to their errors; none of that survives.
 */
export function redactError(error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? redactSecrets(error) : error;
  const copy = new Error(redactSecrets(error.message));
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}
