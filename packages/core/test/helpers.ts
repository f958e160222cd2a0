import {
  PersistenceMetrics,
  applyListQuery,
  type BackendCapabilities,
  type ListQuery,
  type Logger,
  type PersistedAudit,
  type PersistedDeadLetter,
  type PersistedEvent,
  type PersistedRecord,
  type PersistenceBackend,
  type RecoveryReport,
  type ScanReport,
} from '@papyra/persistence-contract';

/**
 * A minimal backend for assertions: keeps records in arrays, and can be told to throw, reject or
 * hang on writes. (Replace with MemoryBackend once @papyra/backend-memory is built.)
 */
export class RecordingBackend implements PersistenceBackend {
  readonly name = 'recording';
  readonly capabilities: BackendCapabilities = { scan: true, recover: true, quarantine: false, compact: false, metrics: true, durable: false };
  readonly retention = {};
  readonly metrics = new PersistenceMetrics();
  readonly kept: PersistedRecord[] = [];
  /** `discard` accepts writes without keeping them (memory tests). */
  mode: 'ok' | 'discard' | 'throw' | 'reject' | 'hang' = 'ok';
  accepted = 0;
  flushes = 0;
  closed = false;
  anomalies: ScanReport['anomalies'] = [];

  #write(record: PersistedRecord): Promise<void> {
    if (this.mode === 'throw') throw new Error('disk on fire');
    if (this.mode === 'reject') return Promise.reject(new Error('disk full'));
    if (this.mode === 'hang') return new Promise(() => {});
    this.accepted += 1;
    if (this.mode === 'discard') return Promise.resolve();
    this.kept.push(record);
    this.metrics.recordWritten(record.kind, 1, 0, 0);
    return Promise.resolve();
  }

  recordEvent(e: PersistedEvent) {
    return this.#write(e);
  }
  recordAudit(a: PersistedAudit) {
    return this.#write(a);
  }
  recordDeadLetter(d: PersistedDeadLetter) {
    return this.#write(d);
  }
  async listEvents(q?: ListQuery) {
    return applyListQuery(
      this.kept.filter((r): r is PersistedEvent => r.kind === 'event'),
      q,
    );
  }
  async listAudits(q?: ListQuery) {
    return applyListQuery(
      this.kept.filter((r): r is PersistedAudit => r.kind === 'audit'),
      q,
    );
  }
  async listDeadLetters(q?: ListQuery) {
    return applyListQuery(
      this.kept.filter((r): r is PersistedDeadLetter => r.kind === 'dead_letter'),
      q,
    );
  }
  async scan(): Promise<ScanReport> {
    return { backend: this.name, anomalies: [...this.anomalies] };
  }
  async recover(): Promise<RecoveryReport> {
    const scan = await this.scan();
    const dropped = this.anomalies.length;
    this.anomalies = [];
    return {
      backend: this.name,
      mode: 'repair',
      scan,
      postScan: await this.scan(),
      repairedFiles: [],
      quarantinedFiles: [],
      keptRecords: this.kept.length,
      droppedRecords: dropped,
    } as RecoveryReport;
  }
  async compact(): Promise<never> {
    throw new Error('not supported');
  }
  async flush() {
    this.flushes += 1;
  }
  async close() {
    this.closed = true;
  }

  events(address?: string): string[] {
    return this.kept.filter((r): r is PersistedEvent => r.kind === 'event' && (address === undefined || r.actorAddress === address)).map((r) => r.eventType);
  }
}

export interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A pino-compatible logger that remembers what was logged. */
export function recordingLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (obj: unknown, msg?: unknown): void => {
        if (typeof obj === 'string') entries.push({ level, obj: { ...bindings }, msg: obj });
        else entries.push({ level, obj: { ...bindings, ...(obj as object) }, msg: msg as string | undefined });
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { entries });
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls until `check` holds (or fails after `ms`); for conditions reached asynchronously, never for timing. */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The rejection of a promise expected to reject. */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}
