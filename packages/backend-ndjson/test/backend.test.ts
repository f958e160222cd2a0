import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { applyListQuery, applyRetention, type ListQuery, type PersistedRecord, type RetentionPolicy } from '@papyra/persistence-contract';
import { NdjsonBackend } from '../src/index.js';
import { audit, codeOf, deadLetter, event, tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

async function store(options: Partial<ConstructorParameters<typeof NdjsonBackend>[0]> = {}) {
  const path = join(await dirs.make(), 'data', 'store.ndjson');
  return new NdjsonBackend({ path, fsync: 'never', ...options });
}

describe('writing', () => {
  it('creates the file 0600 (and its directory) on the first write, never before', async () => {
    const backend = await store();
    expect(await backend.listEvents()).toEqual([]);
    await expect(stat(backend.path)).rejects.toMatchObject({ code: 'ENOENT' });
    await backend.recordEvent(event(1));
    expect((await stat(backend.path)).mode & 0o777).toBe(0o600);
    await backend.close();
  });

  it('group-commits concurrent writes into one batch, in call order, one line each', async () => {
    const backend = await store({ fsync: 'always' });
    const records: PersistedRecord[] = [];
    for (let i = 0; i < 300; i++) records.push(i % 3 === 0 ? event(i) : i % 3 === 1 ? audit(i) : deadLetter(i));
    const promises = records.map((r) =>
      r.kind === 'event' ? backend.recordEvent(r) : r.kind === 'audit' ? backend.recordAudit(r) : backend.recordDeadLetter(r),
    );
    // One promise per batch, shared by its callers.
    expect(new Set(promises).size).toBe(1);
    await Promise.all(promises);
    const lines = (await readFile(backend.path, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l).id)).toEqual(records.map((r) => r.id));
    const m = backend.metrics.snapshot();
    expect(m.recordsWritten).toBe(300);
    expect(m.bytesWritten).toBe((await stat(backend.path)).size);
    expect(m.recordsWrittenByKind).toEqual({ event: 100, audit: 100, dead_letter: 100 });
    expect(m.writeLatencyMs.count).toBe(300);
    await backend.close();
  });

  it('counts non-ASCII bytes exactly', async () => {
    const backend = await store();
    await backend.recordEvent(event(1, { payload: { text: 'grüße ✓ 🚀' } }));
    expect(backend.metrics.snapshot().bytesWritten).toBe((await stat(backend.path)).size);
    expect((await backend.listEvents())[0]!.payload).toEqual({ text: 'grüße ✓ 🚀' });
    await backend.close();
  });

  for (const fsync of ['never', 'interval', 'always'] as const) {
    it(`writes a burst of several batches in call order with exact per-kind metrics (fsync ${fsync})`, async () => {
      const backend = await store({ fsync });
      const records: PersistedRecord[] = [];
      // Some batches all ASCII, some not: per-kind bytes are counted either way.
      for (let i = 0; i < 3500; i++) {
        const text = i >= 1200 && i < 1300 ? 'grüße ✓' : 'plain';
        records.push(i % 5 === 0 ? audit(i) : i % 5 === 1 ? deadLetter(i) : event(i, { payload: { n: i, text } }));
      }
      // One synchronous loop, as a sustained producer fires them, then one wait for all.
      await Promise.all(
        records.map((r) => (r.kind === 'event' ? backend.recordEvent(r) : r.kind === 'audit' ? backend.recordAudit(r) : backend.recordDeadLetter(r))),
      );
      const lines = (await readFile(backend.path, 'utf8')).split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => JSON.parse(l).id)).toEqual(records.map((r) => r.id));
      const bytesByKind = { event: 0, audit: 0, dead_letter: 0 };
      for (const line of lines) bytesByKind[JSON.parse(line).kind as PersistedRecord['kind']] += Buffer.byteLength(line) + 1;
      const m = backend.metrics.snapshot();
      expect(m.recordsWrittenByKind).toEqual({ event: 2100, audit: 700, dead_letter: 700 });
      expect(m.bytesWrittenByKind).toEqual(bytesByKind);
      expect(m.bytesWritten).toBe((await stat(backend.path)).size);
      expect(m.writeLatencyMs.count).toBe(3500);
      await backend.close();
    });
  }

  it('seals a torn tail left by a crash before appending, so the next record is not glued onto it', async () => {
    const backend = await store();
    const first = event(1);
    await backend.recordEvent(first);
    await backend.close();
    const torn = '{"kind":"event","id":"torn","timesta';
    await writeFile(backend.path, torn, { flag: 'a' });
    const tornOffset = (await stat(backend.path)).size - torn.length;

    const next = new NdjsonBackend({ path: backend.path, fsync: 'always' });
    const second = event(2);
    await next.recordEvent(second);
    expect((await next.listEvents()).map((e) => e.id)).toEqual([first.id, second.id]);
    expect((await next.scan()).anomalies).toEqual([{ type: 'CORRUPTED_LINE', path: backend.path, line: 2, offset: tornOffset, detail: expect.any(String) }]);
    const report = await next.recover({ mode: 'repair' });
    expect(report).toMatchObject({ keptRecords: 2, droppedRecords: 1, postScan: { anomalies: [] } });
    expect((await next.listEvents()).map((e) => e.id)).toEqual([first.id, second.id]);
    await next.close();
  });

  it('completes a last record that lost only its newline', async () => {
    const backend = await store();
    const first = event(1);
    await backend.recordEvent(first);
    await backend.close();
    const content = await readFile(backend.path, 'utf8');
    await writeFile(backend.path, content.slice(0, -1));
    const next = new NdjsonBackend({ path: backend.path });
    expect((await next.scan()).anomalies.map((a) => a.type)).toEqual(['TRUNCATED_LINE']);
    const second = event(2);
    await next.recordEvent(second);
    expect((await next.scan()).anomalies).toEqual([]);
    expect((await next.listEvents()).map((e) => e.id)).toEqual([first.id, second.id]);
    await next.close();
  });

  it('rejects a record of the wrong kind without writing anything', async () => {
    const backend = await store();
    expect(await codeOf(() => backend.recordEvent(audit(1) as never))).toBe('PAPYRA_INVALID_RECORD');
    expect(backend.metrics.snapshot().writeErrors).toBe(1);
    await backend.close();
  });

  it('after close every method rejects with PAPYRA_BACKEND_CLOSED, and pending writes landed', async () => {
    const backend = await store({ fsync: 'interval', fsyncIntervalMs: 50 });
    const pending = backend.recordEvent(event(1));
    await backend.close();
    await pending;
    await backend.close();
    for (const op of [
      () => backend.recordEvent(event(2)),
      () => backend.recordAudit(audit(2)),
      () => backend.recordDeadLetter(deadLetter(2)),
      () => backend.listEvents(),
      () => backend.listAudits({ limit: 1 }),
      () => backend.listDeadLetters(),
      () => backend.scan(),
      () => backend.recover({ mode: 'repair' }),
      () => backend.compact(),
      () => backend.flush(),
    ]) {
      expect(await codeOf(op)).toBe('PAPYRA_BACKEND_CLOSED');
    }
    const reopened = new NdjsonBackend({ path: backend.path });
    expect(await reopened.listEvents()).toHaveLength(1);
    await reopened.close();
  });

  it('validates its options', () => {
    expect(() => new NdjsonBackend({ path: '' })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => new NdjsonBackend({ path: 'x', fsync: 'sometimes' as never })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => new NdjsonBackend({ path: 'x', maxLineBytes: 0 })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => new NdjsonBackend({ path: 'x', retention: { maxRecords: -1 } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });
});

describe('lists', () => {
  // A deterministic pseudo-random mix; timestamps not monotonic, as after a clock step.
  function mix(count: number): PersistedRecord[] {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    return Array.from({ length: count }, (_, i) => {
      const n = i + Math.floor(next() * 40) - 20;
      const r = next();
      return r < 0.6 ? event(n, { payload: { pad: 'x'.repeat(Math.floor(next() * 50)) } }) : r < 0.8 ? audit(n) : deadLetter(n);
    });
  }

  it('from the end of the file, agree with the contract helpers over the whole store', async () => {
    const records = mix(600);
    const now = 1_700_000_000_000 + 600;
    const policies: RetentionPolicy[] = [
      {},
      { maxRecords: 50 },
      { maxAgeMs: 300 },
      { maxTotalBytes: 9_000 },
      { maxRecords: 120, maxAgeMs: 400, maxTotalBytes: 20_000 },
    ];
    const queries: ListQuery[] = [
      {},
      { limit: 1 },
      { limit: 25 },
      { limit: 25, order: 'desc' },
      { limit: 40, since: now - 200 },
      { since: now - 100, order: 'desc' },
      { limit: 10_000 },
    ];
    const path = join(await dirs.make(), 'store.ndjson');
    const writer = new NdjsonBackend({ path, fsync: 'never' });
    for (const r of records) void (r.kind === 'event' ? writer.recordEvent(r) : r.kind === 'audit' ? writer.recordAudit(r) : writer.recordDeadLetter(r));
    await writer.close();
    for (const retention of policies) {
      const backend = new NdjsonBackend({ path, retention, clock: () => now });
      for (const query of queries) {
        for (const kind of ['event', 'audit', 'dead_letter'] as const) {
          const expected = applyListQuery(
            applyRetention(
              records.filter((r) => r.kind === kind),
              retention,
              now,
            ),
            query,
          );
          const list = kind === 'event' ? backend.listEvents(query) : kind === 'audit' ? backend.listAudits(query) : backend.listDeadLetters(query);
          expect({ retention, query, kind, ids: (await list).map((r) => r.id) }).toEqual({ retention, query, kind, ids: expected.map((r) => r.id) });
        }
      }
      await backend.close();
    }
  });

  it('skip damaged lines and a torn tail', async () => {
    const backend = await store();
    await backend.recordEvent(event(1));
    await writeFile(backend.path, 'garbage\n', { flag: 'a' });
    await backend.recordEvent(event(2));
    await writeFile(backend.path, '{"kind":"event","timest', { flag: 'a' });
    expect((await backend.listEvents()).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await backend.listEvents({ limit: 5 })).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    await backend.close();
  });

  it('reject a bad query with PAPYRA_INVALID_ARGUMENT', async () => {
    const backend = await store();
    expect(await codeOf(() => backend.listEvents({ limit: -1 }))).toBe('PAPYRA_INVALID_ARGUMENT');
    await backend.close();
  });
});

describe('compaction', () => {
  it('removes what retention hides, keeps the rest byte-identical, and appends go to the new file', async () => {
    const now = 1_700_000_000_000 + 1000;
    const backend = await store({ retention: { maxRecords: 3 }, clock: () => now });
    for (let i = 0; i < 10; i++) await Promise.all([backend.recordEvent(event(i)), backend.recordAudit(audit(i))]);
    const before = (await readFile(backend.path, 'utf8')).split('\n').filter(Boolean);
    const progress: number[] = [];
    const report = await backend.compact({ onProgress: (p) => progress.push(p.processed) });
    const after = (await readFile(backend.path, 'utf8')).split('\n').filter(Boolean);
    expect(report).toMatchObject({ backend: 'ndjson', beforeRecords: 20, afterRecords: 6, removedRecords: 14 });
    expect(report.reclaimedBytes).toBe(report.beforeBytes - report.afterBytes);
    expect(report.afterBytes).toBe((await stat(backend.path)).size);
    expect(after).toEqual(before.slice(-6));
    expect(progress.length).toBeGreaterThan(0);
    // Our own writer reopened the file: the next append lands in the compacted file.
    await backend.recordEvent(event(99));
    expect((await backend.listEvents()).map((e) => e.payload)).toEqual([{ n: 8 }, { n: 9 }, { n: 99 }]);
    expect((await readFile(backend.path, 'utf8')).split('\n').filter(Boolean)).toHaveLength(7);
    expect((await readdir(join(backend.path, '..'))).sort()).toEqual(['.store.ndjson.lock', 'store.ndjson']);
    await backend.close();
    expect(await readdir(join(backend.path, '..'))).toEqual(['store.ndjson']);
  });

  it('leaves lines that are not records for scan and recovery', async () => {
    const backend = await store({ retention: { maxRecords: 1 } });
    await backend.recordEvent(event(1));
    await writeFile(backend.path, 'junk\n', { flag: 'a' });
    await backend.recordEvent(event(2));
    const kept = (await readFile(backend.path, 'utf8')).split('\n')[2];
    expect(JSON.parse(kept!).payload).toEqual({ n: 2 });
    await backend.compact();
    expect(await readFile(backend.path, 'utf8')).toBe(`junk\n${kept}\n`);
    expect((await backend.scan()).anomalies.map((a) => a.type)).toEqual(['CORRUPTED_LINE']);
    await backend.close();
  });

  it('honours an abort signal and leaves the store untouched', async () => {
    const backend = await store({ retention: { maxRecords: 1 } });
    for (let i = 0; i < 5; i++) await backend.recordEvent(event(i));
    const before = await readFile(backend.path);
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(() => backend.compact({ signal: controller.signal }))).toBe('PAPYRA_ABORTED');
    expect(await codeOf(() => backend.scan({ signal: controller.signal }))).toBe('PAPYRA_ABORTED');
    expect(await readFile(backend.path)).toEqual(before);
    expect((await readdir(join(backend.path, '..'))).sort()).toEqual(['.store.ndjson.lock', 'store.ndjson']);
    await backend.close();
  });
});

describe('leftovers of interrupted operations', () => {
  it('are reported as UNEXPECTED_FILE, removed by repair and kept by quarantine (new and old names)', async () => {
    const backend = await store();
    await backend.recordEvent(event(1));
    const dir = join(backend.path, '..');
    // pid 2^22+1 is above Linux's pid_max default, so it names a dead process.
    const leftover = join(dir, '.store.ndjson.4194305-abcdef.papyra-tmp');
    const legacy = join(dir, 'store.ndjson.papyra-tmp-4194305-abcdef');
    const takeover = join(dir, '.store.ndjson.lock.takeover-0123456789abcdef');
    await writeFile(leftover, 'half a compaction\n');
    await writeFile(legacy, 'half a compaction of an earlier version\n');
    await writeFile(takeover, JSON.stringify({ pid: 4194305, host: hostname(), since: 1, start: '1', boot: null }));
    await writeFile(join(dir, 'unrelated.papyra-tmp-4194305-abcdef'), 'not ours to judge');
    await writeFile(join(dir, '.unrelated.4194305-abcdef.papyra-tmp'), 'not ours to judge');
    expect((await backend.scan()).anomalies.map((a) => [a.type, a.path])).toEqual([
      ['UNEXPECTED_FILE', leftover],
      ['UNEXPECTED_FILE', takeover],
      ['UNEXPECTED_FILE', legacy],
    ]);
    const quarantine = await backend.recover({ mode: 'quarantine', quarantineDir: join(dir, 'q') });
    expect(quarantine.quarantinedFiles).toHaveLength(3);
    expect(await readFile(quarantine.quarantinedFiles[0]!, 'utf8')).toBe('half a compaction\n');
    expect(quarantine.postScan.anomalies).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([
      '.store.ndjson.lock',
      '.unrelated.4194305-abcdef.papyra-tmp',
      'q',
      'store.ndjson',
      'unrelated.papyra-tmp-4194305-abcdef',
    ]);
    await writeFile(leftover, 'again');
    expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
    expect((await readdir(dir)).includes('.store.ndjson.4194305-abcdef.papyra-tmp')).toBe(false);
    expect(await backend.listEvents()).toHaveLength(1);
    await backend.close();
  });
});

describe('the lock inside one process', () => {
  it('refuses a rewrite by another instance while one writes; the writer itself may compact', async () => {
    const writer = await store({ retention: { maxRecords: 1 } });
    await writer.recordEvent(event(1));
    const other = new NdjsonBackend({ path: writer.path, retention: { maxRecords: 1 } });
    expect(await codeOf(() => other.compact())).toBe('PAPYRA_LOCKED');
    expect(await codeOf(() => other.recover({ mode: 'repair' }))).toBe('PAPYRA_LOCKED');
    // Reads need no lock.
    expect(await other.listEvents()).toHaveLength(1);
    await writer.recordEvent(event(2));
    expect((await writer.compact()).removedRecords).toBe(1);
    await writer.close();
    expect((await other.compact()).removedRecords).toBe(0);
    await other.close();
  });
});
