import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PapyraError, createEvent, type PersistedEvent } from '@papyra/persistence-contract';
import pg from 'pg';
import { PostgresBackend } from '../src/index.js';

// A throw-away PostgreSQL server of our own, so that the test can really stop and restart it.
const BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const available = existsSync(join(BIN, 'pg_ctl'));
if (!available) {
  if (process.env['CI'] === 'true') throw new Error(`PostgreSQL binaries not found in ${BIN} and CI=true`);
  console.warn(`\n!!! SKIPPING the server outage test: no PostgreSQL binaries in ${BIN} (set PG_BIN).\n`);
}

// initdb refuses to run as root: run the server as the postgres user then.
const asServerUser = (cmd: string, args: string[]) =>
  process.getuid?.() === 0 ? execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, cmd), ...args], { stdio: 'pipe' }) : execFileSync(join(BIN, cmd), args, { stdio: 'pipe' });

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const events = (n: number, from: number): PersistedEvent[] =>
  Array.from({ length: n }, (_, i) => createEvent({ systemId: 's', actorAddress: `s:${from + i}`, eventType: 'ActorStarted' }));

(available ? describe : describe.skip)('a real PostgreSQL server stopping and restarting mid-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'papyra-pg-server-'));
  const data = join(dir, 'data');
  let url = '';
  const start = (port: number) => asServerUser('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
  const stop = () => asServerUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  let port = 0;

  beforeAll(async () => {
    if (process.getuid?.() === 0) {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
      chownSync(dir, id('-u'), id('-g'));
    }
    asServerUser('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
    port = await freePort();
    start(port);
    url = `postgres://postgres:not-a-real-secret@127.0.0.1:${port}/postgres`;
  }, 60_000);

  afterAll(() => {
    try {
      stop();
    } catch {
      // already stopped by a failed test
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('buffers while the server is down, drops beyond the bound, and writes the rest in order after restart', async () => {
    const backend = new PostgresBackend({ connectionString: url, connectionTimeoutMillis: 1_000, bufferLimit: 50 });
    const first = events(10, 0);
    await Promise.all(first.map((e) => backend.recordEvent(e)));

    stop();
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

    start(port);
    await until(() => backend.flush().then(() => true, () => false));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ id: string }>('SELECT id FROM papyra_records ORDER BY seq');
    await client.end();
    expect(rows.map((r) => r.id)).toEqual([...first, ...buffered].map((e) => e.id));
    expect(await backend.listEvents()).toEqual([...first, ...buffered]);
    expect(backend.metrics.snapshot().recordsWritten).toBe(60);
    await backend.close();
  }, 60_000);
});
