import { randomBytes } from 'node:crypto';
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/*
 * Names of the files we keep beside a data file `<dir>/<base>` (its lock, temp files, a rotation
 * set's journal). Python Papyra's rotating scan calls every `<base>.<suffix>` whose suffix is not a
 * rotation number an orphan, so none of ours starts with `<base>.`: they are hidden siblings,
 * `.<base>.<what>`. The names earlier versions used (`<base>.lock`, `<base>.papyra-tmp-<pid>-<hex>`)
 * are still recognised as ours.
 */

/** Mode of every file we create. */
export const FILE_MODE = 0o600;

// New temp names end in `.papyra-tmp`, old ones in `-<hex>`: no name parses both ways.
const TEMP_NAME = /^\.(.*)\.(\d+)-[0-9a-f]+\.papyra-tmp$/s;
const LEGACY_TEMP_NAME = /^(.*)\.papyra-tmp-(\d+)-[0-9a-f]+$/s;
const TAKEOVER_NAME = /^(.*)\.takeover-[0-9a-f]{16}$/s;

/** `<dir>/.<base>.<suffix>`: a file of ours about `path` that no rotating scan takes for a set member. */
export function siblingPath(path: string, suffix: string): string {
  return join(dirname(path), `.${basename(path)}.${suffix}`);
}

/** The lock of a data file: `.<base>.lock` beside it. */
export function lockPathFor(path: string): string {
  return siblingPath(path, 'lock');
}

/** The lock name of earlier versions, `<path>.lock`: still honoured, and removed once stale. */
export function legacyLockPathFor(path: string): string {
  return `${path}.lock`;
}

/** A fresh, recognisable temp path beside `path`: `.<base>.<pid>-<random>.papyra-tmp`. */
export function tempPathFor(path: string): string {
  return siblingPath(path, `${process.pid}-${randomBytes(6).toString('hex')}.papyra-tmp`);
}

/**
 * For a temp file name (ours, or of an earlier version): the name of the file it stands in for and
 * the pid that made it.
 */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const match = TEMP_NAME.exec(name) ?? LEGACY_TEMP_NAME.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : null;
}

/** The file whose creation settles who takes over a stale lock: `<lock>.takeover-<identity>`. */
export function takeoverPathFor(lockPath: string, identity: string): string {
  return `${lockPath}.takeover-${identity}`;
}

export type OwnFileKind = 'lock' | 'legacy-lock' | 'temp' | 'takeover';

/**
 * What a file name in a data file's directory is to the data file named `base`: one of our files
 * about it (its lock, the lock's old name, a temp file of it or of its lock, a takeover of its
 * lock), or null when it is none of those.
 */
export function ownFileKind(name: string, base: string): OwnFileKind | null {
  if (name === `.${base}.lock`) return 'lock';
  if (name === `${base}.lock`) return 'legacy-lock';
  const temp = parseTempName(name);
  if (temp) return temp.target === base || ownFileKind(temp.target, base) !== null ? 'temp' : null;
  const takeover = TAKEOVER_NAME.exec(name);
  if (takeover) {
    const kind = ownFileKind(takeover[1]!, base);
    return kind === 'lock' || kind === 'legacy-lock' || kind === 'takeover' ? 'takeover' : null;
  }
  return null;
}

/**
 * The file a path stands for, with symbolic links followed, also when it does not exist yet (a
 * dangling link resolves to where its target would be). Locks and rewrites work on this path, so a
 * store reached through a link and through its target is one store, and a rewrite replaces the
 * target and keeps the link.
 */
export function resolveDataPath(path: string): string {
  let current = resolve(path);
  // Bounded like the kernel's own limit on link chains; a loop is left for open() to refuse (ELOOP).
  for (let hops = 0; hops < 40; hops++) {
    let isLink: boolean;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch {
      break;
    }
    if (!isLink) {
      try {
        return realpathSync(current);
      } catch {
        return current;
      }
    }
    // A relative target is relative to the directory the link really is in: `..` after a linked
    // directory leads out of its target, as the kernel resolves it, not back along the path.
    current = resolve(realpathSync(dirname(current)), readlinkSync(current));
  }
  try {
    return join(realpathSync(dirname(current)), basename(current));
  } catch {
    return current;
  }
}
