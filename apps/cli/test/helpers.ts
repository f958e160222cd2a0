import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { createAudit, createDeadLetter, createEvent } from '@papyra/persistence-contract';
import { main } from '../src/cli.js';

const here = dirname(fileURLToPath(import.meta.url));
export const CLI_DIR = resolve(here, '..');
export const BIN = resolve(CLI_DIR, 'bin/papyra.js');
export const FIXTURE = resolve(here, '../../../fixtures/papyra-py/system.ndjson');
export const STUBBORN_STORE = resolve(here, 'fixtures/stubborn-store.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of the test process without PAPYRA_* variables or jest's NODE_OPTIONS. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PAPYRA_') && k !== 'NODE_OPTIONS'));
  return { ...env, ...extra };
}

/** Runs the built papyra binary as a user would. */
export function papyra(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI's `main` in this process, stderr not a terminal: the same code the binary runs, without
 * the cost of a subprocess. Keep subprocess tests for what a user sees end to end.
 */
export async function papyraInProcess(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stderrIsTTY: false,
    env: options.env ?? {},
    cwd: options.cwd,
    now: () => Date.now(),
  });
  return { code, stdout, stderr };
}

/** `--json` output must be exactly one JSON document. */
export function parseJson(run: Run): Record<string, any> {
  return JSON.parse(run.stdout) as Record<string, any>;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'papyra-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A writable copy of the Python Papyra fixture. */
export function copyFixture(dir: string, name = 'system.ndjson'): string {
  const path = join(dir, name);
  copyFileSync(FIXTURE, path);
  chmodSync(path, 0o600);
  return path;
}

export const T0 = Date.parse('2025-01-01T00:00:00Z');
export const MIN = 60_000;

/** A store with known content: 5 events (2 actors), 2 audits, 3 dead letters at T0 + n minutes. */
export async function writeStore(path: string, now = Date.now()): Promise<void> {
  const backend = new NdjsonBackend({ path, fsync: 'always' });
  const ev = (eventType: string, actorAddress: string, minutes: number, payload: object = {}) =>
    backend.recordEvent(createEvent({ systemId: 'local', actorAddress, eventType, payload, timestamp: T0 + minutes * MIN }));
  await ev('ActorStarted', 'local:1', 0);
  await ev('ActorStarted', 'local:2', 1);
  await ev('ActorCrashed', 'local:1', 2, { error: 'Error: boom', reason: 'Error: boom' });
  await ev('ActorRestarted', 'local:1', 3, { reason: 'actor restarted' });
  await backend.recordAudit(
    createAudit({
      systemId: 'local',
      timestamp: T0 + 4 * MIN,
      totalActors: 2,
      aliveActors: 2,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: 2,
      registryOrphans: [],
      registryDead: [],
      deadLettersCount: 0,
    }),
  );
  await ev('ActorStopped', 'local:2', 5, { reason: 'stopped' });
  await backend.recordDeadLetter(createDeadLetter({ systemId: 'local', target: 'local:2', messageType: 'Ping', payload: { n: 1 }, timestamp: T0 + 6 * MIN }));
  await backend.recordDeadLetter(createDeadLetter({ systemId: 'local', target: 'local:2', messageType: 'Ping', payload: { n: 2 }, timestamp: T0 + 7 * MIN }));
  await backend.recordDeadLetter(createDeadLetter({ systemId: 'local', target: 'local:9', messageType: 'Hello', payload: 'hi ✓', timestamp: now - 5 * MIN }));
  await backend.recordAudit(
    createAudit({
      systemId: 'local',
      timestamp: now - 4 * MIN,
      totalActors: 2,
      aliveActors: 1,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: 1,
      registryOrphans: [],
      registryDead: ['local:2'],
      deadLettersCount: 3,
    }),
  );
  await backend.close();
}

/** Whether a TCP server answers at the URL's host and port. */
export function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () => {
      socket.end();
      resolvePromise(true);
    });
    socket.on('error', () => resolvePromise(false));
  });
}

/** Unreachable services fail the test under CI and are skipped loudly otherwise. */
export async function requireService(url: string, name: string): Promise<boolean> {
  if (await reachable(url)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${name} at ${new URL(url).host} is unreachable (CI=true)`);
  console.warn(`\n*** SKIPPED: ${name} at ${new URL(url).host} is unreachable; start it to run this test. ***\n`);
  return false;
}

export const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Runs SQL statements on one connection and returns the rows of the last. */
export async function sql(url: string, ...statements: (string | [string, unknown[]])[]): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let rows: Record<string, unknown>[] = [];
    for (const statement of statements) {
      const [text, params] = typeof statement === 'string' ? [statement, []] : statement;
      rows = (await client.query(text, params)).rows;
    }
    return rows;
  } finally {
    await client.end();
  }
}
