import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, legacyLockPathFor, lockPathFor, parseTempName, siblingPath } from '@papyra/backend-ndjson/segments';

/**
 * Where the files of one rotation set live: `path` (slot 0, the active file), `path.1` (newest
 * rotated) … `path.<maxFiles-1>` (oldest). Our own files beside it are hidden siblings that no
 * rotating scan (ours or Python Papyra's) takes for set members: the lock `.<base>.lock` (the
 * segment lock's name) and the compaction journal `.<base>.compact-journal`, and temp files named
 * by the segment primitives. The names of earlier versions (`<base>.lock`,
 * `<base>.compact-journal`, `<base>.papyra-tmp-*`) are still recognised as ours.
 */
export class SetLayout {
  readonly path: string;
  readonly dir: string;
  readonly base: string;
  readonly maxFiles: number;
  /** Where a compaction commits its journal. */
  readonly journal: string;
  /** Every name a journal of this set may have, the current one first. */
  readonly journalNames: readonly string[];
  /** Every name the set's lock may have (the current one and the earlier `<base>.lock`). */
  readonly lockNames: readonly string[];

  constructor(path: string, maxFiles: number) {
    this.path = path;
    this.dir = dirname(path);
    this.base = basename(path);
    this.maxFiles = maxFiles;
    this.journal = siblingPath(path, 'compact-journal');
    this.journalNames = [basename(this.journal), `${this.base}.compact-journal`];
    this.lockNames = [basename(lockPathFor(path)), basename(legacyLockPathFor(path))];
  }

  /** The path of slot `i` (0 is the active file). */
  slot(i: number): string {
    return i === 0 ? this.path : `${this.path}.${i}`;
  }

  /** The slot a file name stands for, or null when it is not a member of the set. */
  slotOf(name: string): number | null {
    if (name === this.base) return 0;
    if (!name.startsWith(`${this.base}.`)) return null;
    const suffix = name.slice(this.base.length + 1);
    if (!/^[1-9]\d{0,8}$/.test(suffix)) return null;
    const n = Number(suffix);
    return n < this.maxFiles ? n : null;
  }

  /** True for a member, the lock or the journal: the names our temp files may stand in for. */
  isOwn(name: string): boolean {
    return this.slotOf(name) !== null || this.lockNames.includes(name) || this.journalNames.includes(name);
  }
}

/** One directory listing, classified. Names are file names in `layout.dir`. */
export interface Listing {
  /** Members (whatever their type: the readers refuse a directory), the lock, the journal and our temp files present. */
  names: Set<string>;
  /** Files that look like part of the set but are not (ORPHANED_ROTATED_FILE). */
  orphans: string[];
  /** The files whose temp files are present: the owners `findLeftovers` needs. */
  tempOwners: string[];
}

// `<anything>.<utc stamp>-<hex>.quarantined`: a copy made by quarantine recovery (quarantineCopy).
const QUARANTINE_COPY = /\.\d{8}T\d{9}Z-[0-9a-f]{8}\.quarantined$/;

/**
 * The orphan rule: a regular file whose name is `<base>.<anything>` and which is none of the
 * set's own files — not a member slot (`<base>.1` … `<base>.<maxFiles-1>`), not a lock, journal or
 * temp file of ours, not a copy quarantine recovery put here (a set quarantined into its own
 * directory) — is an orphan (`<base>.7` beyond maxFiles, `<base>.orphan`, `<base>.1.bak`,
 * `<base>.01`). Files not named after the set are none of our business.
 */
export async function listSet(layout: SetLayout): Promise<Listing> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(layout.dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { names: new Set(), orphans: [], tempOwners: [] };
    throw fsError(error, layout.dir, 'list');
  }
  const names = new Set<string>();
  const orphans: string[] = [];
  const owners = new Set<string>();
  for (const entry of entries) {
    const name = entry.name;
    if (layout.slotOf(name) !== null || layout.lockNames.includes(name) || layout.journalNames.includes(name)) {
      // A directory at a member's name is refused (PAPYRA_NOT_A_FILE) by the readers; keep it visible to them.
      if (entry.isFile() || layout.slotOf(name) !== null) names.add(name);
      continue;
    }
    const temp = parseTempName(name);
    if (temp && layout.isOwn(temp.target)) {
      owners.add(join(layout.dir, temp.target));
      names.add(name);
      continue;
    }
    if (entry.isFile() && name.startsWith(`${layout.base}.`) && !QUARANTINE_COPY.test(name)) orphans.push(join(layout.dir, name));
  }
  return { names, orphans: orphans.sort(), tempOwners: [...owners].sort() };
}
