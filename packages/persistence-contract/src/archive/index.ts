/*
 * Backup, restore and migration between backends (`@papyra/persistence-contract/archive`): an open
 * archive format (NDJSON per kind + a manifest with sha256 per file), verified, imported
 * idempotently and resumably, compared record by record. The `papyra export|verify|import|migrate|diff`
 * commands call these.
 */
export {
  ARCHIVE_FILES,
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  MANIFEST_DIGEST_FILE,
  MANIFEST_FILE,
  type ArchiveManifest,
  type ArchiveFileEntry,
} from './manifest.js';
export { exportArchive, type ExportOptions } from './export.js';
export { verifyArchive, readManifest, type ArchiveVerification, type ArchiveProblem } from './verify.js';
export { importArchive, migrateStore, type TransferOptions, type TransferReport } from './import.js';
export { diffSources, type DiffReport, type RecordDifference } from './diff.js';
export type { RecordSource } from './sources.js';
export { contentId } from '../ids.js';
