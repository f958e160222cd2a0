import type { RecordKind } from '../records.js';

/** The file of each kind inside an archive directory. */
export const ARCHIVE_FILES: Readonly<Record<RecordKind, string>> = Object.freeze({
  event: 'events.ndjson',
  audit: 'audits.ndjson',
  dead_letter: 'dead_letters.ndjson',
});
export const MANIFEST_FILE = 'manifest.json';
/** `sha256sum` format (`<hex>  manifest.json`): `sha256sum -c manifest.json.sha256` checks it too. */
export const MANIFEST_DIGEST_FILE = 'manifest.json.sha256';
export const ARCHIVE_FORMAT = 'papyra-archive';
export const ARCHIVE_VERSION = 1;

export interface ArchiveFileEntry {
  kind: RecordKind;
  records: number;
  /** Bytes of the file, newlines included. */
  bytes: number;
  sha256: string;
  /** Oldest and newest timestamp (epoch ms) in the file; null when empty. */
  oldest: number | null;
  newest: number | null;
  /** Smallest and largest id (ids sort in creation order); null when the file has no ids. */
  firstId: string | null;
  lastId: string | null;
}

/**
 * `manifest.json` of an archive: everything needed to check it, and where it came from (without
 * credentials). Readers refuse a `format` or `version` they do not know.
 */
export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  createdAt: string;
  /** The program that wrote it, e.g. `{ name: '@papyra/cli', version: '0.1.0' }`. */
  tool: { name: string; version: string };
  /** The store it was exported from, described without credentials (`{ backend: 'redis', url: 'redis://host:6379', … }`). */
  source: Record<string, unknown>;
  /** The export window: kinds and `since <= timestamp < until`. */
  window: { kinds: RecordKind[]; since: number | null; until: number | null };
  files: Record<string, ArchiveFileEntry>;
  totals: { records: number; bytes: number };
}
