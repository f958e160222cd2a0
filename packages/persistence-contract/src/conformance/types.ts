import type { BackendCapabilities, PersistenceBackend, WallClock } from '../backend.js';
import type { RetentionPolicy } from '../retention.js';

/** The test runner the suite registers on: Jest, node:test, Mocha, Vitest… must provide `it.skip`. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it: ((name: string, fn: () => Promise<void>) => void) & { skip(name: string, fn: () => Promise<void>): void };
  beforeEach(fn: () => Promise<void> | void): void;
  afterEach(fn: () => Promise<void> | void): void;
}

/** Handed to `make`: a unique namespace (key prefix, schema) and a fresh temp directory per call. */
export interface ConformanceContext {
  namespace: string;
  tmpDir: string;
  /** When present, the backend must apply exactly this policy. */
  retention?: RetentionPolicy;
  /** When present, the backend must use it as its wall clock (age retention). */
  clock?: WallClock;
}

/** Damage the suite asks a harness to inflict on a store, to check scan and recovery. */
export type CorruptionKind = 'torn_tail' | 'corrupt_line' | 'invalid_record' | 'orphan_file';

export interface ConformanceHarness<B extends PersistenceBackend = PersistenceBackend> {
  name: string;
  /** A fresh, isolated backend per call. */
  make(ctx: ConformanceContext): Promise<B>;
  /** The same store through a new instance (the old one is closed first by the suite). */
  reopen?(backend: B): Promise<B>;
  /**
   * Damage the store behind `backend` (already flushed). Kinds not listed in `corruptions` are
   * skipped. The damage is added beside the records already written: it must not alter them.
   */
  corrupt?(backend: B, kind: CorruptionKind): Promise<void>;
  /** The corruption kinds `corrupt` can inflict. */
  corruptions?: readonly CorruptionKind[];
  /** Called after each test with every backend `make` returned (already closed). */
  cleanup?(ctx: ConformanceContext): Promise<void>;
}

/** What a scenario requires; without it the scenario is registered as skipped, with the reason. */
export interface ScenarioNeeds {
  capabilities?: readonly (keyof BackendCapabilities)[];
  /** The harness must provide `reopen`. */
  reopen?: boolean;
  /** The harness must be able to inflict this damage. */
  corruption?: CorruptionKind;
}

/** What a scenario works with; every backend it makes is closed and cleaned up afterwards. */
export interface ScenarioContext<B extends PersistenceBackend = PersistenceBackend> {
  /** The capabilities the suite probed from the harness's backend. */
  readonly capabilities: BackendCapabilities;
  /** A fresh backend on a fresh, empty store. */
  make(options?: { retention?: RetentionPolicy; clock?: WallClock }): Promise<B>;
  /** Closes `backend` and opens its store through a new instance (needs `harness.reopen`). */
  reopen(backend: B): Promise<B>;
  /** Flushes `backend`, then damages its store (needs `harness.corrupt`). */
  corrupt(backend: B, kind: CorruptionKind): Promise<void>;
  /** A fresh empty directory of the scenario's own (e.g. a quarantine directory). */
  scratchDir(): Promise<string>;
  /** The directory handed to `make` for `backend`. */
  tmpDirOf(backend: B): string;
}

/** One check of the suite, as data: run it through `runBackendConformance` or `runScenario`. */
export interface ConformanceScenario {
  /** Groups scenarios (`describe` blocks): round-trip, ordering, query, retention, … */
  topic: string;
  name: string;
  needs: ScenarioNeeds;
  run(ctx: ScenarioContext): Promise<void>;
}
