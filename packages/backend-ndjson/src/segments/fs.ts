import * as fs from 'node:fs';
import { promisify } from 'node:util';

/** What the file primitives need to know about an open file. */
export interface SegmentStat {
  size: number;
  mode: number;
  uid: number;
  gid: number;
  isFile(): boolean;
}

/**
 * The file-system calls the write path makes (the writer's appends, atomic rewrites and their
 * directory fsyncs), so that a test can put a fault-injecting file system under them
 * (`testing/faulty-fs`). The writer's calls are synchronous (a batch goes out within one turn of
 * the event loop), except its fdatasync; a rewrite's are asynchronous. Reads go to `node:fs`.
 */
export interface SegmentFs {
  existsSync(path: string): boolean;
  mkdirSync(path: string, options: { recursive: true; mode: number }): void;
  openSync(path: string, flags: string | number, mode?: number): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): SegmentStat;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** A string is written whole (or short); a buffer from `offset` for `length` bytes. Appends at the end (O_APPEND). */
  writeSync(fd: number, data: string | Uint8Array, offset?: number, length?: number): number;
  ftruncateSync(fd: number, length: number): void;
  fsyncSync(fd: number): void;
  fdatasync(fd: number): Promise<void>;

  open(path: string, flags: string | number, mode?: number): Promise<number>;
  close(fd: number): Promise<void>;
  fstat(fd: number): Promise<SegmentStat>;
  write(fd: number, buffer: Uint8Array, offset: number, length: number): Promise<number>;
  fsync(fd: number): Promise<void>;
  fchown(fd: number, uid: number, gid: number): Promise<void>;
  fchmod(fd: number, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

const writeAsync = promisify(fs.write);

/** The real file system. */
export const nodeSegmentFs: SegmentFs = {
  existsSync: (path) => fs.existsSync(path),
  mkdirSync: (path, options) => void fs.mkdirSync(path, options),
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  closeSync: (fd) => fs.closeSync(fd),
  fstatSync: (fd) => fs.fstatSync(fd),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  writeSync: (fd, data, offset, length) =>
    typeof data === 'string' ? fs.writeSync(fd, data) : fs.writeSync(fd, data, offset ?? 0, length ?? data.byteLength - (offset ?? 0)),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fdatasync: promisify(fs.fdatasync),
  open: promisify(fs.open) as SegmentFs['open'],
  close: promisify(fs.close),
  fstat: promisify(fs.fstat) as SegmentFs['fstat'],
  write: async (fd, buffer, offset, length) => (await writeAsync(fd, buffer, offset, length)).bytesWritten,
  fsync: promisify(fs.fsync),
  fchown: promisify(fs.fchown),
  fchmod: promisify(fs.fchmod),
  rename: promisify(fs.rename),
  unlink: promisify(fs.unlink),
};
