import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, linkSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { fsError, lockedError, notAFileError } from '../errors.js';
import { FILE_MODE, legacyLockPathFor, lockPathFor, resolveDataPath, takeoverPathFor, tempPathFor } from './naming.js';

export type LockPurpose = 'write' | 'rewrite';

/** What a lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the lock was taken (epoch ms). */
  since: number;
  /** The holder's start time (field 22 of /proc/<pid>/stat); null where there is no /proc, and in locks of earlier versions. */
  start: string | null;
  /** The kernel's boot id when the lock was taken; null where there is no /proc, and in locks of earlier versions. */
  boot: string | null;
  /** Tells this holder's lock apart from any other, also one by the same process. */
  nonce: string | null;
}

/** What the lock needs to know about this process and machine; injectable for tests. */
export interface LockSystem {
  readonly pid: number;
  hostname(): string;
  /** The text of a /proc file, or null when it does not exist or cannot be read. */
  readProc(path: string): string | null;
  /** Whether a pid exists, where /proc cannot tell. */
  isAlive(pid: number): boolean;
  now(): number;
}

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const systemLockSystem: LockSystem = {
  pid: process.pid,
  hostname,
  readProc(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  isAlive: isProcessAlive,
  now: Date.now,
};

/**
 * `live`: the holder runs; `stale`: it has certainly ended (the lock may be taken over);
 * `unverifiable`: this host cannot tell (treated as live).
 */
export interface LockVerdict {
  state: 'live' | 'stale' | 'unverifiable';
  reason: string;
}

/** Start time of a process (clock ticks after boot), or null when it does not exist or there is no /proc. */
function startTimeOf(system: LockSystem, pid: number): string | null {
  const stat = system.readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19] ?? null;
}

function bootIdOf(system: LockSystem): string | null {
  return system.readProc('/proc/sys/kernel/random/boot_id')?.trim() || null;
}

/** This machine's boot time (epoch ms), from /proc/stat. */
function bootTimeOf(system: LockSystem): number | null {
  const btime = /^btime (\d+)$/m.exec(system.readProc('/proc/stat') ?? '');
  return btime ? Number(btime[1]) * 1000 : null;
}

/** The holder record this process writes. */
export function currentHolder(system: LockSystem = systemLockSystem): LockHolder {
  return {
    pid: system.pid,
    host: system.hostname(),
    since: system.now(),
    start: startTimeOf(system, system.pid),
    boot: bootIdOf(system),
    nonce: randomBytes(8).toString('hex'),
  };
}

/**
 * Whether the holder of a lock still runs. A pid alone is not enough: after a reboot or in a new
 * container it may belong to another process. So a lock records the boot id and its process's start
 * time: another boot, or the pid now having another start time, means the holder has ended. A lock
 * taken on another host cannot be checked from here (its pid is not ours to look at) and counts as
 * held; the error tells how to clear it. Locks of earlier versions (pid and host only) are stale
 * when taken before this machine booted or when the pid is gone. A record of this very process is
 * stale: the caller has already seen that no instance here holds it.
 */
export function judgeHolder(holder: LockHolder | null, system: LockSystem = systemLockSystem): LockVerdict {
  if (!holder) return { state: 'stale', reason: 'the lock file holds no valid holder record' };
  const host = system.hostname();
  if (holder.host !== host) {
    return { state: 'unverifiable', reason: `it was taken on host ${holder.host}, and this host (${host}) cannot see that host's processes` };
  }
  const boot = bootIdOf(system);
  if (holder.boot !== null && boot !== null && holder.boot !== boot) return { state: 'stale', reason: 'the machine has restarted since (another boot id)' };
  if (holder.pid === system.pid && (holder.start === null || holder.start === startTimeOf(system, system.pid))) {
    return { state: 'stale', reason: 'left by this process' };
  }
  const procfs = startTimeOf(system, system.pid) !== null;
  if (holder.start !== null && procfs) {
    const start = startTimeOf(system, holder.pid);
    if (start === null) return { state: 'stale', reason: `process ${holder.pid} has ended` };
    if (start !== holder.start) return { state: 'stale', reason: `pid ${holder.pid} now belongs to another process (another start time)` };
    return { state: 'live', reason: `process ${holder.pid} is running` };
  }
  const booted = bootTimeOf(system);
  if (booted !== null && holder.since > 0 && holder.since < booted) return { state: 'stale', reason: 'it was taken before the machine last booted' };
  return system.isAlive(holder.pid)
    ? { state: 'live', reason: `process ${holder.pid} is running` }
    : { state: 'stale', reason: `process ${holder.pid} has ended` };
}

/** Reads a holder record; null when the text is not one. */
export function parseHolder(text: string): LockHolder | null {
  let parsed: Partial<Record<keyof LockHolder, unknown>>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return null;
  }
  if (typeof parsed?.pid !== 'number' || typeof parsed.host !== 'string') return null;
  const text_ = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    pid: parsed.pid,
    host: parsed.host,
    since: typeof parsed.since === 'number' ? parsed.since : 0,
    start: text_(parsed.start),
    boot: text_(parsed.boot),
    nonce: text_(parsed.nonce),
  };
}

/** One look at a lock file: its holder, and an identity that changes whenever the file is replaced. */
interface Observed {
  holder: LockHolder | null;
  identity: string;
  /** This user may not read it, so its holder cannot be judged. */
  denied: boolean;
}

/** Rejects with PAPYRA_NOT_A_FILE when a directory or special file is at `path`: we only make regular files. */
function observe(path: string): Observed | null {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO at the path would block the whole event loop in a plain open.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'EACCES' || code === 'EPERM') return { holder: null, identity: '', denied: true };
    throw fsError(error, path, 'read the lock');
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw notAFileError(path);
    const buf = Buffer.alloc(Math.min(stat.size, 4096));
    const text = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
    const identity = createHash('sha256').update(`${stat.dev}:${stat.ino}:${text}`).digest('hex').slice(0, 16);
    return { holder: parseHolder(text), identity, denied: false };
  } catch (error) {
    throw fsError(error, path, 'read the lock');
  } finally {
    closeSync(fd);
  }
}

/** Who is in the way of a claim, and why they count as holding it. */
interface Blocked {
  lock: string;
  holder: LockHolder | null;
  verdict: LockVerdict;
}

/** How many interrupted takeovers of one lock are themselves taken over before giving up. */
const MAX_TAKEOVER_DEPTH = 4;
const CLAIM_ATTEMPTS = 200;
const pauseCell = new Int32Array(new SharedArrayBuffer(4));

/** Per lock file held by this process: the instances holding it, and the record it holds. */
const held = new Map<string, { holders: Set<SegmentLock>; record: LockHolder }>();

/**
 * The lock of a data file (`.<base>.lock` beside the file it resolves to through symbolic links).
 * One process at a time holds it, for writing or rewriting. Inside that process several backend
 * instances may write, but a rewrite (recovery, compaction) needs every other instance out of the
 * way. A lock whose holder has ended (see `judgeHolder`) is taken over atomically: of all the
 * processes that find it stale, only the one that creates the takeover file named after that very
 * lock file replaces it. The lock file of earlier versions (`<path>.lock`) is honoured too.
 */
export class SegmentLock {
  readonly dataPath: string;
  readonly #system: LockSystem;
  #purposes = new Set<LockPurpose>();
  /** The lock file while this instance holds it (the data path is resolved once, at the first purpose). */
  #held: string | null = null;

  constructor(dataPath: string, options: { system?: LockSystem } = {}) {
    this.dataPath = dataPath;
    this.#system = options.system ?? systemLockSystem;
  }

  /** The lock file: beside the file `dataPath` resolves to now. */
  get path(): string {
    return this.#held ?? lockPathFor(resolveDataPath(this.dataPath));
  }

  get purposes(): ReadonlySet<LockPurpose> {
    return this.#purposes;
  }

  /** Takes the lock for a purpose (no-op if this instance already has it); throws PAPYRA_LOCKED. */
  acquire(purpose: LockPurpose): void {
    if (this.#purposes.has(purpose)) return;
    const path = this.path;
    const entry = held.get(path);
    const others = [...(entry?.holders ?? [])].filter((h) => h !== this);
    const inProcess = (): never => {
      throw lockedError({
        dataPath: this.dataPath,
        lock: path,
        holder: null,
        verdict: { state: 'live', reason: 'another backend instance in this process' },
        purpose,
      });
    };
    if (purpose === 'rewrite' && others.length > 0) inProcess();
    if (purpose === 'write' && others.some((h) => h.purposes.has('rewrite'))) inProcess();
    if (entry) entry.holders.add(this);
    else held.set(path, { holders: new Set([this]), record: this.#takeFile(path, purpose) });
    this.#held = path;
    this.#purposes.add(purpose);
  }

  release(purpose: LockPurpose): void {
    if (!this.#purposes.delete(purpose) || this.#purposes.size > 0) return;
    const path = this.#held!;
    this.#held = null;
    const entry = held.get(path);
    entry?.holders.delete(this);
    if (!entry || entry.holders.size > 0) return;
    held.delete(path);
    // Only our own record: never a lock someone else has taken meanwhile (nor whatever replaced it).
    let ours = false;
    try {
      ours = observe(path)?.holder?.nonce === entry.record.nonce;
    } catch {
      // not a lock file any more: not ours to remove
    }
    if (ours) unlinkQuietly(path);
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
      return observe(this.path)?.holder ?? null;
    } catch {
      return null;
    }
  }

  #takeFile(path: string, purpose: LockPurpose): LockHolder {
    // A live process of an earlier version holds the old name; a stale one is cleared. Only a file
    // that holds a holder record is such a lock: `<file>.lock` may as well be anyone's file (another
    // store, another tool's lock), and a special file there is certainly not ours.
    const legacy = legacyLockPathFor(resolveDataPath(this.dataPath));
    let old: Observed | null;
    try {
      old = observe(legacy);
    } catch {
      old = null;
    }
    if (old && (old.denied || old.holder)) {
      const verdict = this.#verdict(old);
      if (verdict.state !== 'stale') throw lockedError({ dataPath: this.dataPath, lock: legacy, holder: old.holder, verdict, purpose });
      unlinkQuietly(legacy);
    }
    const me = currentHolder(this.#system);
    const blocked = this.#claim(path, `${JSON.stringify(me)}\n`, 0);
    if (blocked) throw lockedError({ dataPath: this.dataPath, ...blocked, purpose });
    return me;
  }

  #verdict(seen: Observed): LockVerdict {
    if (seen.denied) return { state: 'unverifiable', reason: 'this user may not read the lock file' };
    return judgeHolder(seen.holder, this.#system);
  }

  /** Makes `path` hold `record`; returns null when it does, or who holds it instead. */
  #claim(path: string, record: string, depth: number): Blocked | null {
    let blocked: Blocked | null = null;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if (writeAside(path, record, (temp) => linkSync(temp, path))) return null;
      const seen = observe(path);
      if (!seen) continue;
      const verdict = this.#verdict(seen);
      if (verdict.state !== 'stale') return { lock: path, holder: seen.holder, verdict };
      if (depth >= MAX_TAKEOVER_DEPTH)
        return { lock: path, holder: seen.holder, verdict: { state: 'unverifiable', reason: 'too many interrupted takeovers of it' } };
      // Everyone who found this stale lock file races for one file named after it; one wins.
      const takeover = takeoverPathFor(path, seen.identity);
      blocked = this.#claim(takeover, record, depth + 1);
      if (blocked) {
        // A live process is taking it over right now: look again in a moment.
        if (blocked.verdict.state !== 'live') return blocked;
        Atomics.wait(pauseCell, 0, 0, 2);
        continue;
      }
      try {
        // The stale file may have been replaced before we won: replace only that very file.
        if (observe(path)?.identity === seen.identity) {
          writeAside(path, record, (temp) => renameSync(temp, path));
          return null;
        }
      } finally {
        unlinkQuietly(takeover);
      }
    }
    return blocked ?? { lock: path, holder: null, verdict: { state: 'unverifiable', reason: 'it kept changing hands' } };
  }
}

/**
 * Writes `text` into a fresh temp file beside `path` and hands it to `place` (link: create only if
 * absent; rename: replace), so the file appears complete or not at all. False when it exists.
 */
function writeAside(path: string, text: string, place: (temp: string) => void): boolean {
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, 'wx', FILE_MODE);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    place(temp);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsError(error, path, 'create the lock');
  } finally {
    unlinkQuietly(temp);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
