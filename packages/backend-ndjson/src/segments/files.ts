import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Anomaly } from '@papyra/persistence-contract';
import { fsError, notAFileError } from '../errors.js';
import { isProcessAlive, judgeHolder, parseHolder, type LockHolder } from './lock.js';
import { nodeSegmentFs, type SegmentFs } from './fs.js';
import { ownFileKind, parseTempName } from './naming.js';

/** Temp files of this process that are in use right now: a scan must not call them leftovers. */
const activeTemps = new Set<string>();

export function markTempActive(path: string, active: boolean): void {
  if (active) activeTemps.add(path);
  else activeTemps.delete(path);
}

/**
 * Opens a segment for reading. Resolves null when it does not exist (an empty store); rejects with
 * PAPYRA_NOT_A_FILE for a directory or special file, PAPYRA_PERMISSION_DENIED / PAPYRA_IO otherwise.
 */
export async function openSegment(path: string): Promise<{ handle: FileHandle; size: number; mode: number; uid: number; gid: number } | null> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK so a FIFO at the path cannot hang us; it is refused below.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(error, path, 'open');
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw notAFileError(path);
    return { handle, size: stat.size, mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid };
  } catch (error) {
    await handle.close().catch(() => {});
    throw fsError(error, path, 'stat');
  }
}

/** File systems that cannot fsync a directory say so with one of these; that is not an error. */
const NO_DIR_FSYNC = new Set(['EINVAL', 'EISDIR', 'ENOTSUP', 'EOPNOTSUPP', 'EBADF']);

/**
 * Makes a rename or a new file in `dir` durable. A directory that cannot be opened or fsynced on
 * this platform is not an error; a failing fsync (EIO, ENOSPC) is: the rename may not survive a crash.
 */
export function fsyncDirSync(dir: string, fs: SegmentFs = nodeSegmentFs): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, constants.O_RDONLY);
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!NO_DIR_FSYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw fsError(error, dir, 'fsync the directory');
  } finally {
    fs.closeSync(fd);
  }
}

export async function fsyncDir(dir: string, fs: SegmentFs = nodeSegmentFs): Promise<void> {
  let fd: number;
  try {
    fd = await fs.open(dir, constants.O_RDONLY);
  } catch {
    return;
  }
  try {
    await fs.fsync(fd);
  } catch (error) {
    if (!NO_DIR_FSYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw fsError(error, dir, 'fsync the directory');
  } finally {
    await fs.close(fd);
  }
}

/**
 * Files we left beside `path` in an interrupted operation (a crash mid-compaction, mid-recovery or
 * while taking the lock), as UNEXPECTED_FILE anomalies: temp files (new and old names) and takeover
 * files of its lock. Those of a live process or of an operation running here are skipped, and so is
 * anything under such a name that is not a regular file (we make none; a FIFO would hang a copy).
 * `path` is the data file as resolved through symbolic links (where its lock and temp files live).
 */
export async function findLeftovers(path: string): Promise<Anomaly[]> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: Anomaly[] = [];
  for (const name of names.sort()) {
    const kind = ownFileKind(name, base);
    if (kind !== 'temp' && kind !== 'takeover') continue;
    const full = join(dir, name);
    if (activeTemps.has(full)) continue;
    try {
      if (!(await lstat(full)).isFile()) continue;
    } catch {
      continue;
    }
    let owner: string;
    if (kind === 'temp') {
      const { pid } = parseTempName(name)!;
      if (pid !== process.pid && isProcessAlive(pid)) continue;
      owner = `process ${pid}`;
    } else {
      let holder: LockHolder | null;
      try {
        holder = parseHolder(await readFile(full, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NONBLOCK }));
      } catch {
        continue;
      }
      if (judgeHolder(holder).state !== 'stale') continue;
      owner = holder ? `process ${holder.pid}` : 'an unknown process';
    }
    const what = kind === 'temp' ? 'temp file' : 'lock takeover file';
    out.push({ type: 'UNEXPECTED_FILE', path: full, line: null, offset: null, detail: `leftover ${what} of an interrupted operation (${owner})` });
  }
  return out;
}
