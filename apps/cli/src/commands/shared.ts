import {
  storeStats,
  unsupportedError,
  type BackendCapabilities,
  type OperationOptions,
  type PersistenceBackend,
  type ScanReport,
} from '@papyra/persistence-contract';
import { formatAnomaly, formatCount, plural } from '../format.js';
import type { CommandContext } from '../run.js';
import type { StoreStats } from '../stats.js';

/** The CLI reads capabilities rather than trying an operation and failing halfway. */
export function requireCapability(backend: PersistenceBackend, capability: keyof BackendCapabilities, operation: string): void {
  if (!backend.capabilities[capability]) throw unsupportedError(backend.name, operation);
}

/**
 * What the store holds per kind, from the contract's `storeStats` (one streaming pass, or the
 * backend's own aggregates), keyed as `--json` documents show it.
 */
export async function storeFigures(ctx: CommandContext): Promise<StoreStats> {
  const { kinds, total } = await storeStats(ctx.backend, { signal: ctx.signal });
  return { events: kinds.event, audits: kinds.audit, deadLetters: kinds.dead_letter, total };
}

/** `3 anomalies (2 CORRUPTED_LINE, 1 TRUNCATED_LINE)`. */
export function anomalyCount(report: ScanReport): string {
  const n = report.anomalies.length;
  if (n === 0) return 'no anomalies';
  const byType = new Map<string, number>();
  for (const a of report.anomalies) byType.set(a.type, (byType.get(a.type) ?? 0) + 1);
  return `${plural(n, 'anomaly', 'anomalies')} (${[...byType].map(([t, c]) => `${c} ${t}`).join(', ')})`;
}

/** The anomalies of a report, one per line, indented. */
export function anomalyLines(report: ScanReport, indent = '  '): string[] {
  return report.anomalies.map((a) => `${indent}${formatAnomaly(a)}`);
}

export const repairHint = (storeArgs: string) =>
  `run papyra persistence recover --mode repair ${storeArgs} (or --mode quarantine --quarantine-dir DIR to keep the removed bytes).`;

/** The abort signal and progress display of a scan, recovery or compaction. */
export function operation(ctx: CommandContext): OperationOptions {
  return { signal: ctx.signal, ...(ctx.progress.onProgress && { onProgress: ctx.progress.onProgress }) };
}

/** What one damaged unit of a backend is called: a file's line, a stream's entry, a table's row. */
export function damagedUnit(backend: string, many = false): string {
  const unit = backend === 'redis' ? 'entr' : backend === 'postgres' ? 'row' : 'line';
  return unit === 'entr' ? (many ? 'entries' : 'entry') : many ? `${unit}s` : unit;
}

// Anomalies of one line, entry or row: the lists skip these. File-level ones hide no record.
const SKIPPED_BY_LISTS = new Set<string>(['TRUNCATED_LINE', 'CORRUPTED_LINE', 'INVALID_RECORD', 'PARTIAL_WRITE', 'CORRUPTED_ENTRY']);

/**
 * How many damaged lines (entries, rows) the lists skipped, from the backend's own scan, and a note
 * saying what to run next; nothing when the store is clean or cannot be scanned.
 */
export async function damagedSkipped(ctx: CommandContext): Promise<{ count: number; note?: string }> {
  if (!ctx.backend.capabilities.scan) return { count: 0 };
  const report = await ctx.backend.scan({ signal: ctx.signal });
  const count = report.anomalies.filter((a) => SKIPPED_BY_LISTS.has(a.type)).length;
  if (count === 0) return { count };
  const what = `${formatCount(count)} damaged ${damagedUnit(report.backend, count !== 1)}`;
  return {
    count,
    note: `${what} ${count === 1 ? 'was' : 'were'} skipped and ${count === 1 ? 'is' : 'are'} not counted above; run papyra persistence scan ${ctx.storeArgs} to see ${count === 1 ? 'it' : 'them'}, then papyra persistence recover --mode repair ${ctx.storeArgs} to remove ${count === 1 ? 'it' : 'them'}.`,
  };
}
