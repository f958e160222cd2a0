import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DATABASE_URL, papyra, parseJson, requireService, tempDir } from './helpers.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SECRET = 'Sup3r-S3cret-pw';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

const withPassword = (url: string) => {
  const u = new URL(url);
  u.username = u.username || 'default';
  u.password = SECRET;
  return u.toString();
};

describe('unreachable servers exit 69 and never print credentials', () => {
  it('redis', async () => {
    const run = await papyra(['persistence', 'scan', '--redis-url', `redis://admin:${SECRET}@127.0.0.1:1`], { cwd: dir });
    expect(run.code).toBe(69);
    expect(run.stderr).toContain('PAPYRA_BACKEND_UNAVAILABLE');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    const json = await papyra(['doctor', 'run', '--json', '--log-level', 'debug'], {
      cwd: dir,
      env: { PAPYRA_REDIS_URL: `redis://admin:${SECRET}@127.0.0.1:1` },
    });
    expect(json.code).toBe(69);
    expect(parseJson(json).error.code).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    expect(json.stdout + json.stderr).not.toContain(SECRET);
  });

  it('a Redis Cluster named by --redis-nodes or PAPYRA_REDIS_NODES / PAPYRA_REDIS_CLUSTER is tried as one (69), never a usage error', async () => {
    const nodes = await papyra(['persistence', 'scan', '--redis-nodes', `redis://admin:${SECRET}@127.0.0.1:1,127.0.0.1:2`], { cwd: dir });
    expect(nodes.code).toBe(69);
    expect(nodes.stdout + nodes.stderr).not.toContain(SECRET);
    const env = await papyra(['doctor', 'run', '--json'], { cwd: dir, env: { PAPYRA_REDIS_NODES: '127.0.0.1:1', PAPYRA_REDIS_CLUSTER: 'true' } });
    expect(parseJson(env).error).toMatchObject({ code: 'PAPYRA_BACKEND_UNAVAILABLE', exitCode: 69 });
  });

  it('postgres', async () => {
    const run = await papyra(['inspect', 'summary', '--database-url', `postgres://postgres:${SECRET}@127.0.0.1:1/test`, '--log-level', 'trace'], { cwd: dir });
    expect(run.code).toBe(69);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });
});

describe('real servers: credentials stay out of every output', () => {
  it('redis with a password in the URL', async () => {
    if (!(await requireService(REDIS_URL, 'Redis'))) return;
    const url = withPassword(REDIS_URL);
    for (const args of [
      ['persistence', 'scan'],
      ['doctor', 'run', '--json'],
      ['inspect', 'summary', '--log-level', 'trace'],
    ]) {
      const run = await papyra([...args, '--redis-url', url, '--prefix', `papyra-cli-test-${process.pid}`], { cwd: dir });
      // A server without AUTH configured may accept any password for the default user.
      expect(run.stdout + run.stderr).not.toContain(SECRET);
      if (run.code === 0 && !args.includes('--json')) expect(run.stdout).toContain(':***@');
    }
  });

  it('redis scan of an empty, unique prefix is clean', async () => {
    if (!(await requireService(REDIS_URL, 'Redis'))) return;
    const run = await papyra(['persistence', 'scan', '--redis-url', REDIS_URL, '--prefix', `papyra-cli-test-${process.pid}`, '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(parseJson(run)).toMatchObject({ backend: 'redis', clean: true });
  });

  it('redis with a wrong password is a configuration error (78), as with PostgreSQL', async () => {
    if (!(await requireService(REDIS_URL, 'Redis'))) return;
    const u = new URL(REDIS_URL);
    // A user that does not exist: refused by every server, with or without requirepass.
    u.username = `papyra-cli-nobody-${process.pid}`;
    u.password = SECRET;
    const run = await papyra(['persistence', 'scan', '--redis-url', u.toString(), '--prefix', `papyra-cli-test-${process.pid}`], { cwd: dir });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('PAPYRA_INVALID_CONFIG');
    expect(run.stderr).toContain('hint: the server refused the credentials');
    expect(run.stdout + run.stderr).not.toContain(SECRET);
  });

  it('postgres with a password, against a database that does not exist', async () => {
    if (!(await requireService(DATABASE_URL, 'PostgreSQL'))) return;
    const u = new URL(withPassword(DATABASE_URL));
    u.pathname = '/papyra_cli_no_such_db';
    const run = await papyra(['persistence', 'scan', '--database-url', u.toString(), '--log-level', 'trace'], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).not.toContain(SECRET);
    expect(run.stderr).toContain('papyra_cli_no_such_db');
  });
});
