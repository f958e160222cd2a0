import { describe, expect, it } from '@jest/globals';
import { brief, formatAnomaly, formatBytes, formatTime, keyValues, plural, table } from '../src/format.js';

describe('table', () => {
  it('pads every column to its widest cell and right-aligns numbers', () => {
    const out = table(
      [{ header: 'NAME' }, { header: 'COUNT', align: 'right' }],
      [
        ['ActorStarted', '4'],
        ['ActorCrashed', '12'],
      ],
    );
    expect(out.split('\n')).toEqual(['NAME          COUNT', '────────────  ─────', 'ActorStarted      4', 'ActorCrashed     12']);
  });

  it('measures non-ASCII text by code points', () => {
    const out = table(
      [{ header: 'A' }, { header: 'B' }],
      [
        ['héllo ✓', 'x'],
        ['ab', 'y'],
      ],
    );
    const [, , first, second] = out.split('\n');
    expect(first!.indexOf('x')).toBe([...'héllo ✓  '].length);
    expect([...second!].indexOf('y')).toBe([...first!].indexOf('x'));
  });
});

describe('formatAnomaly', () => {
  it('writes file:line (offset) type detail', () => {
    expect(formatAnomaly({ type: 'CORRUPTED_LINE', path: '/d/p.ndjson', line: 3, offset: 120, detail: 'not valid JSON' })).toBe(
      '/d/p.ndjson:3 (offset 120) CORRUPTED_LINE not valid JSON',
    );
  });

  it('leaves out line and offset when they do not apply', () => {
    expect(formatAnomaly({ type: 'ORPHANED_ROTATED_FILE', path: '/d/p.ndjson.9', line: null, offset: null, detail: 'not in the set' })).toBe(
      '/d/p.ndjson.9 ORPHANED_ROTATED_FILE not in the set',
    );
  });
});

describe('small formatters', () => {
  it('formats times, bytes, counts and payloads', () => {
    expect(formatTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(formatTime(null)).toBe('-');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
    expect(plural(1, 'anomaly', 'anomalies')).toBe('1 anomaly');
    expect(plural(3, 'record')).toBe('3 records');
    expect(brief({ a: 'x'.repeat(100) }, 20)).toHaveLength(20);
    expect(brief({ a: 1 })).toBe('{"a":1}');
    expect(
      keyValues([
        ['a', '1'],
        ['long key', '2'],
      ]),
    ).toBe('a         1\nlong key  2');
  });
});
