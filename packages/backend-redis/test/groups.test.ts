import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createEvent, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { RedisBackend, ack, autoClaim, claim, consume, ensureGroup, pendingSummary, type ConsumedEntry } from '../src/index.js';
import { REDIS_URL, connect, deleteKeys, describeWithRedis, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('groups');
let redis: Redis;
let backend: RedisBackend;
let stream: string;
const group = 'workers';

const event = (i: number): PersistedEvent => createEvent({ systemId: 'local', actorAddress: `local:${i}`, eventType: 'ActorStarted', payload: { i } });

async function take(iterable: AsyncIterable<ConsumedEntry>, n: number): Promise<ConsumedEntry[]> {
  const out: ConsumedEntry[] = [];
  for await (const entry of iterable) {
    out.push(entry);
    if (out.length === n) break;
  }
  return out;
}

describeWithRedis('consumer groups', () => {
  beforeAll(async () => {
    redis = connect();
    await redis.connect();
    backend = new RedisBackend({ url: REDIS_URL, prefix });
    stream = backend.keys.event;
  });
  afterAll(async () => {
    await backend.close();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it("shares a stream between consumers, and hands a crashed consumer's entries to another", async () => {
    expect(await ensureGroup(redis, { stream, group })).toBe(true);
    expect(await ensureGroup(redis, { stream, group })).toBe(false);
    const events = Array.from({ length: 6 }, (_, i) => event(i));
    for (const e of events) await backend.recordEvent(e);
    await backend.flush();

    const a = consume(redis, { stream, group, consumer: 'a', count: 3, blockMs: 200 });
    const gotA = await take(a, 3);
    await a.close(); // "crashes": never acks
    expect(gotA.map((e) => e.record)).toEqual(events.slice(0, 3));
    expect(gotA.every((e) => e.deliveries === 1 && e.stream === stream)).toBe(true);

    const b = consume(redis, { stream, group, consumer: 'b', count: 10, blockMs: 200 });
    const handled: ConsumedEntry[] = [];
    await b.run(async (entry) => {
      handled.push(entry);
      if (handled.length === 3) await b.close();
    });
    expect(handled.map((e) => e.record)).toEqual(events.slice(3));

    expect(await pendingSummary(redis, { stream, group })).toEqual({
      pending: 3,
      smallestId: gotA[0]!.id,
      largestId: gotA[2]!.id,
      consumers: [{ name: 'a', pending: 3 }],
    });

    const claimed = await autoClaim(redis, { stream, group, consumer: 'b', minIdleMs: 0 });
    expect(claimed.entries.map((e) => e.record)).toEqual(events.slice(0, 3));
    expect(claimed.entries.map((e) => e.deliveries)).toEqual([2, 2, 2]);
    expect(claimed).toMatchObject({ next: '0-0', deleted: [], poisoned: [] });
    expect(
      await ack(
        redis,
        { stream, group },
        claimed.entries.map((e) => e.id),
      ),
    ).toBe(3);
    expect((await pendingSummary(redis, { stream, group })).pending).toBe(0);
  }, 30_000);

  it('routes an entry to the poison stream, acked, once it is delivered more than maxDeliveries times', async () => {
    const poisonStream = `${stream}:poison`;
    const e = event(42);
    await backend.recordEvent(e);
    await backend.flush();
    const c = consume(redis, { stream, group, consumer: 'c', blockMs: 200 });
    const [first] = await take(c, 1);
    await c.close();
    expect(first!.record).toEqual(e);

    const options = { stream, group, consumer: 'd', minIdleMs: 0, maxDeliveries: 2 };
    const second = await claim(redis, options, [first!.id]);
    expect(second.map((x) => x.deliveries)).toEqual([2]);
    const third = await autoClaim(redis, options);
    expect(third.entries).toEqual([]);
    expect(third.poisoned).toEqual([first!.id]);

    expect((await pendingSummary(redis, { stream, group })).pending).toBe(0);
    const [[, fields]] = (await redis.xrange(poisonStream, '-', '+')) as [[string, string[]]];
    const map = Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i]!, fields[2 * i + 1]!]));
    expect(map).toMatchObject({
      data: encodeRecord(e),
      'poison.entry_id': first!.id,
      'poison.deliveries': '3',
      'poison.group': group,
      'poison.source': stream,
    });
  }, 30_000);

  it('routes entries that are not records straight to the poison stream and yields the rest', async () => {
    const poisonStream = `${stream}:junk`;
    const badId = await redis.xadd(stream, '*', 'data', 'not json');
    const good = event(7);
    await backend.recordEvent(good);
    await backend.flush();
    const c = consume(redis, { stream, group, consumer: 'e', blockMs: 200, poisonStream });
    const [entry] = await take(c, 1);
    await c.close();
    expect(entry!.record).toEqual(good);
    const poisoned = await redis.xrange(poisonStream, '-', '+');
    expect(poisoned).toHaveLength(1);
    expect(poisoned[0]![1]).toEqual(expect.arrayContaining(['poison.entry_id', badId, 'data', 'not json']));
  }, 30_000);

  it('a consumer re-reads its own pending entries after a restart, then new ones', async () => {
    const events = [event(100), event(101)];
    for (const e of events) await backend.recordEvent(e);
    await backend.flush();
    const f1 = consume(redis, { stream, group, consumer: 'f', count: 1, blockMs: 200 });
    const [firstRun] = await take(f1, 1);
    await f1.close();
    const f2 = consume(redis, { stream, group, consumer: 'f', count: 1, blockMs: 200 });
    const secondRun = await take(f2, 2);
    await f2.close();
    expect(firstRun!.record).toEqual(events[0]);
    expect(secondRun.map((x) => [x.record, x.deliveries])).toEqual([
      [events[0], 2],
      [events[1], 1],
    ]);
  }, 30_000);
});
