import { describe, expect, it } from '@jest/globals';
import { makeRedactor } from '../src/io.js';

describe('makeRedactor', () => {
  it('removes passwords from any URL', () => {
    const redact = makeRedactor();
    expect(redact('connecting to redis://user:hunter22@host:6379/0')).toBe('connecting to redis://user:***@host:6379/0');
  });

  it('removes a known password even where a driver quotes it outside a URL', () => {
    const redact = makeRedactor();
    redact.addUrl('postgres://app:s%40crét-pass@db:5432/prod');
    expect(redact('auth failed for "s@crét-pass" and s%40crét-pass')).toBe('auth failed for "***" and ***');
  });

  it('leaves text alone when there is no secret', () => {
    const redact = makeRedactor();
    redact.addUrl('redis://localhost:6379');
    redact.addUrl('not a url');
    expect(redact('plain text: redis://localhost:6379')).toBe('plain text: redis://localhost:6379');
  });
});
