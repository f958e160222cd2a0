import { resolve } from 'node:path';
import {
  encodeRecord,
  normalizeRetention,
  silentLogger,
  systemClock,
  type Logger,
  type OperationOptions,
  type PersistedRecord,
  type PersistenceMetrics,
  type RecordKind,
  type RecoveryConfig,
  type RetentionPolicy,
  type WallClock,
} from '@papyra/persistence-contract';
import { validateRecord } from '@papyra/persistence-contract/kit';
import { invalidConfig } from '../errors.js';
import type { SegmentFs } from './fs.js';
import { DEFAULT_MAX_LINE_BYTES } from './lines.js';
import type { FsyncMode, SegmentWriter, SegmentWriterOptions } from './writer.js';

/*
 * What a file backend class does around the segment primitives that the contract's kit does not
 * already do for every backend: its options, feeding the writer's counts into metrics, encoding a
 * record for the writer, and the signal and progress options of a primitive.
 */

/** The options every backend built on the segment primitives takes. */
export interface FileBackendOptions {
  path: string;
  /** Default `'interval'`: a process crash loses nothing written, a power loss at most `fsyncIntervalMs`. */
  fsync?: FsyncMode;
  /** For `fsync: 'interval'`; default 1000. */
  fsyncIntervalMs?: number;
  retention?: RetentionPolicy;
  /** Wall clock for age retention; default `Date.now`. */
  clock?: WallClock;
  logger?: Logger;
  /** Lines longer than this are CORRUPTED_LINE anomalies and never held in memory; default 16 MiB. */
  maxLineBytes?: number;
  /**
   * The file system appends and rewrites write through; default `node:fs`. For fault-injection
   * tests (`FaultyFs` in `testing/faulty-fs`): reads, locks and quarantine copies use `node:fs`.
   */
  fs?: SegmentFs;
}

/** `FileBackendOptions` checked, with their defaults filled in. */
export interface FileBackendSettings {
  /** Absolute. */
  path: string;
  fsync: FsyncMode;
  fsyncIntervalMs?: number;
  retention: RetentionPolicy;
  clock: WallClock;
  /** The logger's `{ component: 'persistence', backend }` child. */
  log: Logger;
  maxLineBytes: number;
}

const FSYNC_MODES: readonly FsyncMode[] = ['never', 'interval', 'always'];

/**
 * Checks the options of a file backend (PAPYRA_INVALID_CONFIG) and fills in the defaults. `integers`
 * names the backend's own options that must be positive safe integers; those in `required` must be given.
 */
export function normalizeFileOptions<O extends FileBackendOptions, K extends keyof O & string>(
  backend: string,
  options: O,
  integers: { optional?: readonly K[]; required?: readonly K[] } = {},
): FileBackendSettings {
  if (typeof options?.path !== 'string' || options.path === '') throw invalidConfig(`The ${backend} backend needs a non-empty \`path\`.`);
  const fsync = options.fsync ?? 'interval';
  if (!FSYNC_MODES.includes(fsync)) throw invalidConfig(`fsync must be one of ${FSYNC_MODES.join(', ')}, got ${JSON.stringify(fsync)}.`, { fsync });
  const required: readonly string[] = integers.required ?? [];
  for (const key of [...required, 'fsyncIntervalMs', 'maxLineBytes', ...(integers.optional ?? [])]) {
    const value = (options as Record<string, unknown>)[key];
    if ((value !== undefined || required.includes(key)) && (!Number.isSafeInteger(value) || (value as number) <= 0)) {
      throw invalidConfig(`${key} must be a positive integer, got ${JSON.stringify(value)}.`, { [key]: value });
    }
  }
  return {
    path: resolve(options.path),
    fsync,
    ...(options.fsyncIntervalMs !== undefined && { fsyncIntervalMs: options.fsyncIntervalMs }),
    retention: normalizeRetention(options.retention),
    clock: options.clock ?? systemClock,
    log: (options.logger ?? silentLogger).child({ component: 'persistence', backend }),
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
  };
}

/** The recovery modes that rewrite files (what the kit's `checkRecoveryConfig` returns for them). */
export type RewriteRecovery = RecoveryConfig & { mode: 'repair' | 'quarantine' };

/** The writer hooks that count committed and failed batches in the backend's metrics. */
export function writerMetrics(metrics: PersistenceMetrics): Pick<SegmentWriterOptions, 'onCommit' | 'onError'> {
  return {
    onCommit: (commit) => {
      for (const kind of ['event', 'audit', 'dead_letter'] as const) {
        const slot = commit.byKind[kind];
        if (slot.records > 0) metrics.recordWritten(kind, slot.records, slot.bytes, commit.latencyMs);
      }
    },
    onError: (error, records) => metrics.writeFailed(records, error),
  };
}

/**
 * Validates (the kit's `validateRecord`: nothing is accepted that would read back as an
 * INVALID_RECORD) and encodes one record, and hands it to the writer; a refused record is a failed write.
 */
export function appendRecord(writer: SegmentWriter, metrics: PersistenceMetrics, record: PersistedRecord, kind: RecordKind): Promise<void> {
  let line: string;
  try {
    validateRecord(record, kind);
    line = encodeRecord(record);
  } catch (error) {
    metrics.writeFailed(1, error);
    return Promise.reject(error);
  }
  return writer.append(line, kind);
}

/**
 * The signal and progress options of a segment primitive for one phase of an operation. With
 * `span`, the primitive reads one file of several: its bytes count on from `span.offset` out of
 * `span.total`.
 */
export function segmentOperation(
  options: OperationOptions,
  phase: 'scan' | 'recover' | 'compact',
  span?: { offset: number; total: number },
): { signal?: AbortSignal; onProgress?: (processed: number, total: number) => void } {
  const { signal, onProgress } = options;
  return {
    ...(signal && { signal }),
    ...(onProgress && {
      onProgress: (processed: number, total: number) =>
        onProgress(span ? { phase, processed: span.offset + processed, total: span.total, unit: 'bytes' } : { phase, processed, total, unit: 'bytes' }),
    }),
  };
}
