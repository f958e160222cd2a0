import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  RECORD_KINDS,
  applyListQuery,
  storeStats,
  type ListQuery,
  type PersistedEvent,
  type PersistedRecord,
  type RecordKind,
  type StoredRecord,
} from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { codeOf, deadLetter, event, tempDirs, write } from './helpers.js';

// Issue 17, items 2–3 for the set: list filters apply while streaming across files (before
// `limit`, also on the backward read), and `records()` streams the set from one snapshot.
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const T0 = 1_700_000_000_000;
const ns = (records: readonly PersistedRecord[]) => records.map((r) => (r.kind === 'dead_letter' ? r.target : (r as PersistedEvent).payload['n']));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** 2,000 events of 30 actors and 200 dead letters over a set of ~25 files; actor 'test:rare' in the oldest and newest files only. */
async function filledSet(retention = {}) {
  const dir = await dirs.make();
  const backend = new RotatingBackend({ path: join(dir, 'store.ndjson'), maxBytes: 16 * 1024, maxFiles: 100, fsync: 'never', retention });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 2000; i++) {
    const actor = i === 2 || i === 1990 || i === 1995 ? 'test:rare' : `a:${i % 30}`;
    writes.push(write(backend, event(i, { actorAddress: actor, timestamp: T0 + i, eventType: i % 2 ? 'ActorCrashed' : 'ActorStarted' })));
    if (i % 10 === 0) writes.push(write(backend, { ...deadLetter(i), target: `a:${i % 30}` }));
  }
  await Promise.all(writes);
  await backend.flush();
  return { dir, backend };
}

describe('list filters across the set', () => {
  it('apply before limit, reading the newest files backwards as on the forward read', async () => {
    const { dir, backend } = await filledSet();
    expect((await readdir(dir)).length).toBeGreaterThan(20);
    const all = (await collect(backend.records({ kinds: ['event'] }))).map((s) => s.record) as PersistedEvent[];
    expect(all).toHaveLength(2000);
    const queries: ListQuery[] = [
      { actor: 'test:rare', limit: 2 },
      { actor: 'test:rare', limit: 3, order: 'desc' },
      { actor: 'a:7', eventType: 'ActorCrashed', limit: 4 },
      { eventType: 'ActorStarted', since: T0 + 1500, limit: 3 },
      { actor: 'test:rare' },
    ];
    for (const query of queries) {
      const expected = applyListQuery(all, query);
      expect(expected.length).toBeGreaterThan(0);
      expect([query, ns(await backend.listEvents(query))]).toEqual([query, ns(expected)]);
    }
    const at = (records: readonly PersistedRecord[]) => records.map((r) => r.timestamp - T0);
    expect(at(await backend.listDeadLetters({ target: 'a:10', limit: 2 }))).toEqual([1960, 1990]);
    expect(at(await backend.listDeadLetters({ target: 'a:10' }))).toEqual(Array.from({ length: 67 }, (_, k) => 10 + 30 * k));
    expect(await backend.listDeadLetters({ actor: 'a:10' })).toEqual([]);
    await backend.close();
  }, 60_000);
});

describe('records() and stats() of the set', () => {
  it('stream what lists show, kind after kind, and count it exactly', async () => {
    const { backend: writer, dir } = await filledSet();
    await writer.close();
    for (const retention of [{}, { maxRecords: 700 }, { maxTotalBytes: 20_000 }]) {
      const backend = new RotatingBackend({ path: join(dir, 'store.ndjson'), maxBytes: 16 * 1024, maxFiles: 100, retention });
      const streamed = await collect(backend.records());
      const lists: Record<RecordKind, PersistedRecord[]> = {
        event: await backend.listEvents(),
        audit: await backend.listAudits(),
        dead_letter: await backend.listDeadLetters(),
      };
      expect(streamed.map((s) => s.record)).toEqual(RECORD_KINDS.flatMap((k) => lists[k]));
      const stats = await backend.stats();
      for (const kind of RECORD_KINDS) {
        const mine = streamed.filter((s) => s.record.kind === kind);
        expect(stats.kinds[kind]).toEqual({
          records: lists[kind].length,
          bytes: mine.reduce((sum, s) => sum + Buffer.byteLength(s.line) + 1, 0),
          oldest: mine[0]?.record.timestamp ?? null,
          newest: mine.at(-1)?.record.timestamp ?? null,
        });
      }
      const window = await collect(backend.records({ kinds: ['dead_letter'], since: T0 + 100, until: T0 + 200 }));
      expect(window.map((s) => s.record.timestamp - T0)).toEqual(lists.dead_letter.map((d) => d.timestamp - T0).filter((t) => t >= 100 && t < 200));
      expect(await storeStats(backend)).toEqual(stats);
      await backend.close();
    }
  }, 60_000);

  it('close the snapshot when the consumer stops early, and answer PAPYRA_BACKEND_CLOSED after close()', async () => {
    const { backend } = await filledSet();
    const fds = async () => (await readdir('/proc/self/fd')).length;
    const before = await fds();
    const first: StoredRecord[] = [];
    for await (const item of backend.records()) {
      first.push(item);
      if (first.length === 2) break;
    }
    expect(ns(first.map((f) => f.record))).toEqual([0, 1]);
    expect(await fds()).toBe(before);
    await backend.close();
    expect(await codeOf(() => collect(backend.records()))).toBe('PAPYRA_BACKEND_CLOSED');
    expect(await codeOf(() => backend.stats())).toBe('PAPYRA_BACKEND_CLOSED');
  }, 60_000);
});
