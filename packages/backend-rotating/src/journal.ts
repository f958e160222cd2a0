import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_MODE, parseTempName, tempPathFor } from '@papyra/backend-ndjson/segments';
import { fsError, fsyncDirSync } from '@papyra/backend-ndjson/segments';
import type { Listing, SetLayout } from './layout.js';

/**
 * The commit record of a compaction of the set (`.<base>.compact-journal`; earlier versions wrote
 * `<path>.compact-journal`, still read). Each step replaces one
 * member by its staged new content (a temp file beside it), or deletes it when nothing of it is
 * left. Names only, no directories: every path resolves inside the set's directory.
 */
export interface JournalStep {
  target: string;
  staged: string | null;
}

/** `path`: where the journal found is. */
export type JournalState = { state: 'none' } | { state: 'valid'; path: string; steps: JournalStep[] } | { state: 'invalid'; path: string; reason: string };

const VERSION = 1;

/** Reads the journal, if any. Only a journal naming members of this set and their own staged files is valid. */
export function readJournal(layout: SetLayout): JournalState {
  for (const name of layout.journalNames) {
    const path = join(layout.dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw fsError(error, path, 'read');
    }
    return { path, ...parseJournal(layout, text) } as JournalState;
  }
  return { state: 'none' };
}

function parseJournal(layout: SetLayout, text: string): { state: 'valid'; steps: JournalStep[] } | { state: 'invalid'; reason: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state: 'invalid', reason: 'not JSON' };
  }
  const { version, steps } = (parsed ?? {}) as { version?: unknown; steps?: unknown };
  if (version !== VERSION || !Array.isArray(steps)) return { state: 'invalid', reason: `not a version ${VERSION} journal` };
  const out: JournalStep[] = [];
  for (const step of steps as unknown[]) {
    const { target, staged } = (step ?? {}) as { target?: unknown; staged?: unknown };
    if (typeof target !== 'string' || layout.slotOf(target) === null)
      return { state: 'invalid', reason: `step target ${JSON.stringify(target)} is not a member of the set` };
    if (staged !== null && (typeof staged !== 'string' || parseTempName(staged)?.target !== target)) {
      return { state: 'invalid', reason: `staged file ${JSON.stringify(staged)} is not a temp file of ${target}` };
    }
    out.push({ target, staged });
  }
  return { state: 'valid', steps: out };
}

/** The commit point of a compaction: the journal is written aside, fsynced and renamed into place. */
export function commitJournal(layout: SetLayout, steps: readonly JournalStep[]): void {
  const temp = tempPathFor(layout.journal);
  try {
    const fd = openSync(temp, 'wx', FILE_MODE);
    try {
      writeSync(fd, `${JSON.stringify({ version: VERSION, steps })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, layout.journal);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    throw fsError(error, layout.journal, 'commit the compaction journal');
  }
  fsyncDirSync(layout.dir);
}

/**
 * Completes a committed compaction: each staged file still present is renamed over its target,
 * each deleted member is removed, then the journal goes. Idempotent, so a crash in the middle is
 * completed by running it again. The caller holds the set's lock.
 */
export function rollForward(layout: SetLayout, steps: readonly JournalStep[]): void {
  for (const { target, staged } of steps) {
    const targetPath = join(layout.dir, target);
    try {
      if (staged === null) unlinkSync(targetPath);
      else renameSync(join(layout.dir, staged), targetPath);
    } catch (error) {
      // ENOENT: this step was done before a crash.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, targetPath, 'complete the compaction of');
    }
  }
  fsyncDirSync(layout.dir);
  for (const name of layout.journalNames) {
    const path = join(layout.dir, name);
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, path, 'remove');
    }
  }
  fsyncDirSync(layout.dir);
}

/** One member of the set as readers see it: `path` is its name, `read` where its bytes are now. */
export interface SetFile {
  slot: number;
  path: string;
  read: string;
}

/**
 * The members that exist, oldest first, as of the listing: the old set before a journal is
 * committed, the new set from that instant on (a pending step reads the staged file, a pending
 * delete hides the member), so a committed compaction is visible whole or not at all.
 */
export function resolveView(layout: SetLayout, listing: Listing, journal: JournalState): SetFile[] {
  const steps = new Map<string, JournalStep>(journal.state === 'valid' ? journal.steps.map((s) => [s.target, s]) : []);
  const files: SetFile[] = [];
  for (let slot = layout.maxFiles - 1; slot >= 0; slot--) {
    const path = layout.slot(slot);
    const name = slot === 0 ? layout.base : `${layout.base}.${slot}`;
    const step = steps.get(name);
    if (step && step.staged === null) continue;
    if (step?.staged && listing.names.has(step.staged)) files.push({ slot, path, read: join(layout.dir, step.staged) });
    else if (listing.names.has(name)) files.push({ slot, path, read: path });
  }
  return files;
}

/** Staged files a valid journal still needs: never leftovers. */
export function stagedOf(layout: SetLayout, journal: JournalState): Set<string> {
  if (journal.state !== 'valid') return new Set();
  return new Set(journal.steps.flatMap((s) => (s.staged ? [join(layout.dir, s.staged)] : [])));
}
