import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { RotatingBackend } from '../src/index.js';
import { event, tempDirs } from './helpers.js';

// Issue 16, item 3: the cost of a rotation on the append path does not depend on the size of the
// file it deletes. Reading that file whole there blocked every append for seconds on a big file
// and failed them all beyond 2 GiB; now the file is unlinked and its records counted afterwards,
// from its open descriptor, in chunks.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('rotation that deletes the oldest file', () => {
  it('does not read it on the append path, and counts its records afterwards (flush waits for the count)', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await writeFile(`${path}.1`, `${[1, 2, 3].map((n) => JSON.stringify({ kind: 'event', timestamp: n })).join('\n')}\n`);
    const backend = new RotatingBackend({ path, maxBytes: 300, maxFiles: 2 });
    await backend.recordEvent(event(1));
    // This append rotates: store.ndjson.1 is deleted and the first record's file takes its place.
    await backend.recordEvent(event(2));
    // Nothing of the deleted file was read before the append resolved (the count is still to run) …
    expect(backend.metrics.snapshot().recordsDropped).toBe(0);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.')).sort()).toEqual(['store.ndjson', 'store.ndjson.1']);
    expect(await backend.listEvents()).toEqual([event(1), event(2)].map((e) => ({ ...e, id: expect.any(String) })));
    // … its three lines are counted once the background count ends.
    await backend.flush();
    expect(backend.metrics.snapshot().recordsDropped).toBe(3);
    await backend.close();
  });
});
