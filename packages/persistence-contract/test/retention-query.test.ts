import { describe, expect, it } from '@jest/globals';
import {
  applyListQuery,
  applyRetention,
  createAudit,
  createDeadLetter,
  createEvent,
  encodedSize,
  hasRetention,
  normalizeListQuery,
  normalizeRetention,
  PapyraError,
  retainedMask,
} from '../src/index.js';

const NOW = 1_700_000_000_000;
const event = (n: number, timestamp = NOW - 1000 + n, text = '') =>
  createEvent({ systemId: 's', actorAddress: `s:${n}`, eventType: 'E', payload: { n, text }, timestamp });
const audit = (n: number, timestamp = NOW - 1000 + n) =>
  createAudit({
    systemId: 's',
    totalActors: n,
    aliveActors: n,
    stoppingActors: 0,
    restartingActors: 0,
    registrySize: n,
    registryOrphans: [],
    registryDead: [],
    deadLettersCount: 0,
    timestamp,
  });
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return PapyraError.isInstance(error) ? error.code : 'not a PapyraError';
  }
  return 'no error';
};

describe('retention', () => {
  it('keeps everything without a policy', () => {
    const records = [event(1, 0), event(2)];
    expect(hasRetention({})).toBe(false);
    expect(applyRetention(records, {}, NOW)).toEqual(records);
  });

  it('maxRecords keeps the newest N of each kind independently', () => {
    const records = [event(1), audit(1), event(2), event(3), audit(2), event(4)];
    expect(applyRetention(records, { maxRecords: 2 }, NOW)).toEqual([records[1], records[3], records[4], records[5]]);
    expect(applyRetention(records, { maxRecords: 0 }, NOW)).toEqual([]);
  });

  it('maxAgeMs keeps records at most that old on the given clock', () => {
    const records = [event(1, NOW - 5000), event(2, NOW - 1000), audit(1, NOW - 999), event(3, NOW)];
    expect(applyRetention(records, { maxAgeMs: 1000 }, NOW)).toEqual(records.slice(1));
    expect(applyRetention(records, { maxAgeMs: 1000 }, NOW + 1)).toEqual(records.slice(2));
  });

  it('treats Python Papyra monotonic timestamps (1970 dates) as old', () => {
    const records = [event(1, 1330.086745967 * 1000), event(2)];
    expect(applyRetention(records, { maxAgeMs: 24 * 3600 * 1000 }, NOW)).toEqual([records[1]]);
  });

  it('maxTotalBytes keeps the newest lines that fit, counted with their newline, per kind', () => {
    const records = [event(1, undefined, 'ü'.repeat(10)), event(2, undefined, 'ü'.repeat(20)), event(3, undefined, 'ü'.repeat(30)), audit(1)];
    const budget = encodedSize(records[1]!) + encodedSize(records[2]!);
    expect(applyRetention(records, { maxTotalBytes: budget }, NOW)).toEqual(records.slice(1));
    expect(applyRetention(records, { maxTotalBytes: budget - 1 }, NOW)).toEqual([records[2], records[3]]);
  });

  it('applies age first, then count, then bytes; an older record never survives a newer dropped one', () => {
    const items = [
      { kind: 'event' as const, timestamp: NOW, bytes: 10 },
      { kind: 'event' as const, timestamp: NOW, bytes: 100 },
      { kind: 'event' as const, timestamp: NOW, bytes: 10 },
      { kind: 'event' as const, timestamp: NOW - 10_000, bytes: 1 },
    ];
    expect(retainedMask(items, { maxTotalBytes: 50 }, NOW)).toEqual([false, false, true, true]);
    expect(retainedMask(items, { maxTotalBytes: 50, maxAgeMs: 5000 }, NOW)).toEqual([false, false, true, false]);
    expect(retainedMask(items, { maxRecords: 3, maxAgeMs: 5000 }, NOW)).toEqual([true, true, true, false]);
  });

  it('rejects invalid limits with PAPYRA_INVALID_CONFIG', () => {
    expect(codeOf(() => normalizeRetention({ maxRecords: -1 }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(codeOf(() => normalizeRetention({ maxAgeMs: 1.5 }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(codeOf(() => normalizeRetention({ maxTotalBytes: '10' as unknown as number }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(normalizeRetention({ maxRecords: 5 })).toEqual({ maxRecords: 5 });
  });
});

describe('list query', () => {
  const records = Array.from({ length: 10 }, (_, i) => event(i, NOW + i * 1000));
  const ns = (list: ReturnType<typeof event>[]) => list.map((r) => r.payload['n']);

  it('limit returns the newest N in ascending order', () => {
    expect(ns(applyListQuery(records, { limit: 3 }))).toEqual([7, 8, 9]);
    expect(ns(applyListQuery(records, { limit: 0 }))).toEqual([]);
    expect(ns(applyListQuery(records, { limit: 50 }))).toHaveLength(10);
  });

  it("order 'desc' reverses, after limit", () => {
    expect(ns(applyListQuery(records, { limit: 3, order: 'desc' }))).toEqual([9, 8, 7]);
    expect(ns(applyListQuery(records, { order: 'desc' }))[0]).toBe(9);
  });

  it('since keeps timestamp >= since, before limit', () => {
    expect(ns(applyListQuery(records, { since: NOW + 7000 }))).toEqual([7, 8, 9]);
    expect(ns(applyListQuery(records, { since: NOW + 2000, limit: 2 }))).toEqual([8, 9]);
    expect(ns(applyListQuery(records, { since: NOW + 60_000 }))).toEqual([]);
  });

  it('does not modify its input', () => {
    const copy = [...records];
    applyListQuery(records, { order: 'desc', limit: 2 });
    expect(records).toEqual(copy);
  });

  it('rejects bad queries with PAPYRA_INVALID_ARGUMENT', () => {
    expect(codeOf(() => normalizeListQuery({ limit: -1 }))).toBe('PAPYRA_INVALID_ARGUMENT');
    expect(codeOf(() => normalizeListQuery({ limit: 2.5 }))).toBe('PAPYRA_INVALID_ARGUMENT');
    expect(codeOf(() => normalizeListQuery({ since: Number.NaN }))).toBe('PAPYRA_INVALID_ARGUMENT');
    expect(codeOf(() => normalizeListQuery({ order: 'up' as 'asc' }))).toBe('PAPYRA_INVALID_ARGUMENT');
    expect(normalizeListQuery()).toEqual({ order: 'asc' });
  });
});

describe('ListQuery filters (actor, eventType, target)', () => {
  const ev = (n: number, actor: string, type: string) => createEvent({ systemId: 's', actorAddress: actor, eventType: type, timestamp: 1_000 + n });
  const records = [ev(1, 's:1', 'ActorStarted'), ev(2, 's:2', 'ActorStarted'), ev(3, 's:1', 'ActorCrashed'), ev(4, 's:1', 'ActorStopped')];

  it('filters before limit, so limit counts matching records', () => {
    expect(applyListQuery(records, { actor: 's:1', limit: 2 }).map((r) => r.timestamp)).toEqual([1_003, 1_004]);
    expect(applyListQuery(records, { eventType: 'ActorStarted' }).map((r) => r.actorAddress)).toEqual(['s:1', 's:2']);
    expect(applyListQuery(records, { actor: 's:1', eventType: 'ActorCrashed' })).toHaveLength(1);
    expect(applyListQuery(records, { target: 's:1' })).toEqual([]);
  });

  it('target matches dead letters only', () => {
    const dl = createDeadLetter({ systemId: 's', target: 's:9', messageType: 'Ping', timestamp: 5 });
    expect(applyListQuery([dl], { target: 's:9' })).toHaveLength(1);
    expect(applyListQuery([dl], { actor: 's:9' })).toHaveLength(0);
  });

  it('rejects a filter that is not a string', () => {
    expect(() => normalizeListQuery({ actor: 1 as never })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_ARGUMENT' }));
  });
});
