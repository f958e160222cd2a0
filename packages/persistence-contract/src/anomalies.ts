/** Anomaly types are strings in every report, log and `--json` output (never numbers). */
export const AnomalyType = {
  TRUNCATED_LINE: 'TRUNCATED_LINE',
  CORRUPTED_LINE: 'CORRUPTED_LINE',
  INVALID_RECORD: 'INVALID_RECORD',
  ORPHANED_ROTATED_FILE: 'ORPHANED_ROTATED_FILE',
  UNEXPECTED_FILE: 'UNEXPECTED_FILE',
  PARTIAL_WRITE: 'PARTIAL_WRITE',
  CORRUPTED_ENTRY: 'CORRUPTED_ENTRY',
} as const;
export type AnomalyType = (typeof AnomalyType)[keyof typeof AnomalyType];
export const ANOMALY_TYPES: readonly AnomalyType[] = Object.values(AnomalyType);

export interface Anomaly {
  type: AnomalyType;
  /** File path, or stream key / table name. */
  path: string;
  /** 1-based line number, where it applies. */
  line: number | null;
  /** Byte offset of the line's first byte, where it applies. */
  offset: number | null;
  detail: string;
}

export interface ScanReport {
  backend: string;
  anomalies: Anomaly[];
}

export type RecoveryMode = 'ignore' | 'repair' | 'quarantine';

export interface RecoveryConfig {
  mode: RecoveryMode;
  /** Required for `quarantine`: where the original bytes of everything removed are kept. */
  quarantineDir?: string;
}

export interface RecoveryReport {
  backend: string;
  mode: RecoveryMode;
  /** The scan that decided what to remove. */
  scan: ScanReport;
  /** The scan after recovery; clean when recovery succeeded. */
  postScan: ScanReport;
  repairedFiles: string[];
  quarantinedFiles: string[];
  keptRecords: number;
  droppedRecords: number;
}

export interface CompactionReport {
  backend: string;
  beforeRecords: number;
  afterRecords: number;
  beforeBytes: number;
  afterBytes: number;
  removedRecords: number;
  reclaimedBytes: number;
}

/** Progress of a long scan, recovery or compaction. `total` is null when unknown in advance. */
export interface Progress {
  phase: 'scan' | 'recover' | 'compact' | 'export' | 'import';
  processed: number;
  total: number | null;
  unit: 'bytes' | 'entries' | 'rows' | 'records';
}

export interface OperationOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}
