import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresBackend } from '@papyra/backend-postgres';
import { createAudit, createDeadLetter, createEvent } from '@papyra/persistence-contract';
import { DATABASE_URL, MIN, T0, papyra, parseJson, requireService, sql, tempDir } from './helpers.js';

// One random schema for this file, dropped afterwards; the CLI reaches it with --schema / PAPYRA_SCHEMA.
const SCHEMA = `papyra_cli_${process.pid}_${randomBytes(4).toString('hex')}`;
const TABLE = 'cli_records';
const STORE = ['--database-url', DATABASE_URL, '--schema', SCHEMA, '--table', TABLE];

let up = false;
let dir: string;
let cleanup: () => void;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  up = await requireService(DATABASE_URL, 'PostgreSQL');
  if (!up) return;
  const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: SCHEMA, table: TABLE });
  await backend.ensureSchema();
  for (let i = 1; i <= 3; i++) {
    await backend.recordEvent(createEvent({ systemId: 'local', actorAddress: `local:${i}`, eventType: 'ActorStarted', payload: {}, timestamp: T0 + i * MIN }));
  }
  await backend.recordDeadLetter(createDeadLetter({ systemId: 'local', target: 'local:2', messageType: 'Ping', payload: { n: 1 }, timestamp: T0 + 5 * MIN }));
  await backend.recordAudit(
    createAudit({
      systemId: 'local',
      timestamp: T0 + 6 * MIN,
      totalActors: 3,
      aliveActors: 3,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: 3,
      registryOrphans: [],
      registryDead: [],
      deadLettersCount: 1,
    }),
  );
  await backend.close();
  // Another system sharing the table writes through its own backend.
  const other = new PostgresBackend({ connectionString: DATABASE_URL, schema: SCHEMA, table: TABLE, systemId: 'other' });
  await other.recordEvent(createEvent({ systemId: 'other', actorAddress: 'other:1', eventType: 'ActorStarted', payload: {}, timestamp: T0 + 4 * MIN }));
  await other.close();
}, 30_000);

afterAll(async () => {
  if (up) await sql(DATABASE_URL, `DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`, `DROP SCHEMA IF EXISTS "${SCHEMA}_absent" CASCADE`);
  cleanup();
});

const table = `"${SCHEMA}"."${TABLE}"`;

describe('postgres, end to end', () => {
  it('a schema or table that does not exist reads as an empty store, and the CLI creates nothing', async () => {
    if (!up) return;
    const absent = ['--database-url', DATABASE_URL, '--schema', `${SCHEMA}_absent`];
    const scan = await papyra(['persistence', 'scan', ...absent], { cwd: dir });
    expect(scan.code).toBe(0);
    expect(scan.stdout).toContain(`schema ${SCHEMA}_absent, table papyra_records): clean, no anomalies.`);
    const summary = parseJson(
      await papyra(['inspect', 'summary', '--json'], {
        cwd: dir,
        env: { PAPYRA_DATABASE_URL: DATABASE_URL, PAPYRA_SCHEMA: SCHEMA, PAPYRA_TABLE: 'no_such_table' },
      }),
    );
    expect(summary.counts).toEqual({ events: 0, audits: 0, deadLetters: 0 });
    const created = await sql(DATABASE_URL, [
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = $1 OR (table_schema = $2 AND table_name LIKE 'no_such_table%')`,
      [`${SCHEMA}_absent`, SCHEMA],
    ]);
    expect(created).toEqual([]);
  });

  it('inspect, --system-id and metrics see the table the options name', async () => {
    if (!up) return;
    const inspect = parseJson(await papyra(['persistence', 'inspect', ...STORE, '--all-systems', '--limit', '1', '--json'], { cwd: dir }));
    expect(inspect).toMatchObject({
      backend: 'postgres',
      stats: { events: { records: 4 }, audits: { records: 1 }, deadLetters: { records: 1 }, total: { records: 6 } },
    });
    // A structured description, never a credential (the URL's password would be ***).
    expect(inspect.store).toEqual({ backend: 'postgres', url: DATABASE_URL, schema: SCHEMA, table: TABLE, allSystems: true });
    expect(inspect.latest.events[0].actorAddress).toBe('other:1');
    const local = parseJson(await papyra(['inspect', 'events', ...STORE, '--system-id', 'local', '--json'], { cwd: dir }));
    expect(local.events.map((e: { actorAddress: string }) => e.actorAddress)).toEqual(['local:1', 'local:2', 'local:3']);
    const metrics = await papyra(['metrics', 'persistence', ...STORE, '--all-systems', '--json'], { cwd: dir });
    expect(metrics.code).toBe(0);
    expect(parseJson(metrics)).toMatchObject({ backend: 'postgres', stored: { total: { records: 6 } }, process: { recordsWritten: 0 } });
  });

  it('scan flags a row corrupted by SQL (exit 2), repair deletes only that row (exit 0), compact applies retention', async () => {
    if (!up) return;
    await sql(DATABASE_URL, [
      `INSERT INTO ${table} (id, kind, system_id, timestamp_ms, data) VALUES ('bad-row', 'event', 'local', $1, '{"kind": "event", "timest')`,
      [T0],
    ]);
    const scan = await papyra(['persistence', 'scan', ...STORE], { cwd: dir });
    expect(scan.code).toBe(2);
    expect(scan.stdout).toMatch(new RegExp(`${SCHEMA}\\.${TABLE} CORRUPTED_ENTRY row seq=\\d+ id=bad-row`));
    expect(scan.stderr).toContain('hint: run papyra persistence recover --mode repair --backend postgres <same store options>');

    // The operator's view of the whole table: every system's rows.
    const repair = await papyra(['persistence', 'recover', '--mode', 'repair', ...STORE, '--all-systems', '--json'], { cwd: dir });
    expect(repair.code).toBe(0);
    expect(parseJson(repair)).toMatchObject({
      clean: true,
      mode: 'repair',
      keptRecords: 6,
      droppedRecords: 1,
      scan: { anomalies: [{ type: 'CORRUPTED_ENTRY' }] },
      postScan: { anomalies: [] },
    });
    expect(await sql(DATABASE_URL, `SELECT id FROM ${table} WHERE id = 'bad-row'`)).toEqual([]);

    const compact = await papyra(['persistence', 'compact', ...STORE, '--all-systems', '--max-records', '1', '--json'], { cwd: dir });
    expect(compact.code).toBe(0);
    expect(parseJson(compact)).toMatchObject({ backend: 'postgres', beforeRecords: 6, afterRecords: 3, removedRecords: 3 });
    expect(await sql(DATABASE_URL, `SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 3 }]);
  });

  it('quarantine moves a bad row to a file and keeps the clean ones', async () => {
    if (!up) return;
    await sql(DATABASE_URL, `INSERT INTO ${table} (id, kind, system_id, timestamp_ms, data) VALUES ('not-a-record', 'event', 'local', 0, '[1, 2, 3]')`);
    const run = await papyra(['persistence', 'recover', '--mode', 'quarantine', '--quarantine-dir', 'pgq', ...STORE], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('the store is clean.');
    const files = readdirSync(join(dir, 'pgq'));
    expect(files).toHaveLength(1);
    expect(readFileSync(join(dir, 'pgq', files[0]!), 'utf8')).toContain('[1, 2, 3]');
  });
});

// A throw-away server with password authentication, so that a wrong password really fails.
const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const SECRET = 'Corr3ct-Horse-Pw';

describe('postgres with password authentication', () => {
  const asServerUser = (cmd: string, args: string[]) =>
    process.getuid?.() === 0
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(join(PG_BIN, cmd), args, { stdio: 'pipe' });
  let server: { data: string; port: number } | undefined;
  let removeServerDir = () => {};

  beforeAll(async () => {
    if (!existsSync(join(PG_BIN, 'pg_ctl'))) {
      if (process.env['CI'] === 'true') throw new Error(`PostgreSQL binaries not found in ${PG_BIN} (CI=true)`);
      console.warn(`\n*** SKIPPED: no PostgreSQL binaries in ${PG_BIN} (set PG_BIN) for the password test. ***\n`);
      return;
    }
    const { dir: root, cleanup: removeRoot } = tempDir();
    removeServerDir = removeRoot;
    // initdb refuses to run as root: the server runs as the postgres user, in a directory it owns.
    if (process.getuid?.() === 0) {
      const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
      chownSync(root, id('-u'), id('-g'));
    }
    const pwfile = join(root, 'pw');
    writeFileSync(pwfile, `${SECRET}\n`, { mode: 0o644 });
    const data = join(root, 'data');
    asServerUser('initdb', ['-D', data, '-U', 'postgres', '-A', 'scram-sha-256', `--pwfile=${pwfile}`]);
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    asServerUser('pg_ctl', ['-D', data, '-l', join(root, 'log'), '-w', '-o', `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`, 'start']);
    server = { data, port };
  }, 60_000);

  afterAll(() => {
    if (server) asServerUser('pg_ctl', ['-D', server.data, '-m', 'immediate', '-w', 'stop']);
    removeServerDir();
  });

  it('a wrong password is a configuration error (78) and neither password is ever printed', async () => {
    if (!server) return;
    const wrong = 'Wr0ng-Guess-Pw';
    const url = (pw: string) => `postgres://postgres:${pw}@127.0.0.1:${server!.port}/postgres`;
    const failed = await papyra(['persistence', 'scan', '--database-url', url(wrong), '--log-level', 'trace'], { cwd: dir });
    expect(failed.code).toBe(78);
    expect(failed.stderr).toContain('password authentication failed');
    expect(failed.stdout + failed.stderr).not.toContain(wrong);
    const json = await papyra(['doctor', 'run', '--json'], { cwd: dir, env: { PAPYRA_DATABASE_URL: url(wrong) } });
    expect(parseJson(json).error).toMatchObject({ code: 'PAPYRA_INVALID_CONFIG', exitCode: 78 });
    expect(json.stdout + json.stderr).not.toContain(wrong);

    const ok = await papyra(['inspect', 'summary', '--database-url', url(SECRET), '--log-level', 'trace'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`postgres://postgres:***@127.0.0.1:${server.port}/postgres`);
    expect(ok.stdout + ok.stderr).not.toContain(SECRET);
  });
});
