import type { PersistenceBackend, WallClock } from '../backend.js';
import type { RetentionPolicy } from '../retention.js';

/** The test runner the suite registers on: Jest, node:test, Mocha, Vitest… must provide `it.skip`. */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): void;
  it: ((name: string, fn: () => Promise<void>) => void) & { skip(name: string, fn?: () => Promise<void>): void };
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
  /** Damage the store behind `backend` (already flushed). Kinds not listed in `corruptions` are skipped. */
  corrupt?(backend: B, kind: CorruptionKind): Promise<void>;
  /** The corruption kinds `corrupt` can inflict. */
  corruptions?: readonly CorruptionKind[];
  /** Called after each test with every backend `make` returned (already closed). */
  cleanup?(ctx: ConformanceContext): Promise<void>;
}

export declare function runBackendConformance<B extends PersistenceBackend>(runner: ConformanceRunner, harness: ConformanceHarness<B>): Promise<void>;
