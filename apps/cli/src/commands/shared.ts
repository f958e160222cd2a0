import { unsupportedError, type BackendCapabilities, type PersistenceBackend, type ScanReport } from '@papyra/persistence-contract';
import { formatAnomaly, plural } from '../format.js';
import type { StoredRecords } from '../stats.js';

/** The CLI reads capabilities rather than trying an operation and failing halfway. */
export function requireCapability(backend: PersistenceBackend, capability: keyof BackendCapabilities, operation: string): void {
  if (!backend.capabilities[capability]) throw unsupportedError(backend.name, operation);
}

/** Every retained record of each kind, oldest first. */
export async function readAll(backend: PersistenceBackend): Promise<StoredRecords> {
  const events = await backend.listEvents();
  const audits = await backend.listAudits();
  const deadLetters = await backend.listDeadLetters();
  return { events, audits, deadLetters };
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
