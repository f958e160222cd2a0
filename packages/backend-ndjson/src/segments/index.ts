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
export { SegmentLock, type LockPurpose, type LockHolder } from './lock.js';
export { openSegment, tempPathFor, parseTempName, findLeftovers, isProcessAlive, fsyncDir, fsyncDirSync, markTempActive, FILE_MODE } from './files.js';
export { listRecords, type ListRecordsOptions } from './list.js';
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
