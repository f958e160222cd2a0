import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Processes this file started; killed on exit even if a test fails before its afterAll. */
const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
});

const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** A free port in the range this package may use for throw-away servers (16000–16099). */
export async function freePortInRange(from = 16000, to = 16099): Promise<number> {
  const offset = Math.floor(Math.random() * (to - from + 1));
  for (let i = 0; i <= to - from; i++) {
    const port = from + ((offset + i) % (to - from + 1));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${from}–${to}`);
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
      .once('connect', () => {
        socket.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false));
  });

/** Our own redis-server on loopback: freeze (SIGSTOP), thaw, kill and restart it. */
export class ThrowawayRedis {
  child: ChildProcess | undefined;
  #dir = '';

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#dir ||= await mkdtemp(join(tmpdir(), 'papyra-http-redis-'));
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir], {
      stdio: 'ignore',
    });
    started.add(child);
    child.once('exit', () => started.delete(child));
    this.child = child;
    for (let i = 0; i < 200 && !(await accepts(this.port)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  }

  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Runs SQL through psql (a session of its own); throws on failure. */
export function psql(sql: string): string {
  const out = spawnSync('psql', [DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-Atqc', sql], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`psql failed: ${out.stderr}`);
  return out.stdout;
}

export const databaseReachable = spawnSync('psql', [DATABASE_URL, '-Atqc', 'SELECT 1'], { encoding: 'utf8' }).stdout?.trim() === '1';

export const uniqueSchema = (prefix: string) => `papyra_${prefix}_${randomBytes(4).toString('hex')}`;

/** A psql session holding `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` until `release()`. */
export async function lockTable(table: string): Promise<{ release(): Promise<void> }> {
  const child = spawn('psql', [DATABASE_URL, '-Atq'], { stdio: ['pipe', 'pipe', 'inherit'] });
  started.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve)).finally(() => started.delete(child));
  let out = '';
  const locked = new Promise<void>((resolve) =>
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve();
    }),
  );
  child.stdin!.write(`BEGIN;\nLOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n`);
  await locked;
  return {
    async release() {
      child.stdin!.end('ROLLBACK;\n');
      await exited;
    },
  };
}
