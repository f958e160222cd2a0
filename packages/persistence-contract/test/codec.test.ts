import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createDeadLetter, createEvent, decodeRecord, encodeRecord, inspectLine, PapyraError } from '../src/index.js';

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
    const lines = readFileSync(new URL('../../../fixtures/papyra-py/system.ndjson', import.meta.url), 'utf8').trimEnd().split('\n');
    const records = lines.map((line) => decodeRecord(line));
    expect(records.map((r) => r.kind).filter((k) => k === 'dead_letter')).toHaveLength(5);
    expect(records.find((r) => r.kind === 'dead_letter')).toMatchObject({ target: 'local:2' });
  });
});
