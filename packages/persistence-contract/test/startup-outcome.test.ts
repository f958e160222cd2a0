import { describe, expect, it } from '@jest/globals';
import { checkStartup, createEvent, runStartupCheck, startupFailureOf, type Logger } from '../src/index.js';
import type { CorruptionKind } from '../src/conformance/index.js';
import { lineStoreHarness } from './support/line-store.js';

async function store(damage?: CorruptionKind) {
  const harness = lineStoreHarness('outcome');
  const backend = await harness.make({ namespace: `outcome-${Math.random()}`, tmpDir: '/nonexistent' });
  for (let i = 0; i < 3; i++) await backend.recordEvent(createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted' }));
  if (damage) await harness.corrupt!(backend, damage);
  return backend;
}

function errorLevels() {
  const errors: string[] = [];
  const make = (): Logger => {
    const noop = () => undefined;
    return {
      trace: noop,
      debug: noop,
      info: noop,
      warn: noop,
      fatal: noop,
      error: (_obj: unknown, msg?: unknown) => void errors.push(String(msg)),
      child: () => make(),
    };
  };
  return { logger: make(), errors };
}

describe('checkStartup (the startup check as a value)', () => {
  it('returns ok with the scan for a clean store', async () => {
    const outcome = await checkStartup(await store());
    expect(outcome).toMatchObject({ ok: true, mode: 'fail_on_anomaly', skipped: false, recovery: null });
  });

  it('returns the failure, typed, without throwing or logging an error, under fail_on_anomaly', async () => {
    const { logger, errors } = errorLevels();
    const outcome = await checkStartup(await store('corrupt_line'), { logger });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.code).toBe('PAPYRA_STARTUP_ANOMALIES');
    expect(outcome.scan.anomalies.length).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('runStartupCheck rejects with details that startupFailureOf reads without a cast', async () => {
    const { logger, errors } = errorLevels();
    let failure: ReturnType<typeof startupFailureOf> = null;
    try {
      await runStartupCheck(await store('corrupt_line'), { logger });
    } catch (error) {
      failure = startupFailureOf(error);
    }
    expect(failure?.code).toBe('PAPYRA_STARTUP_ANOMALIES');
    expect(failure?.scan.anomalies.length).toBeGreaterThan(0);
    expect(errors).toEqual(['refusing to start']);
    expect(startupFailureOf(new Error('other'))).toBeNull();
  });

  it('still throws PAPYRA_INVALID_CONFIG for an unknown mode', async () => {
    await expect(checkStartup(await store(), { mode: 'nope' as never })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_CONFIG' });
  });
});
