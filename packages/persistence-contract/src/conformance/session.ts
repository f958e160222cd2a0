import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendCapabilities, PersistenceBackend } from '../backend.js';
import type { ConformanceContext, ConformanceHarness, ConformanceScenario, CorruptionKind, ScenarioContext } from './types.js';

const newContext = async (): Promise<ConformanceContext> => ({
  // Lower-case letters, digits and underscores: valid as a Redis prefix and a PostgreSQL schema.
  namespace: `papyra_cf_${randomBytes(6).toString('hex')}`,
  tmpDir: await mkdtemp(join(tmpdir(), 'papyra-conformance-')),
});

/**
 * Runs one scenario against fresh backends of `harness`, then closes every backend it made, calls
 * `harness.cleanup` for every context and removes the temp directories, whatever the outcome.
 * A failure of the scenario wins over a failure of the teardown.
 */
export async function runScenario<B extends PersistenceBackend>(
  harness: ConformanceHarness<B>,
  scenario: ConformanceScenario,
  capabilities: BackendCapabilities,
): Promise<void> {
  const session = new Session(harness, capabilities);
  let failure: unknown;
  try {
    await scenario.run(session as unknown as ScenarioContext);
  } catch (error) {
    failure = error;
  }
  const teardownError = await session.teardown();
  if (failure !== undefined) throw failure;
  if (teardownError !== undefined) throw teardownError;
}

/** Makes one backend to read its capabilities, then disposes of it like a scenario would. */
export async function probeCapabilities<B extends PersistenceBackend>(harness: ConformanceHarness<B>): Promise<BackendCapabilities> {
  const session = new Session(harness, null);
  let capabilities: BackendCapabilities;
  try {
    capabilities = { ...(await session.make()).capabilities };
  } catch (error) {
    await session.teardown();
    throw error;
  }
  const error = await session.teardown();
  if (error !== undefined) throw error;
  return capabilities;
}

class Session<B extends PersistenceBackend> implements ScenarioContext<B> {
  readonly #harness: ConformanceHarness<B>;
  readonly #capabilities: BackendCapabilities | null;
  readonly #contexts: ConformanceContext[] = [];
  readonly #scratch: string[] = [];
  readonly #backends = new Map<B, ConformanceContext>();

  constructor(harness: ConformanceHarness<B>, capabilities: BackendCapabilities | null) {
    this.#harness = harness;
    this.#capabilities = capabilities;
  }

  get capabilities(): BackendCapabilities {
    if (this.#capabilities === null) throw new Error('capabilities are not known while probing');
    return this.#capabilities;
  }

  async make(options: Pick<ConformanceContext, 'retention' | 'clock'> = {}): Promise<B> {
    const ctx = { ...(await newContext()), ...options };
    this.#contexts.push(ctx);
    const backend = await this.#harness.make(ctx);
    this.#backends.set(backend, ctx);
    return backend;
  }

  async reopen(backend: B): Promise<B> {
    if (!this.#harness.reopen) throw new Error(`harness ${this.#harness.name} has no reopen`);
    await backend.close();
    const next = await this.#harness.reopen(backend);
    this.#backends.set(next, this.#contextOf(backend));
    return next;
  }

  async corrupt(backend: B, kind: CorruptionKind): Promise<void> {
    if (!this.#harness.corrupt || !this.#harness.corruptions?.includes(kind)) throw new Error(`harness ${this.#harness.name} cannot inflict ${kind}`);
    await backend.flush();
    await this.#harness.corrupt(backend, kind);
  }

  async scratchDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'papyra-conformance-scratch-'));
    this.#scratch.push(dir);
    return dir;
  }

  tmpDirOf(backend: B): string {
    return this.#contextOf(backend).tmpDir;
  }

  #contextOf(backend: B): ConformanceContext {
    const ctx = this.#backends.get(backend);
    if (!ctx) throw new Error('this backend was not made by the conformance session');
    return ctx;
  }

  /** Returns the first error met, after trying every step. */
  async teardown(): Promise<unknown> {
    let first: unknown;
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        first ??= error;
      }
    };
    for (const backend of this.#backends.keys()) await attempt(() => backend.close());
    for (const ctx of this.#contexts) if (this.#harness.cleanup) await attempt(() => this.#harness.cleanup!(ctx));
    for (const dir of [...this.#contexts.map((c) => c.tmpDir), ...this.#scratch]) await attempt(() => rm(dir, { recursive: true, force: true }));
    return first;
  }
}
