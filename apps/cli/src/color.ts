import { ANOMALY_TYPES } from '@papyra/persistence-contract';

/**
 * Whether to colour a stream: never with NO_COLOR (any non-empty value, no-color.org); always with
 * FORCE_COLOR set to anything but `0` or `false`; otherwise only on a terminal.
 */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env['NO_COLOR']) return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  return isTTY;
}

export type Paint = (text: string) => string;
export interface Palette {
  red: Paint;
  green: Paint;
  yellow: Paint;
}

const sgr =
  (open: number, close: number): Paint =>
  (text) =>
    `\x1b[${open}m${text}\x1b[${close}m`;
const plain: Paint = (text) => text;

export function palette(enabled: boolean): Palette {
  return enabled ? { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39) } : { red: plain, green: plain, yellow: plain };
}

const ANOMALY = new RegExp(`\\b(${ANOMALY_TYPES.join('|')})\\b`, 'g');
const GOOD = /^(\s*)(Healthy\.|Passed\b[^\n]*?(?=:|\.|$)|Scanned .*: clean, no anomalies\.)/gm;
const BAD = /^(\s*)(Unhealthy\.|Failed\b)/gm;

/** A human report with its anomaly types and health verdicts coloured. */
export function highlight(text: string, colors: Palette): string {
  return text
    .replace(ANOMALY, (type) => colors.yellow(type))
    .replace(GOOD, (_m, indent: string, word: string) => indent + colors.green(word))
    .replace(BAD, (_m, indent: string, word: string) => indent + colors.red(word));
}
