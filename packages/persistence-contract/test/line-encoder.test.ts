import { describe, expect, it } from '@jest/globals';
import {
  createAudit,
  createDeadLetter,
  createEvent,
  encodeRecord,
  encodedSize,
  parseAddress,
  toJsonValue,
  type JsonValue,
  type PersistedRecord,
} from '../src/index.js';

/*
 * The per-kind line encoder must write exactly the bytes the codec wrote before it: JSON.stringify
 * of the snake_case wire object with payloads as they are, and payloads made JSON-safe only when
 * that throws. That implementation is kept here, and only here, as the reference.
 */
function referenceEncode(record: PersistedRecord): string {
  try {
    return JSON.stringify(referenceWire(record, (v) => v as JsonValue));
  } catch {
    return JSON.stringify(referenceWire(record, toJsonValue));
  }
}

function referenceWire(record: PersistedRecord, json: (value: unknown) => JsonValue): object {
  const address = (a: string | null) => (a === null ? null : parseAddress(a));
  const head = { id: record.id, system_id: record.systemId, timestamp: record.timestamp / 1000 };
  switch (record.kind) {
    case 'event':
      return { kind: 'event', ...head, actor_address: address(record.actorAddress), event_type: record.eventType, payload: json(record.payload) };
    case 'audit':
      return {
        kind: 'audit',
        ...head,
        total_actors: record.totalActors,
        alive_actors: record.aliveActors,
        stopping_actors: record.stoppingActors,
        restarting_actors: record.restartingActors,
        registry_size: record.registrySize,
        registry_orphans: record.registryOrphans,
        registry_dead: record.registryDead,
        dead_letters_count: record.deadLettersCount,
      };
    case 'dead_letter':
      return {
        kind: 'dead_letter',
        ...head,
        target: address(record.target),
        message_type: record.messageType,
        expects_reply: record.expectsReply,
        payload: json(record.payload),
        reason: record.reason,
      };
  }
}

/** A seeded PRNG (mulberry32), so a failure names a seed that reproduces it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Point {
  constructor(readonly x: number) {}
}

function fuzzer(seed: number) {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chars = [
    'a',
    'Z',
    '0',
    ' ',
    '"',
    '\\',
    '\n',
    '\t',
    '\u0000',
    '\u001f',
    '\u007f',
    'é',
    '✓',
    '\u2028',
    '😀',
    '\ud800',
    '\udfff',
    ':',
    '-',
    '/',
    '<',
    '{',
  ];
  const str = (): string => {
    if (random() < 0.3) return pick(['', 'ActorStarted', 'bench', 'local', '0190f6a1-7c3e-7b2a-9f00-0123456789ab', 'sys:with:colons', 'x'.repeat(300)]);
    return Array.from({ length: int(12) }, () => pick(chars)).join('');
  };
  const num = (): number =>
    pick([0, -0, 1, -1, 0.1, 1e21, 1e-7, 123456789.123, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, NaN, Infinity, -Infinity, random() * 1e6, int(1e9)]);
  const timestamp = (): number =>
    pick([
      1733280000000 + int(1e9),
      int(1000),
      int(1e15),
      1e15 + int(1e6),
      999_999_999_999_999,
      1733280000000.5,
      -int(1e12),
      0,
      -0,
      NaN,
      Infinity,
      1e21,
      0.000_1,
      random() * 2e12,
    ]);
  const address = (): string | null =>
    pick([
      null,
      'bench:1',
      'bench:0',
      'bench:01',
      'sys:with:colons:12',
      'no-colon',
      ':7',
      'a:',
      'a:9999999999999999',
      'a:99999999999999999',
      `${str()}:${int(1e6)}`,
      `${str()}:${str()}`,
    ]);
  const value = (depth: number): unknown => {
    const r = random();
    if (depth > 3 || r < 0.35) return pick<unknown>([str(), num(), true, false, null, undefined]);
    if (r < 0.45)
      return pick<unknown>([new Date(int(2e12)), () => 1, Symbol('s'), new Point(1), new Map([[1, 2]]), { toJSON: () => 'custom' }, [undefined, () => 1]]);
    if (r < 0.7) return Array.from({ length: int(5) }, () => value(depth + 1));
    const object: Record<string, unknown> = {};
    for (let i = int(5); i > 0; i--) object[pick(['a', 'b', str(), '__proto__', 'constructor', '1', '-1'])] = value(depth + 1);
    return object;
  };
  const payload = (): unknown => {
    const r = random();
    if (r < 0.05) return { big: 10n };
    if (r < 0.1) {
      const cyclic: Record<string, unknown> = { n: 1 };
      cyclic['self'] = cyclic;
      return cyclic;
    }
    return value(0);
  };
  /** Mostly well-formed fields, sometimes the odd ones a careless caller passes. */
  const odd = <T>(normal: () => T): unknown => (random() < 0.9 ? normal() : pick<unknown>([undefined, null, 42, true, { o: 1 }, ['x']]));
  const id = () => pick<string | null | undefined>([null, undefined, str(), '0190f6a1-7c3e-7b2a-9f00-0123456789ab']);

  return (): PersistedRecord => {
    const base = { id: id(), systemId: odd(str), timestamp: timestamp() };
    switch (int(3)) {
      case 0:
        return { kind: 'event', ...base, actorAddress: address(), eventType: odd(str), payload: payload() } as PersistedRecord;
      case 1:
        return {
          kind: 'audit',
          ...base,
          totalActors: odd(num),
          aliveActors: num(),
          stoppingActors: num(),
          restartingActors: num(),
          registrySize: odd(num),
          registryOrphans: Array.from({ length: int(4) }, () => odd(str)),
          registryDead: odd(() => Array.from({ length: int(4) }, () => str())),
          deadLettersCount: num(),
        } as PersistedRecord;
      default:
        return {
          kind: 'dead_letter',
          ...base,
          target: address(),
          messageType: odd(str),
          expectsReply: odd(() => random() < 0.5),
          payload: payload(),
          reason: odd(str),
        } as PersistedRecord;
    }
  };
}

describe('line encoder', () => {
  it('writes the same bytes as the wire-object encoder on 30,000 fuzzed records', () => {
    for (const seed of [1, 2, 3]) {
      const next = fuzzer(seed);
      for (let i = 0; i < 10_000; i++) {
        const record = next();
        const line = encodeRecord(record);
        if (line !== referenceEncode(record)) {
          // Name the record that differs rather than dumping 10,000 comparisons.
          expect({ seed, i, line }).toEqual({ seed, i, line: referenceEncode(record) });
        }
      }
    }
  });

  it('writes the same bytes for records made by the constructors, every kind', () => {
    const records: PersistedRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      const timestamp = 1733280000000 + i * 7;
      records.push(
        createEvent({
          systemId: 'bench',
          actorAddress: `bench:${(i % 100) + 1}`,
          eventType: 'ActorStarted',
          payload: { reason: 'benchmark', n: i, nested: [i, { é: '✓' }] },
          timestamp,
        }),
        createAudit({
          systemId: 'bench',
          timestamp,
          totalActors: i,
          aliveActors: 1,
          stoppingActors: 0,
          restartingActors: 0,
          registrySize: 2,
          registryOrphans: ['bench:1'],
          registryDead: [],
          deadLettersCount: i,
        }),
        createDeadLetter({
          systemId: 'bench',
          target: i % 3 ? `bench:${i}` : null,
          messageType: 'Ping',
          expectsReply: i % 2 === 0,
          payload: i % 5 ? { n: i } : 'text',
          reason: 'actor stopped',
          timestamp,
        }),
      );
    }
    for (const record of records) expect(encodeRecord(record)).toBe(referenceEncode(record));
    expect(encodedSize(records[0]!)).toBe(Buffer.byteLength(referenceEncode(records[0]!)) + 1);
  });

  it('writes whole-millisecond timestamps as the float seconds String() gives', () => {
    const random = prng(7);
    const samples = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1010, 1100, 999_999_999_999_999, 1733280000000];
    for (let i = 0; i < 20_000; i++) samples.push(Math.floor(random() * 10 ** (1 + Math.floor(random() * 15))));
    for (const timestamp of samples) {
      const line = encodeRecord(createEvent({ systemId: 's', actorAddress: null, eventType: 'E', timestamp, id: null }));
      expect(line).toContain(`"timestamp":${String(timestamp / 1000)},`);
    }
  });

  it('still refuses what is not a record, as before', () => {
    const notARecord = { kind: 'nope', id: null, systemId: 's', timestamp: 1 } as unknown as PersistedRecord;
    expect(() => encodeRecord(notARecord)).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_RECORD' }));
    const badAddress = { kind: 'event', id: null, systemId: 's', timestamp: 1, actorAddress: 7, eventType: 'E', payload: {} } as unknown as PersistedRecord;
    expect(() => encodeRecord(badAddress)).toThrow(TypeError);
    expect(() => referenceEncode(badAddress)).toThrow(TypeError);
  });
});
