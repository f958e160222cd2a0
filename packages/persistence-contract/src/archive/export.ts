import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { PersistenceBackend } from '../backend.js';
import { PapyraError } from '../errors.js';
import { redactSecrets } from '../logger.js';
import { RECORD_KINDS, type RecordKind } from '../records.js';
import { readRecords, type ReadOptions } from '../read.js';
import {
  ARCHIVE_FILES,
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  MANIFEST_DIGEST_FILE,
  MANIFEST_FILE,
  type ArchiveFileEntry,
  type ArchiveManifest,
} from './manifest.js';

export interface ExportOptions extends ReadOptions {
  /** Describes the source in the manifest; string values are redacted (`user:***@host`). */
  source?: Record<string, unknown>;
  tool?: { name: string; version: string };
  /** Called after every 10,000 records and at the end of each kind. */
  onProgress?: (progress: { kind: RecordKind; records: number }) => void;
  /** Wall clock for `createdAt`; default `Date.now`. */
  now?: () => number;
}

/**
 * Writes the visible records of `backend` to an archive directory (created; must be empty or
 * absent): one NDJSON file per kind with the lines as the store keeps them, and `manifest.json`
 * with counts, time span, id range and a sha256 per file. Streams with bounded memory. The
 * manifest is written last, through a rename, so a directory without one is an unfinished export.
 */
export async function exportArchive(backend: PersistenceBackend, dir: string, options: ExportOptions = {}): Promise<ArchiveManifest> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if ((await readdir(dir)).length > 0) {
    throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `The archive directory ${dir} is not empty; export into a new directory.`, { details: { dir } });
  }
  const kinds = [...(options.kinds ?? RECORD_KINDS)];
  const files: Record<string, ArchiveFileEntry> = {};
  for (const kind of RECORD_KINDS) {
    if (!kinds.includes(kind)) continue;
    files[ARCHIVE_FILES[kind]] = await exportKind(backend, join(dir, ARCHIVE_FILES[kind]), kind, options);
  }
  const entries = Object.values(files);
  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    version: ARCHIVE_VERSION,
    createdAt: new Date((options.now ?? Date.now)()).toISOString(),
    tool: options.tool ?? { name: '@papyra/persistence-contract', version: 'unknown' },
    source: redactValues({ backend: backend.name, ...options.source }),
    window: { kinds, since: options.since ?? null, until: options.until ?? null },
    files,
    totals: { records: entries.reduce((n, f) => n + f.records, 0), bytes: entries.reduce((n, f) => n + f.bytes, 0) },
  };
  // The manifest's own digest first, then the manifest through a rename: a directory without a
  // manifest is an unfinished export, and a changed byte in either file fails verification.
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(dir, MANIFEST_DIGEST_FILE), `${createHash('sha256').update(text).digest('hex')}  ${MANIFEST_FILE}\n`, { mode: 0o600 });
  const temp = join(dir, `.${MANIFEST_FILE}.tmp`);
  await writeFile(temp, text, { mode: 0o600 });
  await rename(temp, join(dir, MANIFEST_FILE));
  return manifest;
}

async function exportKind(backend: PersistenceBackend, path: string, kind: RecordKind, options: ExportOptions): Promise<ArchiveFileEntry> {
  const out = createWriteStream(path, { mode: 0o600 });
  const hash = createHash('sha256');
  const entry: ArchiveFileEntry = { kind, records: 0, bytes: 0, sha256: '', oldest: null, newest: null, firstId: null, lastId: null };
  try {
    const window: ReadOptions = { kinds: [kind], ...pick(options) };
    for await (const { record, line } of readRecords(backend, window)) {
      const chunk = `${line}\n`;
      hash.update(chunk);
      entry.records += 1;
      entry.bytes += Buffer.byteLength(chunk);
      entry.oldest = entry.oldest === null ? record.timestamp : Math.min(entry.oldest, record.timestamp);
      entry.newest = entry.newest === null ? record.timestamp : Math.max(entry.newest, record.timestamp);
      if (record.id !== null) {
        if (entry.firstId === null || record.id < entry.firstId) entry.firstId = record.id;
        if (entry.lastId === null || record.id > entry.lastId) entry.lastId = record.id;
      }
      if (!out.write(chunk)) await once(out, 'drain');
      if (entry.records % 10_000 === 0) options.onProgress?.({ kind, records: entry.records });
    }
    out.end();
    await once(out, 'finish');
  } catch (error) {
    out.destroy();
    throw error;
  }
  options.onProgress?.({ kind, records: entry.records });
  entry.sha256 = hash.digest('hex');
  return entry;
}

function pick(options: ReadOptions): Omit<ReadOptions, 'kinds'> {
  return {
    ...(options.since !== undefined && { since: options.since }),
    ...(options.until !== undefined && { until: options.until }),
    ...(options.signal !== undefined && { signal: options.signal }),
  };
}

function redactValues(source: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(source)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, typeof v === 'string' ? redactSecrets(v) : v]),
  );
}
