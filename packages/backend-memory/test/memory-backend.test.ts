import { describe, expect, it } from '@jest/globals';
import { createAudit, createDeadLetter, createEvent, encodeRecord, PapyraError, type Logger } from '@papyra/persistence-contract';
import { MemoryBackend } from '../src/index.js';

const event = (n: number, timestamp?: number) =>
  createEvent({ systemId: 's', actorAddress: `s:${n}`, eventType: 'E', payload: { n }, ...(timestamp !== undefined && { timestamp }) });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return PapyraError.isInstance(error) ? error.code : `not a PapyraError: ${String(error)}`;
  }
  return 'resolved';
}

describe('MemoryBackend', () => {
  it('uses the injected clock for age retention, on read and in compact()', async () => {
    let now = 1_000_000;
    const backend = new MemoryBackend({ retention: { maxAgeMs: 1000 }, clock: () => now });
    await backend.recordEvent(event(1, 999_500));
    await backend.recordEvent(event(2, 1_000_000));
    expect((await backend.listEvents()).map((e) => e.payload['n'])).toEqual([1, 2]);
    now = 1_000_600;
    expect((await backend.listEvents()).map((e) => e.payload['n'])).toEqual([2]);
    expect(await backend.compact()).toMatchObject({ beforeRecords: 2, afterRecords: 1, removedRecords: 1 });
    now = 0;
    expect((await backend.listEvents()).map((e) => e.payload['n'])).toEqual([2]);
  });

  it('stores what the codec reads back, and callers cannot change it afterwards', async () => {
    const backend = new MemoryBackend();
    const original = createEvent({ systemId: 's', actorAddress: 's:1', eventType: 'E', payload: { list: [1] } });
    await backend.recordEvent(original);
    original.payload['list'] = 'mutated by the caller';
    const [listed] = await backend.listEvents();
    expect(listed!.payload).toEqual({ list: [1] });
    listed!.payload['list'] = 'mutated by a reader';
    expect((await backend.listEvents())[0]!.payload).toEqual({ list: [1] });
  });

  it('turns a non-JSON payload into a string, as durable backends would', async () => {
    const backend = new MemoryBackend();
    await backend.recordEvent({ ...event(1), payload: { fn: (() => 1) as never, big: 10n as never } });
    expect((await backend.listEvents())[0]!.payload).toEqual({ fn: expect.stringContaining('Function'), big: '10n' });
  });

  it('rejects a record of the wrong kind with PAPYRA_INVALID_RECORD and stores nothing', async () => {
    const backend = new MemoryBackend();
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
    expect(await codeOf(backend.recordEvent(audit as never))).toBe('PAPYRA_INVALID_RECORD');
    expect(await codeOf(backend.recordDeadLetter(event(1) as never))).toBe('PAPYRA_INVALID_RECORD');
    expect(await backend.listEvents()).toEqual([]);
    expect(await backend.listAudits()).toEqual([]);
    expect(backend.metrics.snapshot().recordsWritten).toBe(0);
  });

  it('validates options and recovery configs with typed errors', async () => {
    expect(() => new MemoryBackend({ retention: { maxRecords: -5 } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    const backend = new MemoryBackend();
    expect(await codeOf(backend.recover({ mode: 'shred' as 'repair' }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(await codeOf(backend.recover({ mode: 'quarantine', quarantineDir: '' }))).toBe('PAPYRA_INVALID_CONFIG');
    expect(await backend.recover({ mode: 'quarantine', quarantineDir: '/unused' })).toMatchObject({
      mode: 'quarantine',
      quarantinedFiles: [],
      droppedRecords: 0,
    });
  });

  it('rejects an already aborted operation with PAPYRA_ABORTED', async () => {
    const backend = new MemoryBackend();
    const signal = AbortSignal.abort();
    expect(await codeOf(backend.scan({ signal }))).toBe('PAPYRA_ABORTED');
    expect(await codeOf(backend.compact({ signal }))).toBe('PAPYRA_ABORTED');
    expect(await codeOf(backend.recover({ mode: 'repair' }, { signal }))).toBe('PAPYRA_ABORTED');
    expect(backend.metrics.snapshot()).toMatchObject({ scans: 0, compactions: 0, recoveries: 0 });
  });

  it('reports progress of scans and compactions', async () => {
    const backend = new MemoryBackend();
    await backend.recordEvent(event(1));
    await backend.recordEvent(event(2));
    const seen: unknown[] = [];
    await backend.scan({ onProgress: (p) => seen.push(p) });
    await backend.compact({ onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([
      { phase: 'scan', processed: 2, total: 2, unit: 'entries' },
      { phase: 'compact', processed: 2, total: 2, unit: 'entries' },
    ]);
  });

  it('logs through a child logger bound to its component and backend', async () => {
    const bindings: Record<string, unknown>[] = [];
    const messages: string[] = [];
    const logger: Logger = {
      trace: () => {},
      debug: () => {},
      info: (_obj: unknown, msg?: unknown) => void messages.push(String(msg)),
      warn: () => {},
      error: () => {},
      fatal: () => {},
      child: (b) => {
        bindings.push(b);
        return logger;
      },
    };
    const backend = new MemoryBackend({ logger, retention: { maxRecords: 1 } });
    await backend.compact();
    expect(messages).toEqual([]); // nothing removed, nothing to say
    await backend.recordEvent(event(1));
    await backend.recordEvent(event(2));
    await backend.compact();
    expect(bindings).toEqual([{ component: 'persistence', backend: 'memory' }]);
    expect(messages).toEqual(['store compacted']);
  });
});

describe('MemoryBackend.records()', () => {
  it('streams the visible records with their lines, by kind, within the window', async () => {
    const backend = new MemoryBackend({ retention: { maxRecords: 2 } });
    for (let i = 1; i <= 3; i++) await backend.recordEvent(event(i, 1_000 * i));
    await backend.recordDeadLetter(createDeadLetter({ systemId: 's', target: 's:1', messageType: 'Ping', timestamp: 2_500 }));
    const all = [];
    for await (const r of backend.records()) all.push(r);
    expect(all.map((r) => [r.record.kind, r.record.timestamp])).toEqual([
      ['event', 2_000],
      ['event', 3_000],
      ['dead_letter', 2_500],
    ]);
    expect(all[0]!.line).toBe(encodeRecord(all[0]!.record));
    const windowed = [];
    for await (const r of backend.records({ kinds: ['event'], since: 2_500, until: 10_000 })) windowed.push(r.record.timestamp);
    expect(windowed).toEqual([3_000]);
  });
});
