import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTempName } from '@papyra/backend-ndjson/segments';
import { tempDirs as tempDirsWith } from '@papyra/test-support';

export { codeOf } from '@papyra/test-support';

/** Fresh temp directories, removed by `cleanup()`. */
export const tempDirs = (prefix = 'papyra-reliability-') => tempDirsWith(prefix);

/**
 * The seed of a randomised test: `SEED` from the environment (to replay a failure) or a fresh one.
 * Printed once, so every failing run can be replayed with `SEED=<n> pnpm test -t '<name>'`.
 */
export function seedFor(test: string): number {
  const fromEnv = process.env['SEED'];
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`[${test}] seed=${seed}`);
  return seed;
}

/** A small seeded PRNG (mulberry32): deterministic instants and shapes for a given seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}

/**
 * Figures of a test (kills survived, inputs tried, records checked, records lost), printed and
 * written to `$RELIABILITY_FIGURES_DIR` (default `<tmp>/papyra-reliability-figures`), one JSON file
 * per test; RELIABILITY.md is filled from them.
 */
export function reportFigures(test: string, figures: Record<string, unknown>): void {
  const dir = process.env['RELIABILITY_FIGURES_DIR'] ?? join(tmpdir(), 'papyra-reliability-figures');
  mkdirSync(dir, { recursive: true });
  const entry = { test, at: new Date().toISOString(), ...figures };
  writeFileSync(join(dir, `${test.replace(/[^A-Za-z0-9_-]+/g, '_')}.json`), `${JSON.stringify(entry, null, 2)}\n`);
  console.log(`[${test}] figures ${JSON.stringify(figures)}`);
}

/** Names of the temp files our rewrites leave beside a file when killed. */
export async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => parseTempName(name) !== null);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const childScript = (name: string) => fileURLToPath(new URL(`./children/${name}`, import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Complete stdout lines so far. */
  lines: string[];
  stderr(): string;
  /** Resolves when `predicate(lines)` holds; rejects if the child ends first. */
  waitFor(predicate: (lines: string[]) => boolean): Promise<void>;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * Child processes running scripts of test/children on the built dist of the packages. Every child
 * started is SIGKILLed by `killAll()` (call it in afterEach), so no test leaves one behind.
 */
export function children() {
  const running = new Set<ChildProcess>();
  const start = (script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Child => {
    const proc = spawn(process.execPath, [childScript(script), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    });
    running.add(proc);
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    const listeners = new Set<() => void>();
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      if (parts.length > 0) lines.push(...parts);
      for (const listener of listeners) listener();
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) =>
      proc.on('close', (code) => {
        running.delete(proc);
        for (const listener of listeners) listener();
        resolve(code);
      }),
    );
    const waitFor = (predicate: (lines: string[]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(lines)) {
            listeners.delete(check);
            resolve();
          } else if (proc.exitCode !== null || proc.signalCode !== null) {
            listeners.delete(check);
            reject(new Error(`child ${script} ended early (${proc.exitCode ?? proc.signalCode}): ${stderr}`));
          }
        };
        listeners.add(check);
        check();
      });
    const kill = async () => {
      proc.kill('SIGKILL');
      await exited;
    };
    return { proc, lines, stderr: () => stderr, waitFor, kill, exited };
  };
  const killAll = async () => {
    const procs = [...running];
    for (const proc of procs) proc.kill('SIGKILL');
    await Promise.all(procs.map((proc) => (proc.exitCode !== null || proc.signalCode !== null ? null : new Promise((r) => proc.once('close', r)))));
  };
  return { start, killAll };
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A logger (pino-compatible shape) that keeps every call as text, errors expanded the way a
 * logger's `err` serializer would: type, message, stack, own properties and the cause chain.
 */
export function captureLogger() {
  const entries: string[] = [];
  const make = (bindings: Record<string, unknown>) => {
    const log =
      (level: string) =>
      (...args: unknown[]) =>
        void entries.push(serialize({ level, bindings, args }));
    const logger = {
      trace: log('trace'),
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      fatal: log('fatal'),
      child: (more: Record<string, unknown>) => make({ ...bindings, ...more }),
    };
    return logger;
  };
  return { logger: make({}), text: () => entries.join('\n'), entries };
}

/** JSON of any value with errors expanded (message, stack, own properties, cause), cycles cut. */
export function serialize(value: unknown): string {
  const seen = new WeakSet<object>();
  const expand = (v: unknown): unknown => {
    if (typeof v === 'bigint') return String(v);
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[cycle]';
    seen.add(v);
    if (v instanceof Error) {
      const out: Record<string, unknown> = { type: v.name, message: v.message, stack: v.stack };
      for (const key of Object.keys(v)) out[key] = expand((v as unknown as Record<string, unknown>)[key]);
      if (v.cause !== undefined) out['cause'] = expand(v.cause);
      if (v instanceof AggregateError) out['errors'] = v.errors.map(expand);
      return out;
    }
    if (Array.isArray(v)) return v.map(expand);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) out[key] = expand((v as Record<string, unknown>)[key]);
    return out;
  };
  return JSON.stringify(expand(value));
}
