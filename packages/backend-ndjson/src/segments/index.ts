/**
 * The file primitives of the ndjson backend, for other file backends (the rotating backend) to
 * build on: the group-commit writer, the streaming and backward line readers, the scanner, atomic
 * rewrites (repair, compaction), quarantine copies, leftover detection and the lock; and what a
 * backend class does around them the same way (record listing, metrics, logs, report assembly).
 */
export { SegmentWriter, type FsyncMode, type SegmentWriterOptions, type BatchCommit, type RotationHook } from './writer.js';
export { forEachLine, forEachLineBackward, DEFAULT_MAX_LINE_BYTES, type RawLine, type LineReadOptions, type LineReadResult } from './lines.js';
export {
  classifyLine,
  scanSegment,
  forEachRecord,
  collectRetentionItems,
  type ByteRange,
  type SegmentScan,
  type SegmentReadOptions,
  type RetentionInventory,
} from './scanner.js';
export { rewriteExcluding, quarantineCopy, type RewriteOptions, type RewriteResult } from './rewrite.js';
export { repairSegment, clearLeftovers, compactSegment, type RepairOptions, type SegmentRepair, type SegmentCompaction } from './repair.js';
export {
  SegmentLock,
  judgeHolder,
  parseHolder,
  currentHolder,
  isProcessAlive,
  systemLockSystem,
  type LockPurpose,
  type LockHolder,
  type LockSystem,
  type LockVerdict,
} from './lock.js';
export {
  FILE_MODE,
  siblingPath,
  lockPathFor,
  legacyLockPathFor,
  tempPathFor,
  parseTempName,
  takeoverPathFor,
  ownFileKind,
  resolveDataPath,
  type OwnFileKind,
} from './naming.js';
export { SerialQueue } from './serial.js';
export { nodeSegmentFs, type SegmentFs, type SegmentStat } from './fs.js';
export { openSegment, findLeftovers, fsyncDir, fsyncDirSync, markTempActive } from './files.js';
export { listRecords, DEFAULT_STALE_WINDOW, type ListRecordsOptions } from './list.js';
export { type OpenSegment, type SegmentSource } from './lines.js';
export { collectStatistics, type StoreStatistics, type KindStatistics, type StatisticsOptions } from './stats.js';
export {
  writerMetrics,
  appendRecord,
  checkRecoveryConfig,
  observeScan,
  observeRecovery,
  observeCompaction,
  compactionReport,
  emptyRecovery,
  segmentOperation,
  type FileBackendOptions,
  type RewriteRecovery,
} from './backend-support.js';
export { fsError, throwIfAborted } from '../errors.js';
