import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PapyraError } from '@papyra/persistence-contract';
import { openSegment } from '@papyra/backend-ndjson/segments';
import { readJournal, resolveView, type JournalState, type SetFile } from './journal.js';
import { listSet, type Listing, type SetLayout } from './layout.js';

/** What one look at the set's directory found. */
export interface SetView {
  listing: Listing;
  journal: JournalState;
  files: SetFile[];
}

export async function viewOf(layout: SetLayout): Promise<SetView> {
  const listing = await listSet(layout);
  const journal = layout.journalNames.some((name) => listing.names.has(name)) ? readJournal(layout) : ({ state: 'none' } as const);
  return { listing, journal, files: resolveView(layout, listing, journal) };
}

/** One member held open: readers read `segment`, which stays the same file whatever is renamed. */
export interface SnapshotFile extends SetFile {
  segment: { path: string; handle: import('node:fs/promises').FileHandle; size: number };
}

/** The members of the set as they stood at one instant, each held open. `close()` when done. */
export interface Snapshot {
  view: SetView;
  files: SnapshotFile[];
  close(): Promise<void>;
}

export interface SnapshotOptions {
  /** Attempts before giving up with PAPYRA_CONCURRENT_MODIFICATION (default 12). */
  attempts?: number;
}

const DEFAULT_ATTEMPTS = 12;

/**
 * Opens every member of the set, then checks that the set still is what was opened: the same
 * members, each path still naming the very file held open (same device and inode; an inode held
 * open cannot be reused, so an equal inode is the same file). A rotation, compaction or repair
 * that ran meanwhile, here or in another process, changes that, and the attempt is repeated, a
 * bounded number of times with a short growing pause; then the read fails with
 * PAPYRA_CONCURRENT_MODIFICATION. A passed check means the held files were the set at the instant
 * the check began, so reading them gives that state: no gap, no duplicate, never older than an
 * earlier read. (The active file may have grown since: its new lines are the next records.)
 */
export async function openSnapshot(layout: SetLayout, options: SnapshotOptions = {}): Promise<Snapshot> {
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const view = await viewOf(layout);
    const files: SnapshotFile[] = [];
    const close = async () => {
      await Promise.all(files.map((f) => f.segment.handle.close().catch(() => {})));
    };
    try {
      const identities: string[] = [];
      let complete = true;
      for (const file of view.files) {
        const opened = await openSegment(file.read);
        if (!opened) {
          complete = false;
          break;
        }
        files.push({ ...file, segment: { path: file.read, handle: opened.handle, size: opened.size } });
        const s = await opened.handle.stat();
        identities.push(`${s.dev}:${s.ino}`);
      }
      if (complete && (await unchanged(layout, view, identities))) return { view, files, close };
    } catch (error) {
      await close();
      throw error;
    }
    await close();
    if (attempt < attempts) await sleep(Math.min(2 ** attempt, 50));
  }
  throw new PapyraError(
    'PAPYRA_CONCURRENT_MODIFICATION',
    `The rotation set ${layout.path} kept changing while it was read (${attempts} attempts); try again.`,
    { details: { path: layout.path, attempts } },
  );
}

/** True when the set shows the same members as `view`, each at the file with the given identity. */
async function unchanged(layout: SetLayout, view: SetView, identities: readonly string[]): Promise<boolean> {
  const now = await viewOf(layout);
  if (now.files.length !== view.files.length) return false;
  for (const [i, file] of now.files.entries()) {
    const then = view.files[i]!;
    if (file.slot !== then.slot || basename(file.read) !== basename(then.read)) return false;
    const s = await stat(file.read).catch(() => null);
    if (!s || `${s.dev}:${s.ino}` !== identities[i]) return false;
  }
  return true;
}
