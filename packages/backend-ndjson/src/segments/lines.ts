import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { throwIfAborted } from '@papyra/persistence-contract/kit';
import { fsError } from '../errors.js';
import { openSegment } from './files.js';

/** Longest line held in memory by default; longer lines are reported, never buffered. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
const FORWARD_CHUNK = 1024 * 1024;
const BACKWARD_CHUNK = 64 * 1024;

/**
 * One line as the readers see it. The object and its buffer are reused: copy what you keep
 * beyond the call (and beyond a promise the visitor returns).
 */
export interface RawLine {
  /** The line's bytes (without `\n`) are `buf[start, end)`; empty when `oversized`. */
  buf: Buffer;
  start: number;
  end: number;
  /** 1-based line number (0 from the backward reader, which cannot know it). */
  line: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /** Length in bytes, without the `\n`, also when the bytes were not kept. */
  length: number;
  /** False only for a last line without `\n` (a torn write). */
  terminated: boolean;
  /** Longer than `maxLineBytes`: reported, not held in memory. */
  oversized: boolean;
  /** True when the bytes are already known to be valid UTF-8 (false means: not checked). */
  utf8: boolean;
}

export interface LineReadOptions {
  signal?: AbortSignal;
  /** Called after each chunk with the bytes read so far and the file size at open. */
  onProgress?: (processed: number, total: number) => void;
  maxLineBytes?: number;
  chunkBytes?: number;
}

/**
 * A file the caller has opened (and closes), read instead of a path: a reader of several files
 * opens them all first, so it reads one snapshot of them whatever is renamed meanwhile.
 * `size` is the size at open; the backward reader starts there.
 */
export interface OpenSegment {
  path: string;
  handle: FileHandle;
  size: number;
}

/** What the readers read: a path (opened and closed by the reader; missing = empty) or an open file. */
export type SegmentSource = string | OpenSegment;

async function openSource(source: SegmentSource): Promise<(OpenSegment & { owned: boolean }) | null> {
  if (typeof source !== 'string') return { ...source, owned: false };
  const opened = await openSegment(source);
  return opened && { path: source, handle: opened.handle, size: opened.size, owned: true };
}

export interface LineReadResult {
  /** False when there was no file (an empty store). */
  exists: boolean;
  /** Bytes read (the file size, unless it grew while reading). */
  bytes: number;
  lines: number;
}

/**
 * Streams a file line by line with bounded memory: one chunk plus at most `maxLineBytes` of a
 * line that spans chunks. The visitor may return a promise; the next line waits for it.
 */
export async function forEachLine(
  source: SegmentSource,
  visit: (line: RawLine) => void | Promise<void>,
  options: LineReadOptions = {},
): Promise<LineReadResult> {
  const opened = await openSource(source);
  if (!opened) return { exists: false, bytes: 0, lines: 0 };
  const { handle, size, path } = opened;
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunkBytes = options.chunkBytes ?? FORWARD_CHUNK;
  const raw: RawLine = { buf: Buffer.alloc(0), start: 0, end: 0, line: 0, offset: 0, length: 0, terminated: true, oversized: false, utf8: false };
  let lineNo = 0;
  let pos = 0;
  // A line that started in an earlier chunk: its kept pieces, its start and its length so far.
  let carry: Buffer[] = [];
  let carryOffset = 0;
  let carryLength = 0;

  // Synchronous unless the visitor returns a promise: no microtask per line on the fast path.
  const emit = (buf: Buffer, start: number, end: number, offset: number, length: number, terminated: boolean, utf8: boolean): void | Promise<void> => {
    raw.buf = buf;
    raw.start = start;
    raw.end = end;
    raw.line = ++lineNo;
    raw.offset = offset;
    raw.length = length;
    raw.terminated = terminated;
    raw.oversized = length > max;
    raw.utf8 = utf8;
    if (raw.oversized) raw.end = raw.start;
    return visit(raw);
  };

  // One buffer for the whole read keeps memory flat; the part of a line that spans chunks is copied.
  const buf = Buffer.allocUnsafe(chunkBytes);
  try {
    for (;;) {
      throwIfAborted('read', options);
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, chunkBytes, pos));
      } catch (error) {
        throw fsError(error, path, 'read');
      }
      if (bytesRead === 0) break;
      const lastNl = buf.lastIndexOf(10, bytesRead - 1);
      let i = 0;
      if (lastNl >= 0) {
        // Lines that end in this chunk are checked for UTF-8 in one call; \n never occurs inside a
        // multi-byte sequence, so a valid region means every line in it is valid.
        const firstNl = carryLength > 0 ? buf.indexOf(10) : -1;
        const regionStart = firstNl + 1;
        const regionValid = regionStart <= lastNl && isUtf8(buf.subarray(regionStart, lastNl));
        while (i <= lastNl) {
          const nl = buf.indexOf(10, i);
          if (carryLength > 0 || carry.length > 0) {
            const length = carryLength + (nl - i);
            const joined = length > max ? buf : Buffer.concat([...carry, buf.subarray(i, nl)]);
            const pending = emit(joined, 0, length > max ? 0 : joined.length, carryOffset, length, true, false);
            if (pending) await pending;
            carry = [];
            carryLength = 0;
          } else {
            const pending = emit(buf, i, nl, pos + i, nl - i, true, regionValid);
            if (pending) await pending;
          }
          i = nl + 1;
        }
      }
      if (i < bytesRead) {
        if (carryLength === 0) carryOffset = pos + i;
        carryLength += bytesRead - i;
        if (carryLength <= max) carry.push(Buffer.from(buf.subarray(i, bytesRead)));
        else carry = [];
      }
      pos += bytesRead;
      options.onProgress?.(pos, size);
    }
    if (carryLength > 0) {
      const joined = carryLength > max ? Buffer.alloc(0) : Buffer.concat(carry);
      const pending = emit(joined, 0, joined.length, carryOffset, carryLength, false, false);
      if (pending) await pending;
    }
    return { exists: true, bytes: pos, lines: lineNo };
  } finally {
    if (opened.owned) await handle.close();
  }
}

/**
 * Visits the complete lines of a file newest first, reading backwards in chunks, so reading the
 * last N lines costs O(N) whatever the file size. A torn last line (no `\n`) is skipped. Return
 * `false` from the visitor to stop. `line` is 0 (unknown) on every visited line.
 */
export async function forEachLineBackward(
  source: SegmentSource,
  visit: (line: RawLine) => boolean | void,
  options: LineReadOptions = {},
): Promise<LineReadResult> {
  const opened = await openSource(source);
  if (!opened) return { exists: false, bytes: 0, lines: 0 };
  const { handle, size, path } = opened;
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunkBytes = options.chunkBytes ?? BACKWARD_CHUNK;
  const raw: RawLine = { buf: Buffer.alloc(0), start: 0, end: 0, line: 0, offset: 0, length: 0, terminated: true, oversized: false, utf8: false };
  // Pieces of the current line read so far (later pieces first read), and its length.
  let pieces: Buffer[] = [];
  let length = 0;
  // Until the last \n is found, bytes belong to the torn fragment after it.
  let inFragment = true;
  let lines = 0;
  let pos = size;

  const emit = (head: Buffer, start: number, end: number, offset: number): boolean => {
    const total = length + (end - start);
    raw.oversized = total > max;
    if (raw.oversized) {
      raw.buf = head;
      raw.start = raw.end = start;
    } else if (pieces.length > 0) {
      raw.buf = Buffer.concat([head.subarray(start, end), ...pieces.reverse()]);
      raw.start = 0;
      raw.end = raw.buf.length;
    } else {
      raw.buf = head;
      raw.start = start;
      raw.end = end;
    }
    raw.offset = offset;
    raw.length = total;
    pieces = [];
    length = 0;
    lines += 1;
    return visit(raw) !== false;
  };

  try {
    while (pos > 0) {
      throwIfAborted('read', options);
      const readLength = Math.min(chunkBytes, pos);
      pos -= readLength;
      const buf = Buffer.allocUnsafe(readLength);
      try {
        await handle.read(buf, 0, readLength, pos);
      } catch (error) {
        throw fsError(error, path, 'read');
      }
      let j = readLength;
      for (;;) {
        const nl = j > 0 ? buf.lastIndexOf(10, j - 1) : -1;
        if (nl < 0) {
          if (!inFragment && j > 0) {
            length += j;
            if (length <= max) pieces.push(buf.subarray(0, j));
            else pieces = [];
          }
          break;
        }
        if (inFragment) {
          inFragment = false;
          pieces = [];
          length = 0;
        } else if (!emit(buf, nl + 1, j, pos + nl + 1)) {
          return { exists: true, bytes: size - pos, lines };
        }
        j = nl;
      }
      options.onProgress?.(size - pos, size);
    }
    if (!inFragment) emit(Buffer.alloc(0), 0, 0, 0);
    return { exists: true, bytes: size, lines };
  } finally {
    if (opened.owned) await handle.close();
  }
}
