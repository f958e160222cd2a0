import { describe, expect, it } from '@jest/globals';
import { createAudit, createDeadLetter, createEvent, PersistenceMetrics, silentLogger } from '../src/index.js';
import { ClosedGuard, checkRecoveryConfig, observeCompaction, observeScan, throwIfAborted, validateRecord } from '../src/kit/index.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('backend kit', () => {
  const event = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'ActorStarted' });

  it('validateRecord accepts each kind and refuses what a scan would call an anomaly', () => {
    expect(codeOf(() => validateRecord(event, 'event'))).toBeUndefined();
    expect(codeOf(() => validateRecord(createDeadLetter({ systemId: 's', target: null, messageType: 'X' }), 'dead_letter'))).toBeUndefined();
    const audit = createAudit({
      systemId: 's',
      totalActors: 0,
      aliveActors: 0,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: 0,
      registryOrphans: [],
      registryDead: [],
      deadLettersCount: 0,
    });
    expect(codeOf(() => validateRecord(audit, 'audit'))).toBeUndefined();
    for (const timestamp of [Number.NaN, Infinity, -Infinity, 9e15, -9e15]) {
      expect(codeOf(() => validateRecord({ ...event, timestamp }, 'event'))).toBe('PAPYRA_INVALID_RECORD');
    }
    expect(codeOf(() => validateRecord(event, 'audit'))).toBe('PAPYRA_INVALID_RECORD');
    expect(codeOf(() => validateRecord(null, 'event'))).toBe('PAPYRA_INVALID_RECORD');
    expect(codeOf(() => validateRecord({ ...event, systemId: 1 }, 'event'))).toBe('PAPYRA_INVALID_RECORD');
    expect(codeOf(() => validateRecord({ ...event, id: 5 }, 'event'))).toBe('PAPYRA_INVALID_RECORD');
  });

  it('checkRecoveryConfig has one rule and one message for every backend', () => {
    expect(checkRecoveryConfig({ mode: 'repair' })).toEqual({ mode: 'repair' });
    expect(checkRecoveryConfig({ mode: 'quarantine', quarantineDir: '/q' })).toEqual({ mode: 'quarantine', quarantineDir: '/q' });
    expect(codeOf(() => checkRecoveryConfig({ mode: 'quarantine' }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(codeOf(() => checkRecoveryConfig({ mode: 'fix' as never }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(codeOf(() => checkRecoveryConfig(undefined as never))).toBe('PAPYRA_INVALID_CONFIG');
  });

  it('ClosedGuard answers PAPYRA_BACKEND_CLOSED after the first close only', () => {
    const guard = new ClosedGuard('x');
    expect(codeOf(() => guard.assertOpen())).toBeUndefined();
    expect(guard.markClosed()).toBe(true);
    expect(guard.markClosed()).toBe(false);
    expect(codeOf(() => guard.assertOpen())).toBe('PAPYRA_BACKEND_CLOSED');
  });

  it('throwIfAborted answers PAPYRA_ABORTED once the signal fired', () => {
    const controller = new AbortController();
    expect(codeOf(() => throwIfAborted('scan', { signal: controller.signal }))).toBeUndefined();
    controller.abort();
    expect(codeOf(() => throwIfAborted('scan', { signal: controller.signal }))).toBe('PAPYRA_ABORTED');
  });

  it('observe* wrappers count successes and failures', async () => {
    const metrics = new PersistenceMetrics();
    await observeScan(metrics, silentLogger, async () => ({ backend: 'x', anomalies: [] }));
    await expect(observeScan(metrics, silentLogger, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(observeCompaction(metrics, silentLogger, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const s = metrics.snapshot();
    expect(s.scans).toBe(1);
    expect(s.scanErrors).toBe(1);
    expect(s.compactionErrors).toBe(1);
  });
});
