import { renameSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  SegmentLock,
  SegmentWriter,
  forEachLine,
  forEachLineBackward,
  parseTempName,
  quarantineCopy,
  rewriteExcluding,
  scanSegment,
} from '../src/segments/index.js';
import { tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('line readers', () => {
  // Lines of every length around the chunk sizes, blank lines, multi-byte characters split across chunks.
  const lines = Array.from({ length: 120 }, (_, i) => (i % 17 === 0 ? '' : `${'é✓'.repeat(i % 5)}${'x'.repeat((i * 7) % 40)}`));

  for (const chunkBytes of [1, 3, 7, 64, 4096]) {
    it(`agree on offsets and bytes forwards and backwards (chunk ${chunkBytes})`, async () => {
      const path = join(await dirs.make(), 'f');
      const content = `${lines.join('\n')}\ntorn tail`;
      await writeFile(path, content);
      const forward: [number, string, boolean][] = [];
      await forEachLine(path, (raw) => void forward.push([raw.offset, raw.buf.toString('utf8', raw.start, raw.end), raw.terminated]), { chunkBytes });
      const backward: [number, string][] = [];
      await forEachLineBackward(path, (raw) => void backward.push([raw.offset, raw.buf.toString('utf8', raw.start, raw.end)]), { chunkBytes });
      const bytes = Buffer.from(content);
      expect(forward.map(([, text]) => text)).toEqual([...lines, 'torn tail']);
      expect(forward.at(-1)![2]).toBe(false);
      for (const [offset, text] of forward) expect(bytes.toString('utf8', offset, offset + Buffer.byteLength(text))).toBe(text);
      expect(backward.reverse()).toEqual(forward.slice(0, -1).map(([offset, text]) => [offset, text]));
    });
  }

  it('the backward reader stops when told and reads only what it needs', async () => {
    const path = join(await dirs.make(), 'f');
    await writeFile(path, `${Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n')}\n`);
    const seen: string[] = [];
    const result = await forEachLineBackward(path, (raw) => seen.push(raw.buf.toString('utf8', raw.start, raw.end)) < 3, { chunkBytes: 64 });
    expect(seen).toEqual(['line 9999', 'line 9998', 'line 9997']);
    expect(result.bytes).toBeLessThanOrEqual(128);
  });

  it('marks lines over maxLineBytes oversized without keeping their bytes', async () => {
    const path = join(await dirs.make(), 'f');
    const record = '{"kind":"event","timestamp":1}';
    await writeFile(path, `${record}\n${'y'.repeat(1000)}\n${record}\n`);
    const seen: [number, boolean, number][] = [];
    await forEachLine(path, (raw) => void seen.push([raw.length, raw.oversized, raw.end - raw.start]), { chunkBytes: 16, maxLineBytes: 100 });
    expect(seen).toEqual([
      [30, false, 30],
      [1000, true, 0],
      [30, false, 30],
    ]);
    const scan = await scanSegment(path, { chunkBytes: 16, maxLineBytes: 100 });
    expect(scan.dropRanges).toEqual([[31, 1032]]);
    expect(scan.records).toBe(2);
  });
});

describe('rewriteExcluding', () => {
  it('copies every byte outside the ranges, in order, across chunk boundaries', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'f');
    const content = Buffer.from(Array.from({ length: 2000 }, (_, i) => i % 251));
    await writeFile(path, content);
    const ranges = [
      [0, 3],
      [10, 700],
      [701, 702],
      [1500, 2000],
    ] as const;
    const result = await rewriteExcluding(path, ranges, { chunkBytes: 64 });
    const expected = Buffer.concat([content.subarray(3, 10), content.subarray(700, 701), content.subarray(702, 1500)]);
    expect(await readFile(path)).toEqual(expected);
    expect(result).toEqual({ beforeBytes: 2000, afterBytes: expected.length });
    expect(await readdir(dir)).toEqual(['f']);
  });
});

describe('quarantineCopy', () => {
  it('names copies inside the directory, never overwriting, whatever the source name', async () => {
    const dir = await dirs.make();
    const source = join(dir, '..weird name;rm -rf');
    await writeFile(source, 'original');
    const a = await quarantineCopy(source, join(dir, 'q', 'nested'));
    const b = await quarantineCopy(source, join(dir, 'q', 'nested'));
    expect(a).not.toBe(b);
    for (const copy of [a, b]) {
      expect(copy.startsWith(join(dir, 'q', 'nested') + '/')).toBe(true);
      expect(copy).toMatch(/\/weird_name_rm_-rf\.\d{8}T\d{9}Z-[0-9a-f]{8}\.quarantined$/);
      expect(await readFile(copy, 'utf8')).toBe('original');
    }
  });

  it('quarantines a file whose name is as long as the file system allows', async () => {
    const dir = await dirs.make();
    const source = join(dir, 'x'.repeat(250));
    await writeFile(source, 'long');
    const copy = await quarantineCopy(source, join(dir, 'q'));
    expect(await readFile(copy, 'utf8')).toBe('long');
  });
});

describe('parseTempName', () => {
  it('recognises our leftovers also beside a file whose name holds a newline', () => {
    expect(parseTempName('odd\nname.papyra-tmp-123-abcdef')).toEqual({ target: 'odd\nname', pid: 123 });
  });
});

describe('SegmentLock.holding', () => {
  it('releases the lock however the work ends, so another holder can take it', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const first = new SegmentLock(path);
    const second = new SegmentLock(path);
    await expect(
      first.holding('rewrite', async () => {
        expect(() => second.acquire('rewrite')).toThrow(expect.objectContaining({ code: 'PAPYRA_LOCKED' }));
        throw new Error('rewrite failed');
      }),
    ).rejects.toThrow('rewrite failed');
    expect(first.holder()).toBeNull();
    expect(await second.holding('rewrite', async () => second.holder()?.pid)).toBe(process.pid);
    expect(second.holder()).toBeNull();
  });
});

describe('SegmentWriter', () => {
  it('lets a rotation hook switch files between two lines of one batch', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'active');
    let rotated = 0;
    const writer = new SegmentWriter({
      path,
      fsync: 'always',
      rotation: {
        shouldRotate: (current, line) => current + line > 12,
        rotate: () => {
          rotated += 1;
          renameSync(path, `${path}.${rotated}`);
        },
      },
    });
    await Promise.all(['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee'].map((l) => writer.append(l, 'event')));
    await writer.close();
    expect(await readFile(`${path}.1`, 'utf8')).toBe('aaaa\nbbbb\n');
    expect(await readFile(`${path}.2`, 'utf8')).toBe('cccc\ndddd\n');
    expect(await readFile(path, 'utf8')).toBe('eeee\n');
  });

  it('rejects appends after close', async () => {
    const writer = new SegmentWriter({ path: join(await dirs.make(), 'f'), fsync: 'never' });
    await writer.close();
    await expect(writer.append('x', 'event')).rejects.toMatchObject({ code: 'PAPYRA_BACKEND_CLOSED' });
  });
});
