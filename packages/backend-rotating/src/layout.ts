import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError, parseTempName } from '@papyra/backend-ndjson/segments';

/**
 * Where the files of one rotation set live: `path` (slot 0, the active file), `path.1` (newest
 * rotated) … `path.<maxFiles-1>` (oldest), plus `path.lock` and `path.compact-journal`.
 */
export class SetLayout {
  readonly path: string;
  readonly dir: string;
  readonly base: string;
  readonly maxFiles: number;
  readonly journal: string;

  constructor(path: string, maxFiles: number) {
    this.path = path;
    this.dir = dirname(path);
    this.base = basename(path);
    this.maxFiles = maxFiles;
    this.journal = `${path}.compact-journal`;
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

  /** True for a name that belongs beside the set: ours, or looking like part of it. */
  isBeside(name: string): boolean {
    return name === this.base || name.startsWith(`${this.base}.`);
  }
}

/** One directory listing, classified. Names are file names in `layout.dir`. */
export interface Listing {
  /** Every name in the directory that is beside the set (regular files only). */
  names: Set<string>;
  /** Files that look like part of the set but are not (ORPHANED_ROTATED_FILE). */
  orphans: string[];
  /** Paths whose temp files (`<path>.papyra-tmp-*`) are present: the owners `findLeftovers` needs. */
  tempOwners: string[];
}

/**
 * The orphan rule: a regular file whose name is `<base>.<anything>` and which is none of the
 * set's own files — not a member slot (`<base>.1` … `<base>.<maxFiles-1>`), not the lock, not the
 * compaction journal, not one of our temp files — is an orphan (`<base>.7` beyond maxFiles,
 * `<base>.orphan`, `<base>.1.bak`, `<base>.01`). Files not named after the set are none of our business.
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
    if (!layout.isBeside(name)) continue;
    const temp = parseTempName(name);
    if (temp && layout.isBeside(temp.target)) {
      // findLeftovers(p) covers the temps of p and of p.lock.
      owners.add(join(layout.dir, temp.target.endsWith('.lock') ? temp.target.slice(0, -'.lock'.length) : temp.target));
      names.add(name);
      continue;
    }
    // A directory at a member's name is refused (PAPYRA_NOT_A_FILE) by the readers; keep it visible to them.
    if (!entry.isFile() && layout.slotOf(name) === null) continue;
    names.add(name);
    if (layout.slotOf(name) === null && name !== `${layout.base}.lock` && join(layout.dir, name) !== layout.journal) orphans.push(join(layout.dir, name));
  }
  return { names, orphans: orphans.sort(), tempOwners: [...owners].sort() };
}

