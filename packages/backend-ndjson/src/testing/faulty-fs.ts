import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { nodeSegmentFs, type SegmentFs, type SegmentStat } from '../segments/fs.js';

/*
 * A file system for crash and fault tests of the write path, over real files in a test directory.
 * It models the page cache: the real files are what a reader sees while the "machine" runs; what
 * would be on the disk is tracked aside. A write is volatile until an fsync/fdatasync of its file;
 * a new name (a created file, a rename, an unlink) is volatile until an fsync of its directory.
 * `crash()` then puts on the real files what the disk would hold: each file's synced bytes, and of
 * its unsynced appended bytes either none (dropped), a prefix cut at a sector boundary (torn), or
 * zeros in their place (the size reached the disk, the data did not); names not made durable are
 * undone. The Nth write, fsync or rename (or open) can also fail with an errno (EIO, ENOSPC, …);
 * a failed fsync loses the unsynced pages (as Linux may: they read back fine until the crash, and
 * come back zero-filled). Not modelled: metadata other than size and names (modes, owners, times),
 * reordering among the synced data itself, directory creation, and files the write path does not
 * open through it (locks, quarantine copies).
 */

export type FaultOp = 'open' | 'write' | 'fsync' | 'rename';
export type FaultCode = 'EIO' | 'ENOSPC' | 'EDQUOT' | 'EROFS';
/** What a crash did to one file: nothing unsynced (`synced`), or the fate of its unsynced appended bytes. */
export type CrashOutcome = 'synced' | 'dropped' | 'torn' | 'zeroed';

export interface Fault {
  op: FaultOp;
  /** 1-based: the Nth call of this kind fails. */
  nth: number;
  code: FaultCode;
}

export interface FaultyFsOptions {
  seed: number;
  /** The machine crashes instead of making this call (1-based, counting every call). */
  crashAtCall?: number;
  faults?: readonly Fault[];
  sectorBytes?: number;
}

/** A file's data as the disk holds it, and where the file is now. */
interface Inode {
  durable: Buffer;
  /** Its current name, or null once unlinked or replaced. */
  path: string | null;
  /** Byte ranges whose pages a failed fsync dropped: zeros on the disk. */
  lost: [number, number][];
}

export class FaultyFs implements SegmentFs {
  /** Every call made so far. */
  calls = 0;
  crashed = false;
  readonly outcomes: CrashOutcome[] = [];
  readonly #options: FaultyFsOptions;
  readonly #random: () => number;
  readonly #sector: number;
  /** Names as the running machine sees them (tracked ones only). */
  readonly #live = new Map<string, Inode>();
  /** Names as the disk holds them; null: durably absent. */
  readonly #durable = new Map<string, Inode | null>();
  readonly #files = new Map<number, Inode>();
  readonly #dirs = new Map<number, string>();
  readonly #counts: Record<FaultOp, number> = { open: 0, write: 0, fsync: 0, rename: 0 };
  /** A write that came back short because of a fault: the next write on this fd fails. */
  readonly #failNext = new Map<number, FaultCode>();

  constructor(options: FaultyFsOptions) {
    this.#options = options;
    this.#random = mulberry32(options.seed);
    this.#sector = options.sectorBytes ?? 512;
  }

  existsSync(path: string): boolean {
    this.#tick();
    return fs.existsSync(path);
  }

  mkdirSync(path: string, options: { recursive: true; mode: number }): void {
    this.#tick();
    nodeSegmentFs.mkdirSync(path, options);
  }

  openSync(path: string, flags: string | number, mode?: number): number {
    this.#tick();
    this.#fault('open', path);
    return this.#opened(resolve(path), () => fs.openSync(path, flags, mode));
  }

  async open(path: string, flags: string | number, mode?: number): Promise<number> {
    return this.openSync(path, flags, mode);
  }

  closeSync(fd: number): void {
    const known = this.#files.delete(fd) || this.#dirs.delete(fd);
    this.#failNext.delete(fd);
    // Closing is allowed after a crash: it only releases what the dead process held.
    if (known || !this.crashed) fs.closeSync(fd);
  }

  async close(fd: number): Promise<void> {
    this.closeSync(fd);
  }

  fstatSync(fd: number): SegmentStat {
    this.#tick();
    return fs.fstatSync(fd);
  }

  async fstat(fd: number): Promise<SegmentStat> {
    return this.fstatSync(fd);
  }

  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.#tick();
    return fs.readSync(fd, buffer, offset, length, position);
  }

  writeSync(fd: number, data: string | Uint8Array, offset?: number, length?: number): number {
    this.#tick();
    const bytes =
      typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset + (offset ?? 0), length ?? data.byteLength - (offset ?? 0));
    const pending = this.#failNext.get(fd);
    if (pending) {
      this.#failNext.delete(fd);
      throw errnoError(pending, 'write', this.#files.get(fd)?.path ?? `fd ${fd}`);
    }
    const fault = this.#fault('write', this.#files.get(fd)?.path ?? `fd ${fd}`, false);
    // Writes here append: the pages they touch are dirty again, lost ones included.
    const inode = this.#files.get(fd);
    if (inode) {
      const at = fs.fstatSync(fd).size;
      clip(inode, Math.floor(at / PAGE) * PAGE, Math.ceil((at + bytes.length) / PAGE) * PAGE);
    }
    if (fault) {
      // As the kernel does: what fits is written (a short count), the next write gets the error.
      const part = Math.floor(this.#random() * bytes.length);
      if (part === 0) throw errnoError(fault, 'write', this.#files.get(fd)?.path ?? `fd ${fd}`);
      this.#failNext.set(fd, fault);
      return fs.writeSync(fd, bytes, 0, part);
    }
    return fs.writeSync(fd, bytes, 0, bytes.length);
  }

  async write(fd: number, buffer: Uint8Array, offset: number, length: number): Promise<number> {
    return this.writeSync(fd, buffer, offset, length);
  }

  ftruncateSync(fd: number, length: number): void {
    this.#tick();
    fs.ftruncateSync(fd, length);
    // Pages past the new end are gone, lost or not.
    const inode = this.#files.get(fd);
    if (inode) clip(inode, length, Infinity);
  }

  fsyncSync(fd: number): void {
    this.#tick();
    const dir = this.#dirs.get(fd);
    if (dir !== undefined) {
      this.#fault('fsync', dir);
      fs.fsyncSync(fd);
      // Every name in this directory is now as the machine sees it.
      for (const name of new Set([...this.#live.keys(), ...this.#durable.keys()])) {
        if (dirname(name) === dir) this.#durable.set(name, this.#live.get(name) ?? null);
      }
      return;
    }
    const inode = this.#files.get(fd);
    if (!inode?.path) return void fs.fsyncSync(fd);
    const current = fs.readFileSync(inode.path);
    try {
      this.#fault('fsync', inode.path);
    } catch (error) {
      // The kernel may drop the pages it could not write and report the error once.
      if (current.length > inode.durable.length) inode.lost.push([inode.durable.length, current.length]);
      throw error;
    }
    fs.fsyncSync(fd);
    for (const [from, to] of inode.lost) current.fill(0, Math.min(from, current.length), Math.min(to, current.length));
    inode.durable = current;
  }

  async fsync(fd: number): Promise<void> {
    this.fsyncSync(fd);
  }

  async fdatasync(fd: number): Promise<void> {
    this.fsyncSync(fd);
  }

  async fchown(fd: number, uid: number, gid: number): Promise<void> {
    this.#tick();
    fs.fchownSync(fd, uid, gid);
  }

  async fchmod(fd: number, mode: number): Promise<void> {
    this.#tick();
    fs.fchmodSync(fd, mode);
  }

  async rename(from: string, to: string): Promise<void> {
    this.#tick();
    const [a, b] = [resolve(from), resolve(to)];
    this.#fault('rename', b);
    this.#track(a);
    this.#track(b);
    fs.renameSync(a, b);
    const moved = this.#live.get(a);
    const replaced = this.#live.get(b);
    if (replaced) replaced.path = null;
    this.#live.delete(a);
    if (moved) {
      moved.path = b;
      this.#live.set(b, moved);
    } else this.#live.delete(b);
  }

  async unlink(path: string): Promise<void> {
    this.#tick();
    const name = resolve(path);
    this.#track(name);
    fs.unlinkSync(name);
    const inode = this.#live.get(name);
    if (inode) inode.path = null;
    this.#live.delete(name);
  }

  /**
   * The machine crashes: the real files become what the disk holds. Afterwards every call fails
   * (EIO), as for a process that no longer exists.
   */
  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    const finals = new Map<string, Buffer | null>();
    for (const name of new Set([...this.#live.keys(), ...this.#durable.keys()])) {
      const inode = this.#durable.has(name) ? this.#durable.get(name)! : this.#live.get(name)!;
      finals.set(name, inode ? this.#afterCrash(inode) : null);
    }
    // Open descriptors stay with their owners, who close them; every other call now fails.
    for (const [name, content] of finals) {
      fs.rmSync(name, { force: true });
      if (content) fs.writeFileSync(name, content);
    }
  }

  /** What the disk holds of a file: its synced data, and one of the fates of its unsynced appended bytes. */
  #afterCrash(inode: Inode): Buffer {
    const { durable } = inode;
    let current: Buffer | null = null;
    try {
      if (inode.path) current = fs.readFileSync(inode.path);
    } catch {
      current = null;
    }
    const appended =
      current && current.length > durable.length && current.subarray(0, durable.length).equals(durable) ? current.subarray(durable.length) : null;
    const pick = this.#random();
    const outcome: CrashOutcome = !appended ? 'synced' : pick < 1 / 3 ? 'dropped' : pick < 2 / 3 ? 'torn' : 'zeroed';
    this.outcomes.push(outcome);
    if (!appended || outcome === 'dropped') return durable;
    // The disk writes whole sectors: the kept part ends at a sector boundary of the file.
    const boundaries: number[] = [];
    for (let end = Math.ceil((durable.length + 1) / this.#sector) * this.#sector; end < current!.length; end += this.#sector)
      boundaries.push(end - durable.length);
    boundaries.push(appended.length);
    const keep = boundaries[Math.floor(this.#random() * boundaries.length)]!;
    return Buffer.concat([durable, outcome === 'torn' ? appended.subarray(0, keep) : Buffer.alloc(keep)]);
  }

  #opened(path: string, open: () => number): number {
    let isDir = false;
    try {
      isDir = fs.statSync(path).isDirectory();
    } catch {
      // about to be created
    }
    if (!isDir) this.#track(path);
    const fd = open();
    if (isDir) {
      this.#dirs.set(fd, path);
      return fd;
    }
    let inode = this.#live.get(path);
    if (!inode) {
      inode = { durable: Buffer.alloc(0), path, lost: [] };
      this.#live.set(path, inode);
    }
    this.#files.set(fd, inode);
    return fd;
  }

  /** Starts following a name: what is there now was there before the test began, so it is on the disk. */
  #track(name: string): void {
    if (this.#live.has(name) || this.#durable.has(name)) return;
    let content: Buffer | null = null;
    try {
      if (fs.statSync(name).isFile()) content = fs.readFileSync(name);
    } catch {
      content = null;
    }
    if (content === null) {
      this.#durable.set(name, null);
      return;
    }
    const inode: Inode = { durable: content, path: name, lost: [] };
    this.#live.set(name, inode);
    this.#durable.set(name, inode);
  }

  #tick(): void {
    if (this.crashed) throw errnoError('EIO', 'call', 'a crashed machine');
    this.calls += 1;
    if (this.calls === this.#options.crashAtCall) {
      this.crash();
      throw errnoError('EIO', 'call', 'a crashed machine');
    }
  }

  /** Counts a call of this kind; throws (or with `raise` false, returns) the errno of a fault planned for it. */
  #fault(op: FaultOp, path: string, raise = true): FaultCode | null {
    this.#counts[op] += 1;
    const fault = this.#options.faults?.find((f) => f.op === op && f.nth === this.#counts[op]);
    if (!fault) return null;
    if (raise) throw errnoError(fault.code, op, path);
    return fault.code;
  }
}

/** The kernel's page: a failed fsync loses whole pages, a write dirties whole pages again. */
const PAGE = 4096;

/** Forgets the lost bytes of `inode` within [from, to). */
function clip(inode: Inode, from: number, to: number): void {
  inode.lost = inode.lost.flatMap(([a, b]): [number, number][] => [
    ...(a < from ? [[a, Math.min(b, from)] as [number, number]] : []),
    ...(b > to ? [[Math.max(a, to), b] as [number, number]] : []),
  ]);
}

function errnoError(code: FaultCode, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${syscall} ${path}`), { code, syscall, path });
}

/** A small seeded generator, so that a failing crash point can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
