import { describe, expect, it } from '@jest/globals';
import { parseDuration, parseSince } from '../src/duration.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

describe('parseDuration', () => {
  it('reads single and combined units', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
  });

  it('rejects what is not a duration', () => {
    for (const text of ['', '15', 'm', '15x', '15m junk', '-5m', '1h 30m']) expect(parseDuration(text)).toBeNull();
  });
});

describe('parseSince', () => {
  it('takes an integer as epoch milliseconds', () => {
    expect(parseSince('1700000000000', NOW)).toBe(1_700_000_000_000);
  });

  it('takes a duration as that long before now', () => {
    expect(parseSince('15m', NOW)).toBe(NOW - 900_000);
  });

  it('takes ISO-8601 dates and date-times', () => {
    expect(parseSince('2025-01-02T03:04:05Z', NOW)).toBe(Date.parse('2025-01-02T03:04:05Z'));
    expect(parseSince('2025-01-02T03:04:05.250+02:00', NOW)).toBe(Date.parse('2025-01-02T01:04:05.250Z'));
    expect(parseSince('2025-01-02', NOW)).toBe(Date.parse('2025-01-02'));
  });

  it('rejects anything else as a usage error', () => {
    for (const text of ['yesterday', 'Jan 5 2025', '2025-13-45', '']) {
      expect(() => parseSince(text, NOW)).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE' }));
    }
  });
});
