import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createEvent, decodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import type { RedisBackend } from '../../src/index.js';

export const event = (i: number, systemId = 'local', timestamp?: number): PersistedEvent =>
  createEvent({ systemId, actorAddress: `${systemId}:${i}`, eventType: 'ActorStarted', payload: { i }, ...(timestamp !== undefined && { timestamp }) });

export const prefixFor = (name: string) => `papyra-fault:${name}:${randomUUID().slice(0, 8)}`;

/** Settles within `ms` or fails the test: nothing may hang. */
export function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<PromiseSettledResult<T>> {
  return Promise.race([
    Promise.allSettled([promise]).then(([r]) => r!),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms).unref()),
  ]);
}

/** The record id of every entry of a stream, as stored (duplicates included), oldest first. */
export async function storedIds(client: Redis, key: string): Promise<string[]> {
  const ids: string[] = [];
  let start = '-';
  for (;;) {
    const page = await client.xrange(key, start, '+', 'COUNT', 1000);
    for (const [, fields] of page) ids.push(String(decodeRecord(fields[1]!).id));
    if (page.length < 1000) return ids;
    start = `(${page[page.length - 1]![0]}`;
  }
}

/** Issues `count` writes at once; returns which were accepted and how many were refused. */
export async function writeMany(backend: RedisBackend, records: PersistedEvent[], boundMs = 10_000): Promise<{ accepted: PersistedEvent[]; refused: number }> {
  const results = await Promise.all(records.map((r) => settlesWithin(backend.recordEvent(r), boundMs)));
  return { accepted: records.filter((_, i) => results[i]!.status === 'fulfilled'), refused: results.filter((r) => r.status === 'rejected').length };
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
