import assert from 'node:assert/strict';
import { ANOMALY_TYPES, type Anomaly, type AnomalyType, type ScanReport } from '../anomalies.js';
import { PapyraError, type PapyraErrorCode } from '../errors.js';
import type { CorruptionKind } from './types.js';

/** The anomaly types each injected damage may be reported as. */
export const EXPECTED_ANOMALIES: Record<CorruptionKind, readonly AnomalyType[]> = {
  torn_tail: ['TRUNCATED_LINE', 'PARTIAL_WRITE'],
  corrupt_line: ['CORRUPTED_LINE', 'CORRUPTED_ENTRY'],
  invalid_record: ['INVALID_RECORD', 'CORRUPTED_ENTRY'],
  orphan_file: ['ORPHANED_ROTATED_FILE'],
};

export const CORRUPTION_KINDS: readonly CorruptionKind[] = ['torn_tail', 'corrupt_line', 'invalid_record', 'orphan_file'];

export async function rejectsWithCode(action: () => Promise<unknown>, code: PapyraErrorCode, what: string): Promise<void> {
  let outcome: unknown;
  try {
    await action();
  } catch (error) {
    if (PapyraError.hasCode(error, code)) return;
    outcome = error;
    assert.fail(`${what}: expected a PapyraError with code ${code}, got ${describeError(outcome)}`);
  }
  assert.fail(`${what}: expected a rejection with code ${code}, but it resolved`);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error ? ` (${String((error as { code: unknown }).code)})` : ''}: ${error.message}`;
  return String(error);
}

export function assertClean(report: ScanReport, what: string): void {
  assert.deepEqual(
    report.anomalies.map((a) => `${a.type} ${a.path}:${a.line ?? '-'} ${a.detail}`),
    [],
    `${what}: expected no anomalies`,
  );
}

export function assertAnomalyShape(anomaly: Anomaly): void {
  assert.ok(ANOMALY_TYPES.includes(anomaly.type), `anomaly type ${JSON.stringify(anomaly.type)} is not one of ${ANOMALY_TYPES.join(', ')}`);
  assert.equal(typeof anomaly.path, 'string', 'anomaly.path is a string');
  assert.ok(anomaly.path.length > 0, 'anomaly.path is not empty');
  assert.ok(anomaly.line === null || (Number.isInteger(anomaly.line) && anomaly.line >= 1), `anomaly.line is null or 1-based, got ${anomaly.line}`);
  assert.ok(anomaly.offset === null || (Number.isInteger(anomaly.offset) && anomaly.offset >= 0), `anomaly.offset is null or >= 0, got ${anomaly.offset}`);
  assert.equal(typeof anomaly.detail, 'string', 'anomaly.detail is a string');
}

/** At least one anomaly, all well-formed and all of the types the damage may be reported as. */
export function assertReports(report: ScanReport, kind: CorruptionKind): void {
  const expected = EXPECTED_ANOMALIES[kind];
  assert.ok(report.anomalies.length > 0, `scan after ${kind} reported no anomaly (expected ${expected.join(' or ')})`);
  for (const anomaly of report.anomalies) {
    assertAnomalyShape(anomaly);
    assert.ok(expected.includes(anomaly.type), `after ${kind} expected only ${expected.join(' or ')}, got ${anomaly.type} (${anomaly.detail})`);
  }
}
