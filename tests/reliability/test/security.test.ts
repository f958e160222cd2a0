// File modes, quarantine paths, credentials in errors and logs, memory on hostile input.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { PostgresBackend } from '@papyra/backend-postgres';
import { RedisBackend } from '@papyra/backend-redis';
import { createEvent, encodeRecord, type PersistenceBackend } from '@papyra/persistence-contract';
import { ownRedisServer } from './redis-server.js';
import { captureLogger, children, freePort, reportFigures, serialize, tempDirs } from './support.js';

const dirs = tempDirs();
const procs = children();
afterEach(() => procs.killAll());
afterAll(() => dirs.cleanup());

const bin = fileURLToPath(new URL('../../../apps/cli/bin/papyra.js', import.meta.url));
const event = (n: number) => createEvent({ systemId: 'sec', actorAddress: `sec:${n}`, eventType: 'ActorStarted', payload: { n } });

/** Every file and directory under `root`, relative, sorted. */
async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      out.push(relative(root, full));
      if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(root);
  return out.sort();
}

describe('file modes', () => {
  it('data, lock, compaction output and quarantine copies are 0600 and new directories 0700, even under umask 0', async () => {
    const dir = await dirs.make();
    const child = procs.start('modes.mjs', [dir]);
    expect(await child.exited).toBe(0);
    const modes = JSON.parse(child.lines[0]!) as Record<string, unknown>;
    expect(modes).toEqual({
      data: '600',
      lock: '600',
      directory: '700',
      compacted: '600',
      repaired: '600',
      quarantineDir: '700',
      // The original file and the dead process's leftover temp (created 0666 here): both copies 0600.
      quarantined: ['600', '600'],
      names: 2,
    });
  });
});

describe('quarantine paths', () => {
  const hostileNames = ['..\n..\netc', '...', '.hidden.ndjson', 'a b;rm -rf ~', 'ünï✓.ndjson', '..\\..\\x.ndjson', '%2e%2e%2fx', '-rf', 'x'.repeat(180)];

  it('hostile file names and quarantine dirs with ../ segments: every copy lands directly inside the resolved quarantine dir, nothing else changes', async () => {
    const root = await dirs.make();
    const data = join(root, 'data');
    await mkdir(data);
    let copies = 0;
    for (const name of hostileNames) {
      const path = join(data, name);
      const valid = encodeRecord(event(1));
      await writeFile(path, `${valid}\nnot json\n`);
      // A leftover of a dead process beside it (pid 2^22 + 1 is above any pid_max).
      const leftover = `${path}.papyra-tmp-4194305-0badf00d`;
      await writeFile(leftover, 'leftover');
      const before = await tree(root);
      // Absolute, with ../ segments: resolves to <root>/q.
      const quarantineDir = join(data, 'sub', '..', '..', 'q');
      const backend = new NdjsonBackend({ path });
      const report = await backend.recover({ mode: 'quarantine', quarantineDir });
      await backend.close();
      expect(report.quarantinedFiles).toHaveLength(2);
      for (const copy of report.quarantinedFiles) {
        expect(relative(join(root, 'q'), copy)).not.toMatch(/^\.\.|[\\/]/);
        copies += 1;
      }
      const after = await tree(root);
      const added = after.filter((p) => !before.includes(p));
      const removed = before.filter((p) => !after.includes(p));
      expect(added.every((p) => p === 'q' || (p.startsWith('q/') && !p.slice(2).includes('/')))).toBe(true);
      expect(removed).toEqual([relative(root, leftover)]);
      expect(await readFile(path, 'utf8')).toBe(`${valid}\n`);
    }
    // Many quarantines of one file within the same second: every copy a new name, none overwritten.
    const path = join(data, 'same.ndjson');
    for (let i = 0; i < 20; i++) {
      await writeFile(path, `{"kind": "event", "timestamp": ${i}}\n\u0000${i}\n`);
      const backend = new NdjsonBackend({ path });
      await backend.recover({ mode: 'quarantine', quarantineDir: join(root, 'q') });
      await backend.close();
    }
    const names = (await readdir(join(root, 'q'))).filter((n) => n.startsWith('same.ndjson.'));
    expect(names).toHaveLength(20);
    const contents = await Promise.all(names.map((n) => readFile(join(root, 'q', n), 'utf8')));
    expect(new Set(contents).size).toBe(20);
    reportFigures('security quarantine paths', { hostileNames: hostileNames.length, copiesChecked: copies + names.length, escapes: 0 });
  });

  it('a quarantine dir that is a file, and the CLI with --quarantine-dir ../: a typed error or a copy inside it, the data untouched', async () => {
    const root = await dirs.make();
    const path = join(root, 'store.ndjson');
    const damaged = `${encodeRecord(event(2))}\n{"kind":\n`;
    await writeFile(path, damaged);
    await writeFile(join(root, 'not-a-dir'), 'x');
    const backend = new NdjsonBackend({ path });
    await expect(backend.recover({ mode: 'quarantine', quarantineDir: join(root, 'not-a-dir') })).rejects.toMatchObject({
      code: expect.stringMatching(/^PAPYRA_/),
    });
    await expect(backend.recover({ mode: 'quarantine', quarantineDir: '' })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_CONFIG' });
    await backend.close();
    expect(await readFile(path, 'utf8')).toBe(damaged);

    await mkdir(join(root, 'work'));
    // Relative paths are relative to the working directory, as in any command.
    const cli = await promisify(execFile)(
      process.execPath,
      [bin, 'persistence', 'recover', '--mode', 'quarantine', '--quarantine-dir', '../q', '--path', '../store.ndjson', '--json'],
      {
        cwd: join(root, 'work'),
      },
    );
    expect(JSON.parse(cli.stdout)).toMatchObject({ clean: true });
    expect(await readdir(join(root, 'q'))).toHaveLength(1);
    expect(await tree(root)).toEqual(['not-a-dir', 'q', `q/${(await readdir(join(root, 'q')))[0]}`, 'store.ndjson', 'work']);
  });
});

describe('credentials never leak', () => {
  const secret = 'S3cret-Pa55-Xq7';

  /** Runs every operation of a backend that cannot work, collecting the errors. */
  async function exercise(backend: PersistenceBackend): Promise<unknown[]> {
    const errors: unknown[] = [];
    const attempt = async (action: () => Promise<unknown>) => {
      try {
        await action();
      } catch (error) {
        errors.push(error);
      }
    };
    await attempt(() => backend.recordEvent(event(1)));
    await attempt(() => backend.listEvents({ limit: 5 }));
    await attempt(() => backend.scan());
    await attempt(() => backend.recover({ mode: 'repair' }));
    await attempt(() => backend.compact());
    await attempt(() => backend.flush());
    await attempt(() => backend.close());
    return errors;
  }

  /** Every place the password shows up: in a thrown error (any property, cause or stack) or a log entry. */
  function leaks(what: string, errors: unknown[], logs: readonly string[]): string[] {
    const found: string[] = [];
    const leaked = (text: string) => text.includes(secret) || text.includes(encodeURIComponent(secret));
    errors.forEach((error, i) => {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('PAPYRA_')) found.push(`${what}: error ${i} is not a PapyraError: ${String(error)}`);
      const text = serialize(error);
      if (leaked(text)) found.push(`${what}: error ${i} (${String(code)}): ${excerpt(text)}`);
    });
    logs.forEach((entry, i) => leaked(entry) && found.push(`${what}: log entry ${i}: ${excerpt(entry)}`));
    return found;
  }

  function excerpt(text: string): string {
    const at = Math.max(text.indexOf(secret), text.indexOf(encodeURIComponent(secret)));
    return text.slice(Math.max(0, at - 160), at + secret.length + 20);
  }

  it('Redis: an unreachable server and a wrong password, in thrown errors (all properties, causes, stacks) and in logs', async () => {
    const closed = await freePort();
    const guarded = await ownRedisServer({ password: 'the-right-one' });
    const found: string[] = [];
    try {
      for (const [what, url] of [
        ['redis unreachable', `redis://papyra:${secret}@127.0.0.1:${closed}`],
        ['redis wrong password', `redis://default:${secret}@127.0.0.1:${guarded.port}`],
      ] as const) {
        const capture = captureLogger();
        const backend = new RedisBackend({
          url,
          prefix: 'reliability-sec',
          logger: capture.logger,
          connectTimeoutMs: 300,
          readyTimeoutMs: 600,
          commandTimeoutMs: 600,
          flushTimeoutMs: 800,
        });
        const errors = await exercise(backend);
        expect(errors.length).toBeGreaterThan(0);
        found.push(...leaks(what, errors, capture.entries));
      }
    } finally {
      await guarded.stop();
    }
    expect(found).toEqual([]);
  }, 30_000);

  it('PostgreSQL: an unreachable server and a database that does not exist, in thrown errors and in logs', async () => {
    const closed = await freePort();
    const found: string[] = [];
    for (const [what, connectionString] of [
      ['postgres unreachable', `postgres://postgres:${secret}@127.0.0.1:${closed}/test`],
      ['postgres no such database', `postgres://postgres:${secret}@127.0.0.1:5432/papyra_reliability_no_such_db`],
    ] as const) {
      const capture = captureLogger();
      const backend = new PostgresBackend({
        connectionString,
        logger: capture.logger,
        connectionTimeoutMillis: 500,
        applicationName: 'papyra-reliability-sec',
      });
      const errors = await exercise(backend);
      expect(errors.length).toBeGreaterThan(0);
      found.push(...leaks(what, errors, capture.entries));
    }
    expect(found).toEqual([]);
  }, 30_000);

  it('the CLI binary at trace log level: stdout and stderr never contain the password', async () => {
    const closed = await freePort();
    const runs: [string, number][] = [];
    for (const args of [
      ['persistence', 'scan', '--redis-url', `redis://papyra:${secret}@127.0.0.1:${closed}`, '--json'],
      ['inspect', 'summary', '--database-url', `postgres://postgres:${secret}@127.0.0.1:${closed}/test`],
      ['doctor', 'run', '--database-url', `postgres://postgres:${secret}@127.0.0.1:5432/papyra_reliability_no_such_db`, '--json'],
    ]) {
      const out = await promisify(execFile)(process.execPath, [bin, ...args, '--log-level', 'trace']).then(
        (r) => ({ ...r, code: 0 }),
        (error: { stdout: string; stderr: string; code: number }) => error,
      );
      expect(`${out.stdout}\n${out.stderr}`).not.toContain(secret);
      expect(`${out.stdout}\n${out.stderr}`).not.toContain(encodeURIComponent(secret));
      runs.push([args[0]!, out.code]);
    }
    expect(runs.map(([, code]) => code)).toEqual([69, 69, expect.any(Number)]);
    expect(runs[2]![1]).not.toBe(0);
  }, 30_000);
});

describe('bounded memory on hostile input', () => {
  it('a 200 MB line without a newline: scan reports it, lists skip it, the CLI exits 2, and no process peaks over 100 MB RSS', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'huge.ndjson');
    const chunk = Buffer.alloc(4 * 1024 * 1024, 'a');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path, { mode: 0o600 });
      out.on('error', reject);
      let written = 0;
      const pump = () => {
        while (written < 50) {
          written += 1;
          if (!out.write(chunk)) return void out.once('drain', pump);
        }
        out.end(resolve);
      };
      pump();
    });
    const size = (await stat(path)).size;
    expect(size).toBe(200 * 1024 * 1024);

    const read = async (op: string) => {
      const child = procs.start('memory.mjs', [path, op]);
      expect(await child.exited).toBe(0);
      return JSON.parse(child.lines[0]!) as { result: unknown; maxRssBytes: number };
    };
    const peaks: Record<string, number> = {};
    const torn = await read('scan');
    expect(torn.result).toEqual([{ type: 'TRUNCATED_LINE', line: 1, offset: 0 }]);
    peaks['scan torn'] = torn.maxRssBytes;
    const cli = await read('cli-scan');
    expect(cli.result).toEqual({ code: 2, anomalies: [{ type: 'TRUNCATED_LINE', line: 1, offset: 0 }] });
    peaks['cli scan torn'] = cli.maxRssBytes;

    // Terminated and followed by a record: an over-long CORRUPTED_LINE, and the record is still read.
    await appendFile(path, `\n${encodeRecord(event(7))}\n`);
    const oversized = await read('scan');
    expect(oversized.result).toEqual([{ type: 'CORRUPTED_LINE', line: 1, offset: 0 }]);
    peaks['scan oversized'] = oversized.maxRssBytes;
    for (const op of ['list', 'list-limit']) {
      const listed = await read(op);
      expect(listed.result).toBe(1);
      peaks[op] = listed.maxRssBytes;
    }
    const mb = Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, Math.round(v / 1024 / 1024)]));
    reportFigures('security memory', { lineBytes: size, peakRssMb: mb });
    for (const [op, bytes] of Object.entries(peaks)) expect({ op, underLimit: bytes < 100 * 1024 * 1024 }).toEqual({ op, underLimit: true });
  }, 60_000);
});
