import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inspectLine } from '../codec.js';
import { PapyraError } from '../errors.js';
import { RECORD_KINDS } from '../records.js';
import {
  ARCHIVE_FILES,
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  MANIFEST_DIGEST_FILE,
  MANIFEST_FILE,
  type ArchiveFileEntry,
  type ArchiveManifest,
} from './manifest.js';

export interface ArchiveProblem {
  /** The file of the archive (or `manifest.json`). */
  file: string;
  /** 1-based line, where the problem is one line. */
  line: number | null;
  detail: string;
}

export interface ArchiveVerification {
  ok: boolean;
  manifest: ArchiveManifest | null;
  records: number;
  problems: ArchiveProblem[];
}

/**
 * Checks an archive: the manifest is readable and known, every file's sha256, size and record
 * count match it, and every line decodes to a record of the file's kind. Never throws for a
 * damaged archive: the problems are in the result (a missing directory is `PAPYRA_INVALID_ARGUMENT`).
 */
export async function verifyArchive(dir: string): Promise<ArchiveVerification> {
  const problems: ArchiveProblem[] = [];
  let manifest: ArchiveManifest;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    if (PapyraError.hasCode(error, 'PAPYRA_INVALID_ARGUMENT')) throw error;
    return { ok: false, manifest: null, records: 0, problems: [{ file: MANIFEST_FILE, line: null, detail: (error as Error).message }] };
  }
  problems.push(...(await manifestDigestProblems(dir)));
  let records = 0;
  for (const [file, entry] of Object.entries(manifest.files)) {
    const hash = createHash('sha256');
    let bytes = 0;
    let lines = 0;
    const seen: Pick<ArchiveFileEntry, 'oldest' | 'newest' | 'firstId' | 'lastId'> = { oldest: null, newest: null, firstId: null, lastId: null };
    try {
      const stream = createReadStream(join(dir, file));
      stream.on('data', (chunk: Buffer | string) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
        lines += 1;
        const verdict = inspectLine(text);
        if (!verdict.ok) problems.push({ file, line: lines, detail: `${verdict.type}: ${verdict.detail}` });
        else if (verdict.record.kind !== entry.kind) problems.push({ file, line: lines, detail: `a ${verdict.record.kind} record in the ${entry.kind} file` });
        else {
          const { timestamp, id } = verdict.record;
          seen.oldest = seen.oldest === null ? timestamp : Math.min(seen.oldest, timestamp);
          seen.newest = seen.newest === null ? timestamp : Math.max(seen.newest, timestamp);
          if (id !== null && (seen.firstId === null || id < seen.firstId)) seen.firstId = id;
          if (id !== null && (seen.lastId === null || id > seen.lastId)) seen.lastId = id;
        }
      }
    } catch (error) {
      problems.push({ file, line: null, detail: `unreadable: ${(error as Error).message}` });
      continue;
    }
    records += lines;
    const sha256 = hash.digest('hex');
    if (sha256 !== entry.sha256) problems.push({ file, line: null, detail: `sha256 ${sha256} differs from the manifest's ${entry.sha256}` });
    if (bytes !== entry.bytes) problems.push({ file, line: null, detail: `${bytes} bytes, the manifest says ${entry.bytes}` });
    if (lines !== entry.records) problems.push({ file, line: null, detail: `${lines} lines, the manifest says ${entry.records} records` });
    for (const key of ['oldest', 'newest', 'firstId', 'lastId'] as const) {
      if (seen[key] !== entry[key])
        problems.push({ file, line: null, detail: `the manifest says ${key} is ${JSON.stringify(entry[key])}, the file says ${JSON.stringify(seen[key])}` });
    }
  }
  const entries = Object.values(manifest.files);
  const totals = { records: entries.reduce((n, f) => n + f.records, 0), bytes: entries.reduce((n, f) => n + f.bytes, 0) };
  if (manifest.totals?.records !== totals.records || manifest.totals?.bytes !== totals.bytes) {
    problems.push({
      file: MANIFEST_FILE,
      line: null,
      detail: `totals ${JSON.stringify(manifest.totals)} do not add up to the files' ${JSON.stringify(totals)}`,
    });
  }
  return { ok: problems.length === 0, manifest, records, problems };
}

/** Reads and checks `manifest.json`; throws `PAPYRA_ARCHIVE_DAMAGED` for one it cannot trust. */
export async function readManifest(dir: string): Promise<ArchiveManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `${dir} is not a Papyra archive: it has no ${MANIFEST_FILE} (an unfinished export has none).`, {
        details: { dir },
      });
    }
    throw new PapyraError('PAPYRA_ARCHIVE_DAMAGED', `Cannot read ${MANIFEST_FILE}: ${(error as Error).message}`, { cause: error });
  }
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(text) as ArchiveManifest;
  } catch {
    throw new PapyraError('PAPYRA_ARCHIVE_DAMAGED', `${MANIFEST_FILE} is not valid JSON.`);
  }
  if (manifest?.format !== ARCHIVE_FORMAT || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new PapyraError('PAPYRA_ARCHIVE_DAMAGED', `${MANIFEST_FILE} is not a ${ARCHIVE_FORMAT} manifest.`);
  }
  const kinds = manifest.window?.kinds;
  if (!Array.isArray(kinds) || kinds.some((k) => !RECORD_KINDS.includes(k))) {
    throw new PapyraError('PAPYRA_ARCHIVE_DAMAGED', `${MANIFEST_FILE} names unknown record kinds ${JSON.stringify(kinds)}.`);
  }
  for (const [file, entry] of Object.entries(manifest.files)) {
    if (!RECORD_KINDS.includes(entry?.kind) || ARCHIVE_FILES[entry.kind] !== file || !kinds.includes(entry.kind)) {
      throw new PapyraError(
        'PAPYRA_ARCHIVE_DAMAGED',
        `${MANIFEST_FILE} lists ${JSON.stringify(file)} with kind ${JSON.stringify(entry?.kind)}, which does not belong in this archive.`,
      );
    }
  }
  if (manifest.version !== ARCHIVE_VERSION) {
    throw new PapyraError(
      'PAPYRA_ARCHIVE_DAMAGED',
      `Archive version ${JSON.stringify(manifest.version)} is not supported (this reader knows ${ARCHIVE_VERSION}).`,
    );
  }
  return manifest;
}

/** A changed byte in the manifest shows here: its digest file must name its exact sha256. */
async function manifestDigestProblems(dir: string): Promise<ArchiveProblem[]> {
  try {
    const [text, digest] = await Promise.all([readFile(join(dir, MANIFEST_FILE)), readFile(join(dir, MANIFEST_DIGEST_FILE), 'utf8')]);
    const actual = createHash('sha256').update(text).digest('hex');
    if (digest === `${actual}  ${MANIFEST_FILE}\n`) return [];
    return [
      { file: MANIFEST_DIGEST_FILE, line: null, detail: `the manifest's sha256 is ${actual}; ${MANIFEST_DIGEST_FILE} says otherwise (one of them changed)` },
    ];
  } catch (error) {
    return [{ file: MANIFEST_DIGEST_FILE, line: null, detail: `unreadable: ${(error as Error).message}` }];
  }
}
