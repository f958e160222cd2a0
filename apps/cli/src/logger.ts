import { pino } from 'pino';
import type { Logger } from '@papyra/persistence-contract';
import type { Io } from './io.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * Errors only: the backends' warnings (anomalies found, rows removed) repeat what the command's own
 * report already says, so they are opt-in with `--log-level warn` or lower.
 */
export const DEFAULT_LOG_LEVEL = 'error';

/** `--log-level`, else `PAPYRA_LOG_LEVEL`, else the default; `valid` is false for an unknown level. */
export function chooseLogLevel(flag: unknown, env: NodeJS.ProcessEnv): { level: string; valid: boolean } {
  const level = typeof flag === 'string' ? flag : env['PAPYRA_LOG_LEVEL'] || DEFAULT_LOG_LEVEL;
  return (LOG_LEVELS as readonly string[]).includes(level) ? { level, valid: true } : { level: DEFAULT_LOG_LEVEL, valid: false };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
// pino's own fields, shown in the line's prefix or not at all.
const HIDDEN = new Set(['level', 'time', 'name', 'msg', 'err', 'pid', 'hostname']);

/**
 * The CLI's logger on stderr (through the redacting `io`): pino JSON lines for log collectors, or,
 * when stderr is a terminal, one readable line per entry with the error's stack indented below.
 */
export function createLogger(level: string, io: Io): Logger {
  const write = io.stderrIsTTY ? (line: string) => io.stderr(humanLogLine(line)) : (line: string) => io.stderr(line);
  return pino({ level, base: { name: 'papyra' } }, { write }) as unknown as Logger;
}

/** `12:00:01.250 WARN  scan found anomalies  component=persistence anomalies=2` from a pino JSON line. */
export function humanLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry['time'] === 'number' ? new Date(entry['time']).toISOString().slice(11, 23) : '';
  const level = (LEVEL_NAMES[entry['level'] as number] ?? String(entry['level'])).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`);
  const head = [`${time} ${level}`, String(entry['msg'] ?? ''), ...fields].filter(Boolean).join('  ');
  const err = entry['err'] as { stack?: unknown; message?: unknown } | undefined;
  const detail = err === undefined ? '' : String(err.stack ?? err.message ?? JSON.stringify(err));
  return `${head}\n${detail ? `${detail.replace(/^/gm, '    ')}\n` : ''}`;
}
