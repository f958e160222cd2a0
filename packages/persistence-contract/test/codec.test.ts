import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createAudit, createDeadLetter, createEvent, decodeRecord, encodeRecord, encodedSize, inspectLine, PapyraError, toWire } from '../src/index.js';

describe('codec', () => {
  it('decodes a line written by Python Papyra 0.1.x', () => {
    const record = decodeRecord(
      '{"kind": "event", "system_id": "local", "actor_address": {"system": "local", "actor_id": 1}, "event_type": "ActorStarted", "payload": {}, "timestamp": 343.62}',
    );
    expect(record).toEqual({ kind: 'event', id: null, systemId: 'local', actorAddress: 'local:1', eventType: 'ActorStarted', payload: {}, timestamp: 343620 });
  });

  it('round-trips an event', () => {
    const event = createEvent({ systemId: 's', actorAddress: 's:3', eventType: 'ActorCrashed', payload: { error: 'héllo ✓' } });
    expect(decodeRecord(encodeRecord(event))).toEqual(event);
  });

  it('encodes BigInt, cycles and functions as descriptive strings', () => {
    const cyclic: Record<string, unknown> = { n: 10n, f: function named() {} };
    cyclic['self'] = cyclic;
    const dl = createDeadLetter({ systemId: 's', target: 's:1', messageType: 'X', payload: cyclic });
    const decoded = decodeRecord(encodeRecord(dl));
    expect(decoded.kind === 'dead_letter' && decoded.payload).toEqual({ n: '10n', f: '[Function: named]', self: expect.stringContaining('Circular') });
  });

  it('rejects non-records with PAPYRA_INVALID_RECORD', () => {
    let caught: unknown;
    try {
      decodeRecord('[1,2]');
    } catch (error) {
      caught = error;
    }
    expect(PapyraError.hasCode(caught, 'PAPYRA_INVALID_RECORD')).toBe(true);
    expect(inspectLine('not json')).toMatchObject({ ok: false, type: 'CORRUPTED_LINE' });
  });

  it('decodes every line of the Python Papyra fixture', () => {
    const lines = readFileSync(new URL('../../../fixtures/papyra-py/system.ndjson', import.meta.url), 'utf8')
      .trimEnd()
      .split('\n');
    const records = lines.map((line) => decodeRecord(line));
    expect(records.map((r) => r.kind).filter((k) => k === 'dead_letter')).toHaveLength(5);
    expect(records.find((r) => r.kind === 'dead_letter')).toMatchObject({ target: 'local:2' });
  });

  it('round-trips every kind, including null ids and addresses', () => {
    const records = [
      createEvent({ systemId: 'sys:with:colons', actorAddress: 'sys:with:colons:12', eventType: 'ActorStopped', payload: { reason: 'stopped' } }),
      createEvent({ systemId: 's', actorAddress: null, eventType: 'Custom', id: null }),
      createAudit({
        systemId: 's',
        totalActors: 4,
        aliveActors: 3,
        stoppingActors: 1,
        restartingActors: 0,
        registrySize: 2,
        registryOrphans: ['s:9'],
        registryDead: ['s:7', 's:8'],
        deadLettersCount: 5,
      }),
      createDeadLetter({ systemId: 's', target: null, messageType: 'Ping', expectsReply: true, payload: [1, 'two', { three: 3 }], reason: 'no target' }),
      createDeadLetter({ systemId: 's', target: 's:named-actor', messageType: 'X' }),
    ];
    for (const record of records) expect(decodeRecord(encodeRecord(record))).toEqual(record);
  });

  it('writes the Papyra wire form: snake_case, seconds, address objects', () => {
    const event = createEvent({ systemId: 'local', actorAddress: 'local:3', eventType: 'ActorStarted', timestamp: 1_700_000_000_123 });
    expect(JSON.parse(encodeRecord(event))).toEqual({
      kind: 'event',
      id: event.id,
      system_id: 'local',
      timestamp: 1_700_000_000.123,
      actor_address: { system: 'local', actor_id: 3 },
      event_type: 'ActorStarted',
      payload: {},
    });
    expect(toWire(event)).toEqual(JSON.parse(encodeRecord(event)));
    expect(encodeRecord(event)).not.toContain('\n');
  });

  it('encodedSize is the UTF-8 size of the line plus its newline', () => {
    const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'E', payload: { text: 'é✓😀' } });
    expect(encodedSize(event)).toBe(Buffer.byteLength(encodeRecord(event), 'utf8') + 1);
    expect(encodedSize(event)).toBeGreaterThan(encodeRecord(event).length + 1);
  });

  it('decodes every line of the Python Papyra rotating fixture set with the documented defaults', () => {
    const dir = new URL('../../../fixtures/papyra-py/rotating/', import.meta.url);
    const lines = ['system.ndjson.2', 'system.ndjson.1', 'system.ndjson'].flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split('\n').filter(Boolean));
    const records = lines.map((line) => decodeRecord(line));
    expect(records).toHaveLength(17);
    for (const record of records) {
      expect(record.id).toBeNull();
      // Python writes monotonic seconds, which read as dates in January 1970.
      expect(new Date(record.timestamp).getUTCFullYear()).toBe(1970);
    }
    const deadLetters = records.filter((r) => r.kind === 'dead_letter');
    expect(deadLetters.map((d) => d.target)).toEqual(['local:2', 'local:2', 'local:2', 'local:2', 'local:3']);
  });

  it('fills defaults for missing fields and ignores unknown keys', () => {
    expect(decodeRecord('{"kind": "dead_letter", "timestamp": 1.5, "extra": [1]}')).toEqual({
      kind: 'dead_letter',
      id: null,
      systemId: '',
      timestamp: 1500,
      target: null,
      messageType: '',
      expectsReply: false,
      payload: null,
      reason: '',
    });
    expect(decodeRecord('{"kind": "event", "timestamp": 2}')).toMatchObject({ actorAddress: null, eventType: '', payload: {} });
    expect(decodeRecord('{"kind": "audit", "timestamp": 2}')).toMatchObject({ totalActors: 0, registryOrphans: [], registryDead: [], deadLettersCount: 0 });
    expect(decodeRecord({ kind: 'event', timestamp: 3, actor_address: 'x:1', payload: 'not an object' })).toMatchObject({
      actorAddress: 'x:1',
      payload: { value: 'not an object' },
    });
  });

  it('keeps "__proto__" keys in payloads as data, without polluting prototypes', () => {
    const line = '{"kind": "event", "timestamp": 1, "payload": {"__proto__": {"polluted": true}, "a": {"__proto__": {"polluted": true}}}}';
    const decoded = decodeRecord(line);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(decoded.kind === 'event' && Object.hasOwn(decoded.payload, '__proto__')).toBe(true);
    expect(decoded.kind === 'event' && (decoded.payload as Record<string, unknown>)['polluted']).toBeUndefined();
    // Through the create → encode → decode path as well.
    const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'E', payload: JSON.parse('{"__proto__": {"polluted": true}}') });
    expect(Object.hasOwn(event.payload, '__proto__')).toBe(true);
    const again = decodeRecord(encodeRecord(event));
    expect(again).toEqual(event);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('turns non-JSON payloads into descriptive strings instead of dropping them or throwing', () => {
    class Thing {
      constructor(readonly size = 3) {}
    }
    const payload = {
      when: new Date(0),
      thing: new Thing(),
      map: new Map([['k', 1]]),
      sym: Symbol('s'),
      nan: Number.NaN,
      inf: -Infinity,
      undef: undefined,
      list: [undefined, () => 1],
    };
    const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'E', payload });
    const decoded = decodeRecord(encodeRecord(event));
    expect(decoded.kind === 'event' && decoded.payload).toEqual({
      when: '1970-01-01T00:00:00.000Z',
      thing: expect.stringContaining('Thing'),
      map: expect.stringContaining('Map'),
      sym: 'Symbol(s)',
      nan: 'NaN',
      inf: '-Infinity',
      list: [null, expect.stringContaining('Function')],
    });
    const throwing = {
      toJSON: () => {
        throw new Error('nope');
      },
    };
    expect(() => encodeRecord(createDeadLetter({ systemId: 's', target: null, messageType: 'X', payload: throwing }))).not.toThrow();
  });

  it('classifies lines as CORRUPTED_LINE or INVALID_RECORD, never throwing', () => {
    expect(inspectLine('')).toMatchObject({ ok: false, type: 'CORRUPTED_LINE' });
    expect(inspectLine('   ')).toMatchObject({ ok: false, type: 'CORRUPTED_LINE' });
    expect(inspectLine(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toMatchObject({ ok: false, type: 'CORRUPTED_LINE', detail: 'not valid UTF-8' });
    expect(inspectLine('{"kind": "event"')).toMatchObject({ ok: false, type: 'CORRUPTED_LINE' });
    for (const line of ['42', 'null', '"text"', '[]', '{}', '{"kind": "gossip", "timestamp": 1}', '{"kind": "event"}', '{"kind": "event", "timestamp": "1"}']) {
      expect(inspectLine(line)).toMatchObject({ ok: false, type: 'INVALID_RECORD' });
    }
    expect(inspectLine(Buffer.from('{"kind": "audit", "timestamp": 0}'))).toMatchObject({ ok: true, record: { kind: 'audit' } });
  });

  it('rejects encoding a record of unknown kind with PAPYRA_INVALID_RECORD', () => {
    let caught: unknown;
    try {
      encodeRecord({ kind: 'gossip' } as never);
    } catch (error) {
      caught = error;
    }
    expect(PapyraError.hasCode(caught, 'PAPYRA_INVALID_RECORD')).toBe(true);
  });
});
