import { describe, expect, it } from '@jest/globals';
import { AnomalyType, PapyraError, PersistenceMetrics, type Anomaly } from '@papyra/persistence-contract';
import { registerPapyraMetrics } from '../src/index.js';
import { testMeterProvider } from './helpers.js';

// The contract's own PersistenceMetrics (what every backend exposes), driven directly: each figure a
// backend can report, and how it lands on the instruments. End-to-end with a real backend: e2e.test.ts.
const anomaly = (type: Anomaly['type']): Anomaly => ({ type, path: '/x', line: 1, offset: 0, detail: '' });

describe('backend metrics', () => {
  it('maps every counter of the snapshot with kind, error.type, reason and anomaly type attributes', async () => {
    const { provider, collect } = testMeterProvider();
    const metrics = new PersistenceMetrics();
    const reg = registerPapyraMetrics({ meterProvider: provider, backend: { name: 'custom', metrics } });

    metrics.recordWritten('event', 3, 300, 2);
    metrics.recordWritten('dead_letter', 1, 120, 4);
    metrics.writeFailed(2, new PapyraError('PAPYRA_IO', 'disk full'));
    metrics.writeFailed(1, new TypeError('boom'));
    metrics.dropped(5, 'buffer_full');
    metrics.scanned({
      backend: 'custom',
      anomalies: [anomaly(AnomalyType.TRUNCATED_LINE), anomaly(AnomalyType.CORRUPTED_LINE), anomaly(AnomalyType.CORRUPTED_LINE)],
    });
    metrics.scanFailed(new PapyraError('PAPYRA_PERMISSION_DENIED', 'no read'));
    metrics.recovered(true);
    metrics.compacted(true);
    metrics.compacted(true);
    metrics.compacted(false, new PapyraError('PAPYRA_LOCKED', 'held'));

    const c = await collect();
    const b = { 'papyra.backend': 'custom' };
    expect(c.value('papyra.persistence.record.written', { ...b, 'papyra.record.kind': 'event' })).toBe(3);
    expect(c.value('papyra.persistence.record.written', { ...b, 'papyra.record.kind': 'dead_letter' })).toBe(1);
    expect(c.value('papyra.persistence.record.written', { ...b, 'papyra.record.kind': 'audit' })).toBe(0);
    expect(c.value('papyra.persistence.record.size', { 'papyra.record.kind': 'event' })).toBe(300);
    expect(c.unit('papyra.persistence.record.size')).toBe('By');
    expect(c.value('papyra.persistence.write.errors', { 'error.type': 'PAPYRA_IO' })).toBe(2);
    expect(c.value('papyra.persistence.write.errors', { 'error.type': 'TypeError' })).toBe(1);
    expect(c.value('papyra.persistence.record.dropped', { 'papyra.drop.reason': 'buffer_full' })).toBe(5);
    expect(c.value('papyra.persistence.anomalies', { 'papyra.anomaly.type': 'CORRUPTED_LINE' })).toBe(2);
    expect(c.value('papyra.persistence.anomalies', { 'papyra.anomaly.type': 'TRUNCATED_LINE' })).toBe(1);
    expect(c.points('papyra.persistence.scans').map((p) => [p.attributes['error.type'], p.value])).toEqual([
      [undefined, 1],
      ['PAPYRA_PERMISSION_DENIED', 1],
    ]);
    expect(c.points('papyra.persistence.recoveries')).toHaveLength(1);
    expect(c.value('papyra.persistence.compactions', b)).toBe(2);
    expect(c.value('papyra.persistence.compactions', { 'error.type': 'PAPYRA_LOCKED' })).toBe(1);

    const events = c.histogram('papyra.persistence.write.duration', { 'papyra.record.kind': 'event' });
    expect(c.unit('papyra.persistence.write.duration')).toBe('s');
    expect(events?.count).toBe(3); // one observation per record
    expect(events?.sum).toBeCloseTo(0.006); // 3 × 2 ms, in seconds
    reg.unregister();
    await provider.shutdown();
  });

  it('reports errors counted before registration under their own type', async () => {
    const { provider, collect } = testMeterProvider();
    const metrics = new PersistenceMetrics();
    metrics.writeFailed(4, new PapyraError('PAPYRA_IO', 'early'));
    const reg = registerPapyraMetrics({ meterProvider: provider, backend: { name: 'custom', metrics } });
    metrics.writeFailed(1, new PapyraError('PAPYRA_BACKEND_UNAVAILABLE', 'later'));

    const c = await collect();
    expect(c.value('papyra.persistence.write.errors', { 'error.type': 'PAPYRA_IO' })).toBe(4);
    expect(c.value('papyra.persistence.write.errors', { 'error.type': 'PAPYRA_BACKEND_UNAVAILABLE' })).toBe(1);
    reg.unregister();
    await provider.shutdown();
  });

  it('keeps attribute cardinality bounded whatever error types a backend reports', async () => {
    const { provider, collect } = testMeterProvider();
    const metrics = new PersistenceMetrics();
    const reg = registerPapyraMetrics({ meterProvider: provider, backend: { name: 'custom', metrics } });
    for (let i = 0; i < 500; i++) metrics.writeFailed(1, { code: `E_${i}` });

    const points = (await collect()).points('papyra.persistence.write.errors');
    expect(points.length).toBeLessThanOrEqual(33);
    expect(points.reduce((sum, p) => sum + (p.value as number), 0)).toBe(500);
    reg.unregister();
    await provider.shutdown();
  });

  it('stops observing after unregister (also through `using`)', async () => {
    const { provider, collect } = testMeterProvider();
    const metrics = new PersistenceMetrics();
    {
      using _reg = registerPapyraMetrics({ meterProvider: provider, backend: { name: 'custom', metrics } });
      metrics.recordWritten('event', 1, 10, 1);
      expect((await collect()).histogram('papyra.persistence.write.duration')?.count).toBe(1);
    }
    metrics.recordWritten('event', 7, 70, 1);
    const after = await collect();
    expect(after.histogram('papyra.persistence.write.duration')?.count).toBe(1);
    // The SDK keeps exporting the last cumulative value it saw; nothing observes the 7 new records.
    expect(after.value('papyra.persistence.record.written', { 'papyra.record.kind': 'event' }) ?? 1).toBe(1);
    await provider.shutdown();
  });

  it('reports two backends registered on one provider side by side, told apart by name and attributes', async () => {
    const { provider, collect } = testMeterProvider();
    const [a, b, c] = [new PersistenceMetrics(), new PersistenceMetrics(), new PersistenceMetrics()];
    const regs = [
      registerPapyraMetrics({ meterProvider: provider, backend: { name: 'ndjson', metrics: a } }),
      registerPapyraMetrics({ meterProvider: provider, backend: { name: 'redis', metrics: b }, attributes: { 'papyra.store': 'main' } }),
      registerPapyraMetrics({ meterProvider: provider, backend: { name: 'redis', metrics: c }, attributes: { 'papyra.store': 'audit' } }),
    ];
    a.recordWritten('event', 1, 10, 1);
    b.recordWritten('event', 2, 20, 1);
    c.recordWritten('event', 4, 40, 1);

    const got = await collect();
    const event = { 'papyra.record.kind': 'event' };
    expect(got.value('papyra.persistence.record.written', { ...event, 'papyra.backend': 'ndjson' })).toBe(1);
    expect(got.value('papyra.persistence.record.written', { ...event, 'papyra.store': 'main' })).toBe(2);
    expect(got.value('papyra.persistence.record.written', { ...event, 'papyra.store': 'audit' })).toBe(4);
    for (const reg of regs) reg.unregister();
    await provider.shutdown();
  });

  it('rejects options without a meter, or without anything to observe', () => {
    const metrics = new PersistenceMetrics();
    const { provider } = testMeterProvider();
    expect(() => registerPapyraMetrics({ backend: { name: 'x', metrics } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => registerPapyraMetrics({ meterProvider: provider })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });
});
