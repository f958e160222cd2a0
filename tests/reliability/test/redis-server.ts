import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './support.js';

/**
 * A throw-away redis-server of this test's own (never the shared one): no persistence, its own
 * port and directory. `kill()` is a SIGKILL; `start()` brings it back on the same port, empty.
 */
export async function ownRedisServer(options: { password?: string } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'papyra-redis-'));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (options.password) args.push('--requirepass', options.password);

  const listening = () =>
    new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });

  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start(): Promise<void> {
      proc = spawn('redis-server', args, { stdio: 'ignore' });
      for (let i = 0; !(await listening()); i++) {
        if (i > 500) throw new Error('redis-server did not start');
        await sleep(10);
      }
    },
    async kill(): Promise<void> {
      const running = proc;
      proc = null;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const gone = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await gone;
    },
    async stop(): Promise<void> {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
