import { unlink } from 'node:fs/promises';
import { retainedMask, type Anomaly, type RetentionPolicy } from '@papyra/persistence-contract';
import { fsError, invalidConfig } from '../errors.js';
import type { SegmentFs } from './fs.js';
import type { LineReadOptions } from './lines.js';
import { quarantineCopy, rewriteExcluding } from './rewrite.js';
import { collectRetentionItems, scanSegment, type ByteRange, type SegmentScan } from './scanner.js';

export interface RepairOptions extends LineReadOptions {
  mode: 'repair' | 'quarantine';
  /** The file system the rewrite writes through; default `node:fs`. */
  fs?: SegmentFs;
  /** Required for `quarantine`. */
  quarantineDir?: string;
}

export interface SegmentRepair {
  /** The scan that decided what to remove. */
  scan: SegmentScan;
  repaired: boolean;
  /** Where the original file was copied (quarantine mode, when something was removed). */
  quarantined: string | null;
  keptRecords: number;
  droppedLines: number;
}

/**
 * Scans a file and, when it has line anomalies, rewrites it atomically keeping every valid line's
 * original bytes in order; in quarantine mode the whole original file is copied aside first.
 * Idempotent: a clean file is not touched. The caller holds the lock.
 */
export async function repairSegment(path: string, options: RepairOptions): Promise<SegmentRepair> {
  const { onProgress, ...rest } = options;
  // Two passes over the file: report progress over both.
  const scan = await scanSegment(path, { ...rest, ...(onProgress && { onProgress: (p, total) => onProgress(p, total * 2) }) });
  const result: SegmentRepair = { scan, repaired: false, quarantined: null, keptRecords: scan.records, droppedLines: scan.dropRanges.length };
  if (scan.dropRanges.length === 0) return result;
  if (options.mode === 'quarantine') result.quarantined = await quarantineCopy(path, quarantineDirOf(options));
  await rewriteExcluding(path, scan.dropRanges, { ...rest, ...(onProgress && { onProgress: (p, total) => onProgress(total + p, total * 2) }) });
  result.repaired = true;
  return result;
}

/** Removes our leftover temp files (UNEXPECTED_FILE anomalies); quarantine mode keeps a copy first. Returns the copies. */
export async function clearLeftovers(leftovers: readonly Anomaly[], options: Pick<RepairOptions, 'mode' | 'quarantineDir'>): Promise<string[]> {
  const copies: string[] = [];
  for (const leftover of leftovers) {
    if (leftover.type !== 'UNEXPECTED_FILE') continue;
    if (options.mode === 'quarantine') copies.push(await quarantineCopy(leftover.path, quarantineDirOf(options)));
    await unlink(leftover.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw fsError(error, leftover.path, 'remove');
    });
  }
  return copies;
}

function quarantineDirOf(options: Pick<RepairOptions, 'quarantineDir'>): string {
  if (!options.quarantineDir) throw invalidConfig('Quarantine mode needs a quarantineDir.');
  return options.quarantineDir;
}

export interface SegmentCompaction {
  beforeRecords: number;
  afterRecords: number;
  beforeBytes: number;
  afterBytes: number;
}

/**
 * Physically applies a retention policy to one file (the contract's `retainedMask`, per kind),
 * atomically; lines that are not records are left for scan and recovery to deal with. The file is
 * not touched when nothing is removed. The caller holds the lock.
 */
export async function compactSegment(
  path: string,
  policy: RetentionPolicy,
  now: number,
  options: LineReadOptions & { fs?: SegmentFs } = {},
): Promise<SegmentCompaction> {
  const { onProgress, ...rest } = options;
  const inventory = await collectRetentionItems(path, { ...rest, ...(onProgress && { onProgress: (p, total) => onProgress(p, total * 2) }) });
  const mask = retainedMask(inventory.items, policy, now);
  const drop: ByteRange[] = inventory.ranges.filter((_, i) => !mask[i]);
  const before = inventory.items.length;
  if (drop.length === 0) return { beforeRecords: before, afterRecords: before, beforeBytes: inventory.bytes, afterBytes: inventory.bytes };
  const rewrite = await rewriteExcluding(path, drop, { ...rest, ...(onProgress && { onProgress: (p, total) => onProgress(total + p, total * 2) }) });
  return { beforeRecords: before, afterRecords: before - drop.length, beforeBytes: rewrite?.beforeBytes ?? 0, afterBytes: rewrite?.afterBytes ?? 0 };
}
