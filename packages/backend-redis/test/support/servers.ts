/**
 * Throwaway redis-server processes and a 3-master Redis Cluster for fault tests. Loopback only,
 * ports 17000–17099 only (cluster bus ports included, via `cluster-port`), each process killed by
 * pid when its test file ends and, as a last resort, when the jest worker exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function assertOurPort(port: number): void {
  if (!Number.isInteger(port) || port < 17000 || port > 17099) throw new Error(`port ${port} is outside 17000–17099`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A client for poking at a throwaway server directly (never used by the backend under test). */
export function admin(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => 200, enableOfflineQueue: true });
  client.on('error', () => undefined);
  return client;
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  readonly #args: string[];
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, args: string[]) {
    this.port = port;
    this.dir = dir;
    this.#args = args;
  }

  /** Starts `redis-server` on 127.0.0.1:`port` with a private directory; `args` are extra config. */
  static async start(port: number, args: string[] = []): Promise<RedisServer> {
    assertOurPort(port);
    const dir = await mkdtemp(join(tmpdir(), `papyra-redis-${port}-`));
    const server = new RedisServer(port, dir, args);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** (Re)starts the process in the same directory (its data and nodes.conf survive), waits until it answers. */
  async restart(extra: string[] = []): Promise<void> {
    if (this.#child) throw new Error('already running');
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no', ...this.#args, ...extra],
      { stdio: 'ignore' },
    );
    live.add(child);
    child.once('exit', () => live.delete(child));
    this.#child = child;
    await this.waitUp();
  }

  /** Waits until the server answers anything (LOADING counts: the process is up). */
  async waitUp(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const probe = new Redis({
        port: this.port,
        host: '127.0.0.1',
        lazyConnect: true,
        enableReadyCheck: false,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (error) {
        if (/LOADING/.test(String(error))) return;
        if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
        await sleep(50);
      } finally {
        probe.disconnect();
      }
    }
  }

  freeze(): void {
    this.#child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.#child?.kill('SIGCONT');
  }

  /** SIGKILL: the process dies at once (nothing flushed that appendfsync did not already flush). */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface TestCluster {
  masters: RedisServer[];
  /** `redis://127.0.0.1:<port>` of every master, as seed nodes. */
  nodes: string[];
  /** The master serving `key`'s slot. */
  masterOf(key: string): Promise<RedisServer>;
  /** Waits until every node reports `cluster_state:ok`. */
  waitOk(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A 3-master cluster, no replicas, on `ports` (bus ports at `port + busOffset`, inside our range).
 * AOF with `appendfsync always` so a SIGKILLed master restarts with every write it acknowledged.
 */
export async function startCluster(ports: [number, number, number], busOffset: number): Promise<TestCluster> {
  for (const port of ports) assertOurPort(port + busOffset);
  const masters = await Promise.all(
    ports.map((port) =>
      RedisServer.start(port, [
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(port + busOffset),
        '--cluster-node-timeout',
        '1000',
        '--cluster-config-file',
        'nodes.conf',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
      ]),
    ),
  );
  const stop = async () => {
    await Promise.all(masters.map((m) => m.stop()));
  };
  try {
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 30_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  const cluster: TestCluster = {
    masters,
    nodes: ports.map((p) => `redis://127.0.0.1:${p}`),
    async masterOf(key) {
      const client = admin(ports[0]);
      try {
        const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
        const slots = (await client.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
        const port = slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
        return masters.find((m) => m.port === port)!;
      } finally {
        client.disconnect();
      }
    },
    async waitOk(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const states = await Promise.all(
          masters.map(async (m) => {
            const client = admin(m.port);
            try {
              return String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok');
            } catch {
              return false;
            } finally {
              client.disconnect();
            }
          }),
        );
        if (states.every(Boolean)) return;
        if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok');
        await sleep(100);
      }
    },
    stop,
  };
  await cluster.waitOk();
  return cluster;
}
