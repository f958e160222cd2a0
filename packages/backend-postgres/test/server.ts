import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Throw-away PostgreSQL servers of our own, so that tests can really stop, restart, freeze and
 * thaw them. Loopback only, ports 15500–15599 only (the range assigned to this package's tests),
 * killed by pid when the test ends — also when it fails (afterAll) or the process exits.
 */
export const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
export const serverBinariesAvailable = existsSync(join(PG_BIN, 'pg_ctl'));
if (!serverBinariesAvailable) {
  if (process.env['CI'] === 'true') throw new Error(`PostgreSQL binaries not found in ${PG_BIN} and CI=true`);
  console.warn(`\n!!! SKIPPING throw-away server tests: no PostgreSQL binaries in ${PG_BIN} (set PG_BIN).\n`);
}

const PORTS = { first: 15500, last: 15599 };
const asRoot = process.getuid?.() === 0;

// initdb refuses to run as root: run the server as the postgres user then.
const run = (cmd: string, args: string[]) =>
  asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], { stdio: 'pipe' })
    : execFileSync(join(PG_BIN, cmd), args, { stdio: 'pipe' });

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** Pids of the processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command (field 2) may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

export interface ThrowawayServer {
  url: string;
  port: number;
  /** `pg_ctl start` on the same port and data directory. */
  start(): void;
  /** Immediate shutdown (`pg_ctl stop -m immediate`). */
  stop(): void;
  /** SIGSTOP the postmaster and every backend of this server: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT what freeze stopped. */
  thaw(): void;
  /** Thaws, stops and removes the data directory; safe to call twice. */
  destroy(): void;
}

export async function startThrowawayServer(password = 'not-a-real-secret'): Promise<ThrowawayServer> {
  const dir = mkdtempSync(join(tmpdir(), 'papyra-pg-server-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  let port = 0;
  const start = () =>
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const offset = Math.floor(Math.random() * (PORTS.last - PORTS.first + 1));
  for (let i = 0; i <= PORTS.last - PORTS.first && port === 0; i++) {
    const candidate = PORTS.first + ((offset + i) % (PORTS.last - PORTS.first + 1));
    if (!(await portIsFree(candidate))) continue;
    port = candidate;
    try {
      start();
    } catch {
      port = 0; // taken in the meantime by another test's server
    }
  }
  if (port === 0) throw new Error(`no free port in ${PORTS.first}-${PORTS.last} for a throw-away PostgreSQL`);

  let frozen: number[] = [];
  const postmaster = () => {
    try {
      return Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    } catch {
      return undefined;
    }
  };
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const thaw = () => {
    signal(frozen, 'SIGCONT');
    frozen = [];
  };
  const stop = () => {
    thaw();
    run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  };
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    process.removeListener('exit', destroy);
    thaw();
    const pid = postmaster();
    if (pid !== undefined) {
      signal([pid], 'SIGQUIT'); // immediate shutdown, by pid: exit handlers cannot wait on pg_ctl
      for (let i = 0; i < 100 && existsSync(join(data, 'postmaster.pid')); i++) execFileSync('sleep', ['0.1']);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', destroy);
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    freeze() {
      const pid = postmaster();
      if (pid === undefined) throw new Error('the throw-away server is not running');
      // The postmaster first, so that it starts no new backend meanwhile.
      signal([pid], 'SIGSTOP');
      frozen = [pid, ...childrenOf(pid)];
      signal(frozen.slice(1), 'SIGSTOP');
    },
    thaw,
    destroy,
  };
}
