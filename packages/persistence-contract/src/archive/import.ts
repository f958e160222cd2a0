import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PersistenceBackend } from '../backend.js';
import { PapyraError } from '../errors.js';
import { contentId } from '../ids.js';
import { RECORD_KINDS, type PersistedRecord, type RecordKind } from '../records.js';
import type { StoredRecord } from '../read.js';
import { readManifest, verifyArchive } from './verify.js';
import { before, recordsOf, type RecordSource } from './sources.js';

export interface TransferOptions {
  /** Count what would be written; write nothing. */
  dryRun?: boolean;
  /**
   * Where the transfer remembers how far it got (a small JSON file), so a killed run resumes and a
   * second run writes nothing. Without it, the progress is read from the target: the position in
   * the source of the target's newest record of each kind (right when nothing else writes to the
   * target in between).
   */
  journal?: string;
  /** Records written between two journal checkpoints (each after a `flush()`); default 1,000. */
  batchSize?: number;
  signal?: AbortSignal;
  /** Called after every batch. */
  onProgress?: (progress: { written: number; skipped: number }) => void;
}

export interface TransferReport {
  dryRun: boolean;
  /** Records written by this run (or, with `dryRun`, that would be). */
  written: number;
  /** Records already transferred by an earlier run of the same journal. */
  skipped: number;
  /** Records the target already held from an interrupted batch (found by id). */
  alreadyPresent: number;
  byKind: Record<RecordKind, number>;
}

interface Journal {
  /** What is being transferred: the archive's manifest digest or the source's description. */
  source: string;
  /** Records of each kind already written and flushed. */
  done: Record<RecordKind, number>;
}

/**
 * Imports an archive into `target`, keeping ids and timestamps, in one timestamp order across kinds
 * (as a store written live keeps them). The archive is verified first: a damaged one is refused
 * with `PAPYRA_ARCHIVE_DAMAGED` and nothing is written.
 *
 * Records without an id (Python Papyra files) get `sha256:<hex of the stored line>`: the same
 * line always gets the same id, so re-imports stay idempotent (the PostgreSQL backend uses the same
 * rule).
 */
export async function importArchive(dir: string, target: PersistenceBackend, options: TransferOptions = {}): Promise<TransferReport> {
  const verification = await verifyArchive(dir);
  if (!verification.ok) {
    const first = verification.problems[0]!;
    throw new PapyraError(
      'PAPYRA_ARCHIVE_DAMAGED',
      `The archive ${dir} is damaged (${verification.problems.length} problem(s); first: ${first.file}${first.line === null ? '' : ` line ${first.line}`}: ${first.detail}); nothing was imported.`,
      { details: { problems: verification.problems.slice(0, 20) } },
    );
  }
  const manifest = await readManifest(dir);
  const identity = createHash('sha256').update(JSON.stringify(manifest.files)).digest('hex');
  return transfer({ archive: dir }, manifest.window.kinds, target, `archive:${identity}`, options);
}

/** Copies every visible record of `source` into `target`, as `importArchive` does, without a file in between. */
export async function migrateStore(
  source: PersistenceBackend,
  target: PersistenceBackend,
  options: TransferOptions & { sourceId?: string } = {},
): Promise<TransferReport> {
  return transfer(source, RECORD_KINDS, target, `store:${options.sourceId ?? source.name}`, options);
}

async function transfer(
  source: RecordSource,
  kinds: readonly RecordKind[],
  target: PersistenceBackend,
  identity: string,
  options: TransferOptions,
): Promise<TransferReport> {
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}.`);
  const journal = await loadJournal(options.journal, identity);
  const report: TransferReport = { dryRun: options.dryRun === true, written: 0, skipped: 0, alreadyPresent: 0, byKind: { event: 0, audit: 0, dead_letter: 0 } };
  // Without a journal, how far an earlier run got is read from the target itself.
  if (!options.journal) journal.done = await progressInTarget(source, kinds, target, options.signal);
  // The batch a killed run may have written without recording it: its ids are looked up once.
  const recent = options.dryRun ? null : await recentIds(target, kinds, batchSize);

  const streams = kinds.map((kind) => ({ kind, it: recordsOf(source, kind, options.signal), head: null as StoredRecord | null, position: 0 }));
  for (const s of streams) s.head = await next(s.it);
  const done = journal.done;
  let pending = 0;
  // A batch's writes go out together (a backend batches them) and are awaited before its checkpoint.
  let writes: Promise<void>[] = [];
  const settle = async () => {
    const batch = writes;
    writes = [];
    await Promise.all(batch);
  };

  for (;;) {
    let pick: (typeof streams)[number] | null = null;
    for (const s of streams) if (s.head !== null && (pick === null || before(s.head, pick.head!))) pick = s;
    if (pick === null) break;
    const { record, line } = pick.head!;
    pick.position += 1;
    pick.head = await next(pick.it);
    if (pick.position <= done[pick.kind]) {
      report.skipped += 1;
      continue;
    }
    const stored = withId(record, line);
    if (recent?.has(stored.id!)) {
      report.alreadyPresent += 1;
    } else {
      if (!options.dryRun) {
        const written = write(target, stored);
        written.catch(() => {}); // observed by settle(); not an unhandled rejection meanwhile
        writes.push(written);
      }
      report.written += 1;
      report.byKind[stored.kind] += 1;
    }
    done[pick.kind] = pick.position;
    pending += 1;
    if (pending >= batchSize) {
      await settle();
      await checkpoint(target, options, journal);
      pending = 0;
      options.onProgress?.({ written: report.written, skipped: report.skipped });
      if (options.signal?.aborted)
        throw new PapyraError('PAPYRA_ABORTED', 'The transfer was aborted; run it again with the same journal to resume.', { cause: options.signal.reason });
    }
  }
  await settle();
  await checkpoint(target, options, journal);
  options.onProgress?.({ written: report.written, skipped: report.skipped });
  return report;
}

/**
 * Where an earlier run without a journal stopped, per kind: the position in the source of the
 * target's newest record of that kind (0 when the target does not hold it). Transfers write each
 * kind in source order, so everything before it is there too. One pass over the source per kind
 * that has a match; bounded memory.
 */
async function progressInTarget(
  source: RecordSource,
  kinds: readonly RecordKind[],
  target: PersistenceBackend,
  signal?: AbortSignal,
): Promise<Record<RecordKind, number>> {
  const done: Record<RecordKind, number> = { event: 0, audit: 0, dead_letter: 0 };
  for (const kind of kinds) {
    const [newest] = await listOf(target, kind, 1);
    if (!newest?.id) continue;
    let position = 0;
    for await (const { record, line } of recordsOf(source, kind, signal)) {
      position += 1;
      if ((record.id ?? contentId(line)) === newest.id) {
        done[kind] = position;
        break;
      }
    }
  }
  return done;
}

function listOf(target: PersistenceBackend, kind: RecordKind, limit: number): Promise<PersistedRecord[]> {
  return kind === 'event' ? target.listEvents({ limit }) : kind === 'audit' ? target.listAudits({ limit }) : target.listDeadLetters({ limit });
}

async function next(it: AsyncGenerator<StoredRecord>): Promise<StoredRecord | null> {
  const r = await it.next();
  return r.done ? null : r.value;
}

function withId(record: PersistedRecord, line: string): PersistedRecord {
  return record.id === null ? { ...record, id: contentId(line) } : record;
}

function write(target: PersistenceBackend, record: PersistedRecord): Promise<void> {
  switch (record.kind) {
    case 'event':
      return target.recordEvent(record);
    case 'audit':
      return target.recordAudit(record);
    case 'dead_letter':
      return target.recordDeadLetter(record);
  }
}

async function checkpoint(target: PersistenceBackend, options: TransferOptions, journal: Journal): Promise<void> {
  if (options.dryRun) return;
  await target.flush();
  if (!options.journal) return;
  const temp = `${options.journal}.tmp`;
  await writeFile(temp, JSON.stringify(journal), { mode: 0o600 });
  await rename(temp, options.journal);
}

async function loadJournal(path: string | undefined, source: string): Promise<Journal> {
  const fresh: Journal = { source, done: { event: 0, audit: 0, dead_letter: 0 } };
  if (!path) return fresh;
  await mkdir(dirname(path), { recursive: true });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fresh;
    throw error;
  }
  const journal = JSON.parse(text) as Journal;
  if (journal.source !== source) {
    throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `The journal ${path} belongs to another transfer (${journal.source}); use a new journal path.`, {
      details: { journal: path },
    });
  }
  return journal;
}

/** Ids of the newest records of each kind: what an interrupted batch may already have written. */
async function recentIds(target: PersistenceBackend, kinds: readonly RecordKind[], batchSize: number): Promise<Set<string>> {
  const ids = new Set<string>();
  const limit = batchSize * 2;
  for (const kind of kinds) for (const r of await listOf(target, kind, limit)) if (r.id !== null) ids.add(r.id);
  return ids;
}
