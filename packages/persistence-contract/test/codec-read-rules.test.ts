import { describe, expect, it } from '@jest/globals';
import { decodeRecord, inspectLine } from '../src/index.js';
import { MAX_TIMESTAMP_MS, isValidTimestamp } from '../src/codec.js';

// Issue 16, items 8 and 9: one rule for the timestamp range and one verdict for a BOM, whatever the input form.
describe('the decoder’s timestamp range', () => {
  it('accepts the widest timestamps a Date can format and refuses anything beyond them', () => {
    const edge = MAX_TIMESTAMP_MS / 1000;
    for (const seconds of [edge, -edge, 0, 1.7e9]) {
      const record = decodeRecord(`{"kind": "audit", "timestamp": ${seconds}}`);
      expect(() => new Date(record.timestamp).toISOString()).not.toThrow();
    }
    for (const seconds of [9e15, 8.64e12 + 1, -8.64e12 - 1, 1e308, -1e308]) {
      const line = `{"kind": "event", "timestamp": ${seconds}}`;
      expect(inspectLine(line)).toMatchObject({ ok: false, type: 'INVALID_RECORD' });
      expect(inspectLine(Buffer.from(line))).toMatchObject({ ok: false, type: 'INVALID_RECORD' });
      expect(() => decodeRecord(line)).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_RECORD' }));
      expect(() => decodeRecord({ kind: 'event', timestamp: seconds })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_RECORD' }));
    }
    expect(isValidTimestamp(MAX_TIMESTAMP_MS)).toBe(true);
    expect(isValidTimestamp(MAX_TIMESTAMP_MS + 1)).toBe(false);
    expect(isValidTimestamp(Number.NaN)).toBe(false);
  });
});

describe('a line that starts with a UTF-8 byte-order mark', () => {
  it('is a CORRUPTED_LINE from a string and from bytes alike', () => {
    const line = '\ufeff{"kind": "event", "timestamp": 1}';
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"kind": "event", "timestamp": 1}')]);
    expect(inspectLine(line)).toMatchObject({ ok: false, type: 'CORRUPTED_LINE', detail: expect.stringContaining('byte-order mark') });
    expect(inspectLine(bytes)).toEqual(inspectLine(line));
    expect(inspectLine(Buffer.from([0xef, 0xbb, 0xbf]))).toMatchObject({ ok: false, type: 'CORRUPTED_LINE' });
    // A BOM inside a string value is just a character.
    expect(inspectLine(Buffer.from('{"kind": "event", "timestamp": 1, "event_type": "\ufeffX"}'))).toMatchObject({ ok: true });
  });
});
