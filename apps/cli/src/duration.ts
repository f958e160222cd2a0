import { usageError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** `15m`, `2h`, `7d`, `1h30m`, `500ms` → milliseconds; `null` when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const input = text.trim();
  if (input === '') return null;
  PART.lastIndex = 0;
  let total = 0;
  let match: RegExpExecArray | null;
  while ((match = PART.exec(input)) !== null) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    if (PART.lastIndex === input.length) return Math.round(total);
  }
  return null;
}

/**
 * The `--since` value as epoch milliseconds: an integer is epoch ms, a duration (`15m`) means that
 * long before `now`, anything else must be an ISO-8601 date or date-time.
 */
export function parseSince(text: string, now: number): number {
  const input = text.trim();
  if (/^\d+$/.test(input)) return Number(input);
  const duration = parseDuration(input);
  if (duration !== null) return now - duration;
  // Date.parse accepts many loose forms; require an ISO-looking date first.
  if (/^\d{4}-\d{2}-\d{2}/.test(input)) {
    const ms = Date.parse(input);
    if (!Number.isNaN(ms)) return ms;
  }
  throw usageError(`--since ${JSON.stringify(text)} is not epoch milliseconds, an ISO-8601 date or a duration such as 15m, 2h or 7d.`);
}
