import { describe, expect, it } from '@jest/globals';
import { newRecordId, PersistenceMetrics, type MetricsSample } from '../src/index.js';

describe('PersistenceMetrics', () => {
  it('counts writes per kind with latency percentiles', () => {
    const metrics = new PersistenceMetrics();
    metrics.recordWritten('event', 2, 200, 5);
    metrics.recordWritten('dead_letter', 1, 50, 1);
    for (let i = 1; i <= 97; i++) metrics.recordWritten('audit', 1, 10, i);
    const m = metrics.snapshot();
    expect(m.recordsWritten).toBe(100);
    expect(m.bytesWritten).toBe(200 + 50 + 970);
    expect(m.recordsWrittenByKind).toEqual({ event: 2, audit: 97, dead_letter: 1 });
    expect(m.bytesWrittenByKind).toEqual({ event: 200, audit: 970, dead_letter: 50 });
    expect(m.writeLatencyMs.count).toBe(100);
    expect(m.writeLatencyMs.max).toBe(97);
    expect(m.writeLatencyMs.p50).toBeGreaterThanOrEqual(40);
    expect(m.writeLatencyMs.p50).toBeLessThanOrEqual(55);
    expect(m.writeLatencyMs.p99).toBeGreaterThanOrEqual(95);
  });

  it('counts scans, anomalies by type, recoveries, compactions, errors and drops', () => {
    const metrics = new PersistenceMetrics();
    const anomaly = (type: 'TRUNCATED_LINE' | 'CORRUPTED_LINE') => ({ type, path: 'p', line: 1, offset: 0, detail: '' });
    metrics.scanned({ backend: 'x', anomalies: [anomaly('TRUNCATED_LINE'), anomaly('CORRUPTED_LINE'), anomaly('CORRUPTED_LINE')] });
    metrics.scanned({ backend: 'x', anomalies: [] });
    metrics.scanFailed();
    metrics.recovered();
    metrics.recovered(false);
    metrics.compacted();
    metrics.compacted(false);
    metrics.writeFailed(3, new Error('x'));
    metrics.dropped(4, 'buffer full');
    expect(metrics.snapshot()).toMatchObject({
      scans: 2,
      scanErrors: 1,
      anomaliesDetected: 3,
      anomaliesByType: { TRUNCATED_LINE: 1, CORRUPTED_LINE: 2 },
      recoveries: 1,
      recoveryErrors: 1,
      compactions: 1,
      compactionErrors: 1,
      writeErrors: 3,
      recordsDropped: 4,
    });
  });

  it('snapshots are copies, and reset() zeroes everything', () => {
    const metrics = new PersistenceMetrics();
    metrics.recordWritten('event', 1, 10, 1);
    const before = metrics.snapshot();
    before.recordsWrittenByKind.event = 99;
    expect(metrics.snapshot().recordsWrittenByKind.event).toBe(1);
    metrics.reset();
    const m = metrics.snapshot();
    expect(m).toMatchObject({ recordsWritten: 0, bytesWritten: 0, scans: 0, anomaliesDetected: 0, anomaliesByType: {} });
    expect(m.recordsWrittenByKind).toEqual({ event: 0, audit: 0, dead_letter: 0 });
    expect(m.writeLatencyMs).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('streams samples to subscribers; a throwing listener breaks nothing', () => {
    const metrics = new PersistenceMetrics();
    const seen: MetricsSample[] = [];
    metrics.subscribe(() => {
      throw new Error('exporter bug');
    });
    const unsubscribe = metrics.subscribe((s) => seen.push(s));
    metrics.recordWritten('audit', 1, 7, 2);
    metrics.writeFailed(1, Object.assign(new Error('x'), { code: 'ECONNRESET' }));
    unsubscribe();
    metrics.compacted();
    expect(seen).toEqual([
      { type: 'write', kind: 'audit', records: 1, bytes: 7, latencyMs: 2 },
      { type: 'write_error', records: 1, errorType: 'ECONNRESET' },
    ]);
  });
});

describe('record ids', () => {
  it('are UUIDv7 strings carrying the creation time', () => {
    const now = Date.now();
    const id = newRecordId(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(now);
  });

  it('are unique and sort in creation order over 10k calls, even within one millisecond', () => {
    const fixed = Date.now() + 60_000;
    const ids = Array.from({ length: 10_000 }, (_, i) => newRecordId(i < 5000 ? fixed : undefined));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('stay ordered when the clock goes backwards', () => {
    const a = newRecordId(Date.now() + 120_000);
    const b = newRecordId(Date.now() - 120_000);
    expect(b > a).toBe(true);
  });
});
