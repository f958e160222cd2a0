import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { fsError, lockedError } from '../errors.js';
import { FILE_MODE, isProcessAlive, tempPathFor } from './files.js';

export type LockPurpose = 'write' | 'rewrite';

export interface LockHolder {
  pid: number;
  host: string;
  since: number;
}

/** Instances of this process holding each lock file, and for what. */
const held = new Map<string, Set<SegmentLock>>();

/**
 * The lock beside a data file (`<file>.lock`, holding the owner's pid and host). One process at a
 * time holds it, for writing or rewriting. Inside that process, several backend instances may
 * write, but a rewrite (recovery, compaction) needs every other instance out of the way. A lock
 * whose process has died (same host) is taken over.
 */
export class SegmentLock {
  readonly path: string;
  #purposes = new Set<LockPurpose>();
  readonly #isAlive: (pid: number) => boolean;

  constructor(dataPath: string, options: { isAlive?: (pid: number) => boolean } = {}) {
    this.path = `${dataPath}.lock`;
    this.#isAlive = options.isAlive ?? isProcessAlive;
  }

  get purposes(): ReadonlySet<LockPurpose> {
    return this.#purposes;
  }

  /** Takes the lock for a purpose (no-op if this instance already has it); throws PAPYRA_LOCKED. */
  acquire(purpose: LockPurpose): void {
    if (this.#purposes.has(purpose)) return;
    const holders = held.get(this.path) ?? new Set<SegmentLock>();
    const others = [...holders].filter((h) => h !== this);
    if (purpose === 'rewrite' && others.length > 0) throw lockedError(this.path, null, 'rewrite');
    if (purpose === 'write' && others.some((h) => h.purposes.has('rewrite'))) throw lockedError(this.path, null, 'write');
    if (holders.size === 0) this.#takeFile(purpose);
    holders.add(this);
    held.set(this.path, holders);
    this.#purposes.add(purpose);
  }

  release(purpose: LockPurpose): void {
    if (!this.#purposes.delete(purpose) || this.#purposes.size > 0) return;
    const holders = held.get(this.path);
    holders?.delete(this);
    if (holders && holders.size > 0) return;
    held.delete(this.path);
    if (this.holder()?.pid === process.pid) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone: nothing to release
      }
    }
  }

  /** Runs `fn` holding the lock for a purpose, and releases it however `fn` ends. */
  async holding<T>(purpose: LockPurpose, fn: () => Promise<T>): Promise<T> {
    this.acquire(purpose);
    try {
      return await fn();
    } finally {
      this.release(purpose);
    }
  }

  /** Who holds the lock file now (null when free or unreadable). */
  holder(): LockHolder | null {
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as Partial<LockHolder>;
      if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
      return { pid: parsed.pid, host: parsed.host, since: typeof parsed.since === 'number' ? parsed.since : 0 };
    } catch {
      return null;
    }
  }

  #takeFile(purpose: LockPurpose): void {
    const me: LockHolder = { pid: process.pid, host: hostname(), since: Date.now() };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (this.#create(me)) return;
      const holder = this.holder();
      // Our own pid with no instance holding it is a leftover of this process: stale too.
      if (holder && holder.pid !== process.pid && (holder.host !== me.host || this.#isAlive(holder.pid))) {
        throw lockedError(this.path, holder, purpose);
      }
      try {
        unlinkSync(this.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, this.path, 'take over the stale lock');
      }
    }
    throw lockedError(this.path, this.holder(), purpose);
  }

  /** Creates the lock file complete or not at all (written aside, then hard-linked into place). */
  #create(me: LockHolder): boolean {
    const temp = tempPathFor(this.path);
    try {
      const fd = openSync(temp, 'wx', FILE_MODE);
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
      linkSync(temp, this.path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fsError(error, this.path, 'create the lock');
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
    }
  }
}
