import { describe, expect, it } from '@jest/globals';
import { createEvent, runStartupCheck, type Logger, type RecoveryReport, type ScanReport } from '../src/index.js';
import type { CorruptionKind } from '../src/conformance/index.js';
import { lineStoreHarness } from './support/line-store.js';

/** A pino-compatible logger that remembers what it was told. */
function recordingLogger() {
  const entries: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (obj: object | string, msg?: unknown) =>
      void entries.push(
        typeof obj === 'string' ? { level, obj: { ...bindings }, msg: obj } : { level, obj: { ...bindings, ...obj }, msg: msg as string | undefined },
      );
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return { logger: make({}), entries };
}

/** A real reference backend whose store holds 3 valid records and, optionally, some damage. */
async function store(damage?: CorruptionKind) {
  const harness = lineStoreHarness('startup');
  const backend = await harness.make({ namespace: `startup-${Math.random()}`, tmpDir: '/nonexistent' });
  for (let i = 0; i < 3; i++) await backend.recordEvent(createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted' }));
  if (damage) await harness.corrupt!(backend, damage);
  return backend;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; details: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

describe('runStartupCheck', () => {
  it('passes a clean store in every mode without touching it', async () => {
    for (const mode of ['ignore', 'scan_only', 'fail_on_anomaly', 'recover'] as const) {
      const backend = await store();
      const result = await runStartupCheck(backend, { mode });
      expect(result).toMatchObject({ mode, skipped: false, recovery: null, scan: { anomalies: [] } });
      expect(await backend.listEvents()).toHaveLength(3);
    }
  });

  it('defaults to fail_on_anomaly', async () => {
    const error = await rejection(runStartupCheck(await store('corrupt_line')));
    expect(error.code).toBe('PAPYRA_STARTUP_ANOMALIES');
  });

  it("'ignore' starts and logs the anomalies at warn", async () => {
    const backend = await store('torn_tail');
    const { logger, entries } = recordingLogger();
    const result = await runStartupCheck(backend, { mode: 'ignore', logger });
    expect(result.scan?.anomalies.map((a) => a.type)).toEqual(['TRUNCATED_LINE']);
    expect(entries.filter((e) => e.level === 'warn')).toEqual([
      expect.objectContaining({ obj: expect.objectContaining({ component: 'startup-check', backend: 'line-store', anomalies: 1, types: ['TRUNCATED_LINE'] }) }),
    ]);
    expect((await backend.scan()).anomalies).toHaveLength(1);
  });

  it("'scan_only' starts, hands the report to the hook, logs it, and repairs nothing", async () => {
    const backend = await store('corrupt_line');
    const { logger, entries } = recordingLogger();
    const seen: ScanReport[] = [];
    const result = await runStartupCheck(backend, { mode: 'scan_only', logger, onScan: (r) => void seen.push(r) });
    expect(seen).toEqual([result.scan]);
    expect(result.recovery).toBeNull();
    expect(entries.some((e) => e.level === 'warn' && e.obj['anomalies'] === 1)).toBe(true);
    expect((await backend.scan()).anomalies.map((a) => a.type)).toEqual(['CORRUPTED_LINE']);
  });

  it("'fail_on_anomaly' refuses with PAPYRA_STARTUP_ANOMALIES carrying the report", async () => {
    const backend = await store('invalid_record');
    const error = await rejection(runStartupCheck(backend, { mode: 'fail_on_anomaly' }));
    expect(error.code).toBe('PAPYRA_STARTUP_ANOMALIES');
    expect((error.details['scan'] as ScanReport).anomalies.map((a) => a.type)).toEqual(['INVALID_RECORD']);
    expect((await backend.scan()).anomalies).toHaveLength(1);
  });

  it("'recover' repairs (by default), post-scans and starts", async () => {
    const backend = await store('torn_tail');
    const recoveries: RecoveryReport[] = [];
    const result = await runStartupCheck(backend, { mode: 'recover', onRecovery: (r) => void recoveries.push(r) });
    expect(result.recovery).toMatchObject({ mode: 'repair', postScan: { anomalies: [] }, keptRecords: 3 });
    expect(recoveries).toEqual([result.recovery]);
    expect((await backend.scan()).anomalies).toEqual([]);
    expect(await backend.listEvents()).toHaveLength(3);
  });

  it("'recover' with quarantine but no directory fails with PAPYRA_INVALID_CONFIG", async () => {
    const backend = await store('corrupt_line');
    const error = await rejection(runStartupCheck(backend, { mode: 'recover', recovery: { mode: 'quarantine' } }));
    expect(error.code).toBe('PAPYRA_INVALID_CONFIG');
  });

  it("'recover' throws PAPYRA_STARTUP_RECOVERY_INCOMPLETE when anomalies remain", async () => {
    // Repair leaves foreign files alone, so an orphan survives it.
    const backend = await store('orphan_file');
    const error = await rejection(runStartupCheck(backend, { mode: 'recover' }));
    expect(error.code).toBe('PAPYRA_STARTUP_RECOVERY_INCOMPLETE');
    const recovery = error.details['recovery'] as RecoveryReport;
    expect(recovery.postScan.anomalies.map((a) => a.type)).toEqual(['ORPHANED_ROTATED_FILE']);
  });

  it("'recover' on a backend that cannot recover is incomplete, not a silent pass", async () => {
    const backend = await store('corrupt_line');
    Object.defineProperty(backend, 'capabilities', { value: { ...backend.capabilities, recover: false } });
    expect((await rejection(runStartupCheck(backend, { mode: 'recover' }))).code).toBe('PAPYRA_STARTUP_RECOVERY_INCOMPLETE');
  });

  it('skips, and says so, when the backend cannot scan', async () => {
    const backend = await store('corrupt_line');
    Object.defineProperty(backend, 'capabilities', { value: { ...backend.capabilities, scan: false } });
    expect(await runStartupCheck(backend, { mode: 'fail_on_anomaly' })).toEqual({ mode: 'fail_on_anomaly', skipped: true, scan: null, recovery: null });
  });

  it('a throwing hook is logged, never fatal', async () => {
    const { logger, entries } = recordingLogger();
    const result = await runStartupCheck(await store('corrupt_line'), {
      mode: 'scan_only',
      logger,
      onScan: () => {
        throw new Error('hook bug');
      },
    });
    expect(result.scan?.anomalies).toHaveLength(1);
    expect(entries.some((e) => e.level === 'error' && e.obj['err'] instanceof Error && e.obj['hook'] === 'onScan')).toBe(true);
  });

  it('rejects an unknown mode with PAPYRA_INVALID_CONFIG', async () => {
    expect((await rejection(runStartupCheck(await store(), { mode: 'maybe' as 'ignore' }))).code).toBe('PAPYRA_INVALID_CONFIG');
  });
});
