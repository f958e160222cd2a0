import { createHash, randomFillSync } from 'node:crypto';

let lastMs = 0;
let sequence = 0;
// Random bytes are drawn 4 KiB at a time: one syscall per ~400 ids instead of one per id.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function randomBits(bytes: Buffer, start: number, count: number): void {
  if (poolAt + count > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(bytes, start, poolAt, poolAt + count);
  poolAt += count;
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, then a 12-bit counter that keeps ids made in
 * the same millisecond in creation order, then random bits. Ids sort as strings in creation order.
 */
export function newRecordId(now: number = Date.now()): string {
  let ms = Math.floor(now);
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      // Counter exhausted within one millisecond: borrow the next millisecond to stay ordered.
      ms = lastMs + 1;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  const bytes = Buffer.allocUnsafe(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  randomBits(bytes, 8, 8);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The id of a record stored without one (Python Papyra files and streams): `sha256:` and the hex
 * digest of its stored line. The same line always gets the same id, so a resent write or a second
 * import cannot duplicate it.
 */
export function contentId(line: string): string {
  return `sha256:${createHash('sha256').update(line).digest('hex')}`;
}
