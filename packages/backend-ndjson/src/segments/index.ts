/**
 * The file primitives of the ndjson backend, for other file backends (the rotating backend) to
 * build on: the group-commit writer, the streaming and backward line readers, the scanner, atomic
 * rewrites (repair, compaction), quarantine copies, leftover detection and the lock; and what a
 * file backend class does around them (its options, record listing and streaming, statistics,
 * metrics hooks). What every backend does (closed guard, record and recovery checks, metrics and
 * log wrappers, report assembly) is the contract's kit, `@papyra/persistence-contract/kit`.
 * Everything exported here has a consumer outside this directory.
 */
export { SegmentWriter, type FsyncMode, type SegmentWriterOptions } from './writer.js';
export { forEachLine, forEachLineBackward, type RawLine, type SegmentSource, type OpenSegment } from './lines.js';
export { scanSegment, collectRetentionItems, type ByteRange } from './scanner.js';
export { rewriteExcluding, quarantineCopy } from './rewrite.js';
export { repairSegment, clearLeftovers } from './repair.js';
export { SegmentLock, systemLockSystem, type LockSystem } from './lock.js';
export { FILE_MODE, siblingPath, lockPathFor, legacyLockPathFor, tempPathFor, parseTempName, takeoverPathFor, ownFileKind, resolveDataPath } from './naming.js';
export { openSegment, findLeftovers, fsyncDirSync } from './files.js';
export { listRecords, visibleRecords, type ListRecordsOptions, type VisibleRecordsOptions } from './list.js';
export { collectStatistics } from './stats.js';
export {
  normalizeFileOptions,
  writerMetrics,
  appendRecord,
  segmentOperation,
  type FileBackendOptions,
  type FileBackendSettings,
  type RewriteRecovery,
} from './file-backend.js';
export { nodeSegmentFs, type SegmentFs, type SegmentStat } from './fs.js';
export { fsError } from '../errors.js';
export { bounded } from '../probe.js';
