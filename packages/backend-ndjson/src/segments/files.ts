import { randomBytes } from 'node:crypto';
import { constants, fsyncSync, openSync, closeSync } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Anomaly } from '@papyra/persistence-contract';
import { fsError, notAFileError } from '../errors.js';

/** Mode of every file we create. */
export const FILE_MODE = 0o600;

const TEMP_MARKER = '.papyra-tmp-';
// `s`: a data file whose name holds a newline still has its leftovers recognised.
const TEMP_NAME = /^(.*)\.papyra-tmp-(\d+)-[0-9a-f]+$/s;

/** Temp files of this process that are in use right now: a scan must not call them leftovers. */
const activeTemps = new Set<string>();

/** A fresh, recognisable temp path beside `path`: `<path>.papyra-tmp-<pid>-<random>`. */
export function tempPathFor(path: string): string {
  return `${path}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** For a file name made by `tempPathFor`: the name it stands in for and the pid that made it. */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const match = TEMP_NAME.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : null;
}

export function markTempActive(path: string, active: boolean): void {
  if (active) activeTemps.add(path);
  else activeTemps.delete(path);
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

/**
 * Opens a segment for reading. Resolves null when it does not exist (an empty store); rejects with
 * PAPYRA_NOT_A_FILE for a directory or special file, PAPYRA_PERMISSION_DENIED / PAPYRA_IO otherwise.
 */
export async function openSegment(path: string): Promise<{ handle: FileHandle; size: number; mode: number } | null> {
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
    return { handle, size: stat.size, mode: stat.mode & 0o777 };
  } catch (error) {
    await handle.close().catch(() => {});
    throw fsError(error, path, 'stat');
  }
}

/** Makes a rename or a new file in `dir` durable. Some platforms cannot fsync a directory; that is not an error. */
export function fsyncDirSync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY);
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on filesystems without directory fsync
  } finally {
    closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(dir, constants.O_RDONLY);
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // as above
  } finally {
    await handle.close();
  }
}

/**
 * Temp files we left beside `path` in an interrupted operation (a crash mid-compaction or recovery),
 * as UNEXPECTED_FILE anomalies. Temps of a live process or of an operation running here are skipped.
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
    const temp = parseTempName(name);
    if (!temp || (temp.target !== base && temp.target !== `${base}.lock`)) continue;
    const full = join(dir, name);
    if (activeTemps.has(full) || (temp.pid !== process.pid && isProcessAlive(temp.pid))) continue;
    out.push({ type: 'UNEXPECTED_FILE', path: full, line: null, offset: null, detail: `leftover temp file of an interrupted operation (process ${temp.pid})` });
  }
  return out;
}
