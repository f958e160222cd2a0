import { redactSecrets } from '@papyra/persistence-contract';

/** Where the CLI writes and what it reads of its process; injectable so tests and embedders can drive it. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Progress is drawn only on a terminal. */
  stderrIsTTY: boolean;
  /** Colour on stdout only on a terminal (and as NO_COLOR / FORCE_COLOR say). */
  stdoutIsTTY?: boolean;
  /** The terminal's width, for help; undefined when stdout is not a terminal. */
  columns?: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now(): number;
  /**
   * Calls `handler` on SIGINT or SIGTERM until the returned function is called. Absent: the
   * process's default handling (tests and embedders that manage signals themselves).
   */
  onInterrupt?(handler: (signal: NodeJS.Signals) => void): () => void;
}

export function processIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    ...(process.stdout.isTTY && { columns: process.stdout.columns }),
    env: process.env,
    cwd: process.cwd(),
    now: () => Date.now(),
    onInterrupt(handler) {
      let interrupted = false;
      const listener = (signal: NodeJS.Signals) => {
        // A second Ctrl-C does not wait for the cleanup.
        if (interrupted) process.exit(130);
        interrupted = true;
        handler(signal);
      };
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
  };
}

export interface Redactor {
  (text: string): string;
  /** Also remove this URL's password wherever it appears on its own. */
  addUrl(url: string | undefined): void;
}

/**
 * Removes credentials from text: passwords inside URLs, and the literal passwords of the URLs the
 * user gave (a driver may quote one outside a URL). Passwords shorter than 4 characters are only
 * removed inside URLs, since replacing every occurrence of such short text would garble output.
 */
export function makeRedactor(): Redactor {
  let secrets: string[] = [];
  const redact = ((text: string) => {
    let out = redactSecrets(text);
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  }) as Redactor;
  redact.addUrl = (url) => {
    if (url === undefined) return;
    // Read from the text as given: URL.password would re-encode it differently from what a driver echoes.
    const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:([^@/?#\s]*)@/i.exec(url)?.[1];
    if (password === undefined) return;
    const forms = [password, safeDecode(password)].filter((s) => s.length >= 4);
    secrets = [...new Set([...secrets, ...forms])].sort((a, b) => b.length - a.length);
  };
  return redact;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Every byte the CLI writes goes through the redactor. */
export function redactedIo(io: Io, redact: (text: string) => string): Io {
  return { ...io, stdout: (text) => io.stdout(redact(text)), stderr: (text) => io.stderr(redact(text)) };
}
