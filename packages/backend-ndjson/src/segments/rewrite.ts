import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { PapyraError } from '@papyra/persistence-contract';
import { throwIfAborted } from '@papyra/persistence-contract/kit';
import { fsError } from '../errors.js';
import { fsyncDir, markTempActive, openSegment } from './files.js';
import { nodeSegmentFs, type SegmentFs } from './fs.js';
import { FILE_MODE, resolveDataPath, tempPathFor } from './naming.js';
import type { ByteRange } from './scanner.js';

const CHUNK = 1024 * 1024;

export interface RewriteOptions {
  signal?: AbortSignal;
  onProgress?: (processed: number, total: number) => void;
  chunkBytes?: number;
  /**
   * Leave the original in place and return the new content as a fsynced temp file beside it
   * (`staged`), for callers that commit several files at once (the rotating backend's compaction).
   */
  stage?: boolean;
  /** The file system to write through; default `node:fs` (tests inject faults here). */
  fs?: SegmentFs;
}

export interface RewriteResult {
  beforeBytes: number;
  afterBytes: number;
  /** With `stage`: the temp file holding the new content; the caller renames or removes it. */
  staged?: string;
}

/**
 * Atomically rewrites a file without the given byte ranges (sorted, non-overlapping): every other
 * byte is copied as it is, in order, into a temp file beside it, which is fsynced and renamed over
 * the original, and the directory is fsynced. A crash at any instant leaves the old or the new
 * file (and perhaps a temp leftover). The new file keeps the old one's owner, group and mode, and
 * a path that is a symbolic link keeps being one: its target is what gets replaced. Resolves null
 * when the file does not exist. With `stage`, the temp file (beside `path` itself) is returned
 * instead of renamed.
 */
export async function rewriteExcluding(path: string, drop: readonly ByteRange[], options: RewriteOptions = {}): Promise<RewriteResult | null> {
  const source = await openSegment(path);
  if (!source) return null;
  const fs = options.fs ?? nodeSegmentFs;
  const chunkBytes = options.chunkBytes ?? CHUNK;
  const replaced = options.stage ? path : resolveDataPath(path);
  const temp = tempPathFor(replaced);
  let target: number | null = null;
  markTempActive(temp, true);
  try {
    try {
      target = await fs.open(temp, 'wx', FILE_MODE);
    } catch (error) {
      throw fsError(error, temp, 'create');
    }
    await keepOwnership(fs, target, source, temp, replaced);
    const input = Buffer.allocUnsafe(chunkBytes);
    const output = Buffer.allocUnsafe(chunkBytes);
    let pos = 0;
    let written = 0;
    let r = 0;
    for (;;) {
      throwIfAborted('rewrite', options);
      const { bytesRead } = await source.handle.read(input, 0, chunkBytes, pos).catch((error: unknown) => {
        throw fsError(error, path, 'read');
      });
      if (bytesRead === 0) break;
      const end = pos + bytesRead;
      let cursor = pos;
      let outLength = 0;
      while (cursor < end) {
        while (r < drop.length && drop[r]![1] <= cursor) r += 1;
        const next = drop[r];
        if (next && next[0] <= cursor) {
          cursor = Math.min(next[1], end);
          continue;
        }
        const stop = next ? Math.min(next[0], end) : end;
        outLength += input.copy(output, outLength, cursor - pos, stop - pos);
        cursor = stop;
      }
      if (outLength > 0) await writeAll(fs, target, output, outLength, temp);
      written += outLength;
      pos = end;
      options.onProgress?.(pos, source.size);
    }
    try {
      await fs.fsync(target);
      const closing = target;
      target = null;
      await fs.close(closing);
      if (options.stage) return { beforeBytes: pos, afterBytes: written, staged: temp };
      await fs.rename(temp, replaced);
    } catch (error) {
      throw fsError(error, replaced, 'replace');
    }
    await fsyncDir(dirname(replaced), fs);
    return { beforeBytes: pos, afterBytes: written };
  } catch (error) {
    if (target !== null) await fs.close(target).catch(() => {});
    await fs.unlink(temp).catch(() => {});
    throw error;
  } finally {
    markTempActive(temp, false);
    await source.handle.close().catch(() => {});
  }
}

/**
 * Gives the new file the owner, group and mode of the one it replaces (a rewrite run as root must not
 * hand the service's file to root; open's mode is subject to umask). Owner first: chown may clear
 * set-id bits. When the owner cannot be kept (not root), the rewrite is refused rather than
 * changing who owns the store.
 */
async function keepOwnership(fs: SegmentFs, fd: number, source: { uid: number; gid: number; mode: number }, temp: string, path: string): Promise<void> {
  try {
    const now = await fs.fstat(fd);
    if (now.uid !== source.uid || now.gid !== source.gid) await fs.fchown(fd, source.uid, source.gid);
    await fs.fchmod(fd, source.mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'EACCES') {
      throw new PapyraError(
        'PAPYRA_PERMISSION_DENIED',
        `Cannot rewrite ${path}: the new file could not be given its owner ${source.uid}:${source.gid} and mode ${source.mode.toString(8)} (${code}). Run the rewrite as the file's owner or as root.`,
        { cause: error, details: { path, temp, uid: source.uid, gid: source.gid, mode: source.mode } },
      );
    }
    throw fsError(error, temp, 'set the owner and mode of');
  }
}

async function writeAll(fs: SegmentFs, fd: number, buf: Buffer, length: number, path: string): Promise<void> {
  let done = 0;
  while (done < length) {
    try {
      done += await fs.write(fd, buf, done, length - done);
    } catch (error) {
      throw fsError(error, path, 'write');
    }
  }
}

/**
 * Copies a file into `quarantineDir` (created 0700 if needed) under a fresh name derived from its
 * base name: `<name>.<utc stamp>-<random>.quarantined`. The name cannot escape the directory and
 * never overwrites anything. Returns the copy's path.
 */
export async function quarantineCopy(source: string, quarantineDir: string): Promise<string> {
  const dir = resolve(quarantineDir);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fsError(error, dir, 'create the quarantine directory');
  }
  // Capped so that the stamp and suffix still fit in a 255-byte file name.
  const safe =
    basename(source)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 180) || 'segment';
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  for (let attempt = 0; attempt < 8; attempt++) {
    const dest = join(dir, `${safe}.${stamp}-${randomBytes(4).toString('hex')}.quarantined`);
    if (dirname(dest) !== dir) throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `Refusing a quarantine name outside ${dir}.`, { details: { dest } });
    try {
      await copyFile(source, dest, constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw fsError(error, dest, 'copy into quarantine');
    }
    await chmod(dest, FILE_MODE);
    const handle = await open(dest, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncDir(dir);
    return dest;
  }
  throw new PapyraError('PAPYRA_IO', `Could not find a free quarantine name in ${dir}.`, { details: { dir } });
}
