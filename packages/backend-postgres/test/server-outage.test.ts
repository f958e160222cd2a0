import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PapyraError, createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import pg from 'pg';
import { PostgresBackend } from '../src/index.js';
import { serverBinariesAvailable, startThrowawayServer, type ThrowawayServer } from './server.js';

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const events = (n: number, from: number): PersistedEvent[] =>
  Array.from({ length: n }, (_, i) => createEvent({ systemId: 's', actorAddress: `s:${from + i}`, eventType: 'ActorStarted' }));
const codeOf = (e: unknown) => (PapyraError.isInstance(e) ? e.code : `not a PapyraError: ${String(e)}`);

/** How long `work` took to settle, and how. */
async function timed<T>(work: Promise<T>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: Date.now() - start, error };
}

async function storedIds(url: string, table: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY seq`)).rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

(serverBinariesAvailable ? describe : describe.skip)('a real PostgreSQL server of our own stopping, freezing and coming back', () => {
  let server: ThrowawayServer;

  beforeAll(async () => {
    server = await startThrowawayServer();
  }, 60_000);

  afterAll(() => server?.destroy());

  it('buffers while the server is down, drops beyond the bound, and writes the rest in order after restart', async () => {
    const backend = new PostgresBackend({ connectionString: server.url, table: 'restart', connectionTimeoutMillis: 1_000, bufferLimit: 50 });
    const first = events(10, 0);
    await Promise.all(first.map((e) => backend.recordEvent(e)));

    server.stop();
    const buffered = events(50, 100);
    const overflow = events(10, 200);
    await backend.recordEvent(buffered[0]!); // meets the outage; resolves once buffered
    const outcomes = await Promise.allSettled([...buffered.slice(1), ...overflow].map((e) => backend.recordEvent(e)));
    expect(outcomes.slice(0, 49).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes.slice(49).every((o) => o.status === 'rejected' && PapyraError.hasCode(o.reason, 'PAPYRA_BACKEND_UNAVAILABLE'))).toBe(true);
    const readError = await backend.listEvents().catch((e: unknown) => e);
    expect(PapyraError.hasCode(readError, 'PAPYRA_BACKEND_UNAVAILABLE')).toBe(true);
    expect(String((readError as Error).message)).not.toContain('not-a-real-secret');
    expect(backend.metrics.snapshot().recordsDropped).toBe(10);

    server.start();
    await until(() =>
      backend.flush().then(
        () => true,
        () => false,
      ),
    );
    expect(await storedIds(server.url, 'restart')).toEqual([...first, ...buffered].map((e) => e.id));
    expect(await backend.listEvents()).toEqual([...first, ...buffered]);
    expect(backend.metrics.snapshot().recordsWritten).toBe(60);
    await backend.close();
  }, 60_000);

  it('a frozen server (SIGSTOP): writes, flush, lists, probe and close all end within their bounds; stored + dropped = accepted', async () => {
    // Every step is bounded by about 2 s here (acquire 1 s; statement 1 s + 1 s client grace).
    // The limit below is generous for a loaded 2-core machine; without bounds these calls wait
    // until the server thaws (never, in this test).
    const bounds = { connectionTimeoutMillis: 1_000, acquireTimeoutMs: 1_000, statementTimeoutMs: 1_000, lockTimeoutMs: 500 };
    const LIMIT_MS = 9_000;
    const closing = new PostgresBackend({ connectionString: server.url, table: 'frozen', ...bounds });
    const resuming = new PostgresBackend({ connectionString: server.url, table: 'frozen', systemId: 'other', ...bounds });
    await closing.ensureSchema();
    const before = events(20, 0);
    await Promise.all(before.map((e) => closing.recordEvent(e)));

    server.freeze();
    const accepted = { closing: events(150, 100), resuming: events(30, 300) };
    try {
      const writes = await timed(
        Promise.all([...accepted.closing.map((e) => closing.recordEvent(e)), ...accepted.resuming.map((e) => resuming.recordEvent(e))]),
      );
      expect(writes.error).toBeUndefined(); // resolved once buffered
      expect(writes.ms).toBeLessThan(LIMIT_MS);

      const flush = await timed(closing.flush());
      expect(codeOf(flush.error)).toBe('PAPYRA_BACKEND_UNAVAILABLE');
      expect(flush.ms).toBeLessThan(LIMIT_MS);

      const list = await timed(closing.listEvents());
      expect(codeOf(list.error)).toBe('PAPYRA_BACKEND_UNAVAILABLE');
      expect(list.ms).toBeLessThan(LIMIT_MS);

      const probe = await timed(closing.probe({ timeoutMs: 500 }));
      expect(codeOf(probe.error)).toBe('PAPYRA_BACKEND_UNAVAILABLE');
      expect(probe.ms).toBeLessThan(LIMIT_MS);

      const close = await timed(closing.close());
      expect(codeOf(close.error)).toBe('PAPYRA_BACKEND_UNAVAILABLE');
      expect(close.ms).toBeLessThan(LIMIT_MS);
    } finally {
      server.thaw();
    }
    // The closed backend counted what it could not store; the other one writes its buffer now.
    expect(closing.metrics.snapshot().recordsDropped).toBe(150);
    await until(() =>
      resuming.flush().then(
        () => true,
        () => false,
      ),
    );
    const stored = await storedIds(server.url, 'frozen');
    expect(stored).toEqual([...before, ...accepted.resuming].map((e) => e.id));
    expect(stored.length + closing.metrics.snapshot().recordsDropped + resuming.metrics.snapshot().recordsDropped).toBe(before.length + 150 + 30);
    await resuming.close();
  }, 60_000);
});
