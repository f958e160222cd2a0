import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  PersistenceMetrics,
  applyListQuery,
  backendClosedError,
  encodeRecord,
  inspectLine,
  normalizeListQuery,
  normalizeRetention,
  retainedMask,
  systemClock,
  type Anomaly,
  type BackendCapabilities,
  type CompactionReport,
  type ListQuery,
  type PersistedAudit,
  type PersistedDeadLetter,
  type PersistedEvent,
  type PersistedRecord,
  type PersistenceBackend,
  type RecordKind,
  type RecoveryConfig,
  type RecoveryReport,
  type RetentionPolicy,
  type ScanReport,
  type WallClock,
  type ReadOptions,
  type StoredRecord,
} from '../../src/index.js';
import { checkRecoveryConfig, validateRecord } from '../../src/kit/index.js';
import type { ConformanceHarness, CorruptionKind } from '../../src/conformance/index.js';

/**
 * A reference backend for testing the conformance suite itself: an NDJSON "file" held in a shared
 * in-memory disk, so it can be reopened and damaged. Small but complete; the broken variants in
 * broken-backends.ts each change one behaviour of it.
 */
export class Disk {
  readonly files = new Map<string, string>();
}

export interface Parsed {
  line: string;
  record: PersistedRecord;
}

export interface LineStoreOptions {
  disk: Disk;
  path: string;
  retention?: RetentionPolicy | undefined;
  clock?: WallClock | undefined;
}

export class LineStoreBackend implements PersistenceBackend {
  readonly name: string = 'line-store';
  readonly capabilities: BackendCapabilities = { scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true };
  readonly retention: RetentionPolicy;
  readonly metrics = new PersistenceMetrics();
  readonly disk: Disk;
  readonly path: string;
  protected readonly clock: WallClock;
  protected closed = false;

  constructor(options: LineStoreOptions) {
    this.disk = options.disk;
    this.path = options.path;
    this.retention = normalizeRetention(options.retention);
    this.clock = options.clock ?? systemClock;
  }

  recordEvent(event: PersistedEvent): Promise<void> {
    return this.append('event', event);
  }
  recordAudit(audit: PersistedAudit): Promise<void> {
    return this.append('audit', audit);
  }
  recordDeadLetter(deadLetter: PersistedDeadLetter): Promise<void> {
    return this.append('dead_letter', deadLetter);
  }
  listEvents(query?: ListQuery): Promise<PersistedEvent[]> {
    return this.list('event', query) as Promise<PersistedEvent[]>;
  }
  listAudits(query?: ListQuery): Promise<PersistedAudit[]> {
    return this.list('audit', query) as Promise<PersistedAudit[]>;
  }
  listDeadLetters(query?: ListQuery): Promise<PersistedDeadLetter[]> {
    return this.list('dead_letter', query) as Promise<PersistedDeadLetter[]>;
  }

  async scan(): Promise<ScanReport> {
    this.checkOpen();
    const report = { backend: this.name, anomalies: [...this.parse().anomalies, ...this.orphans().map((path) => orphanAnomaly(path))] };
    this.metrics.scanned(report);
    return report;
  }

  async recover(config: RecoveryConfig): Promise<RecoveryReport> {
    this.checkOpen();
    checkRecoveryConfig(config);
    const scan = await this.scan();
    const { records } = this.parse();
    const report: RecoveryReport = {
      backend: this.name,
      mode: config.mode,
      scan,
      postScan: scan,
      repairedFiles: [],
      quarantinedFiles: [],
      keptRecords: records.length,
      droppedRecords: 0,
    };
    if (config.mode !== 'ignore' && scan.anomalies.length > 0) {
      if (config.mode === 'quarantine') {
        const moved = this.disk.files.has(this.path) && scan.anomalies.some((a) => a.path === this.path) ? [this.path] : [];
        for (const path of [...moved, ...this.orphans()]) {
          const target = join(config.quarantineDir!, `${path.replace(/\W/g, '_')}.${randomBytes(4).toString('hex')}.quarantined`);
          await mkdir(config.quarantineDir!, { recursive: true });
          await writeFile(target, this.disk.files.get(path)!);
          report.quarantinedFiles.push(target);
          if (path !== this.path) this.disk.files.delete(path);
        }
      }
      report.droppedRecords = this.repairInPlace(records);
      report.repairedFiles.push(this.path);
      report.postScan = await this.scan();
    }
    this.metrics.recovered();
    return report;
  }

  /** Rewrites the file with only the valid records; returns how many damaged lines went. */
  protected repairInPlace(records: Parsed[]): number {
    const dropped = this.parse().anomalies.length;
    this.disk.files.set(this.path, records.map((r) => `${r.line}\n`).join(''));
    return dropped;
  }

  async compact(): Promise<CompactionReport> {
    this.checkOpen();
    const { records } = this.parse();
    const mask = this.mask(records);
    const kept = records.filter((_, i) => mask[i]);
    const size = (rs: Parsed[]) => rs.reduce((sum, r) => sum + Buffer.byteLength(r.line) + 1, 0);
    if (this.disk.files.has(this.path)) this.rewrite(kept);
    this.metrics.compacted();
    const beforeBytes = size(records);
    const afterBytes = size(kept);
    return {
      backend: this.name,
      beforeRecords: records.length,
      afterRecords: kept.length,
      beforeBytes,
      afterBytes,
      removedRecords: records.length - kept.length,
      reclaimedBytes: beforeBytes - afterBytes,
    };
  }

  /** Streams the visible records with their stored lines (the optional `records()` of the contract). */
  async *records(options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
    this.checkOpen();
    const { records } = this.parse();
    const mask = this.mask(records);
    for (let i = 0; i < records.length; i++) {
      const { line, record } = records[i]!;
      if (!mask[i] || (options.kinds && !options.kinds.includes(record.kind))) continue;
      if (options.since !== undefined && record.timestamp < options.since) continue;
      if (options.until !== undefined && !(record.timestamp < options.until)) continue;
      yield { record, line };
    }
  }

  protected rewrite(kept: Parsed[]): void {
    this.disk.files.set(this.path, kept.map((r) => `${r.line}\n`).join(''));
  }

  async flush(): Promise<void> {
    this.checkOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  protected async append(kind: RecordKind, record: PersistedRecord): Promise<void> {
    this.checkOpen();
    validateRecord(record, kind);
    const line = encodeRecord(record);
    const content = this.disk.files.get(this.path) ?? '';
    // After a torn tail, start a fresh line so the new record stays whole.
    const sep = content === '' || content.endsWith('\n') ? '' : '\n';
    this.disk.files.set(this.path, `${content}${sep}${line}\n`);
    this.metrics.recordWritten(record.kind, 1, Buffer.byteLength(line) + 1, 0);
  }

  protected async list(kind: RecordKind, query: ListQuery | undefined): Promise<PersistedRecord[]> {
    this.checkOpen();
    const q = normalizeListQuery(query);
    const { records } = this.parse();
    const mask = this.mask(records);
    return applyListQuery(
      records.filter((r, i) => mask[i] && r.record.kind === kind).map((r) => r.record),
      q,
    );
  }

  protected mask(records: Parsed[]): boolean[] {
    const items = records.map(({ line, record }) => ({ kind: record.kind, timestamp: record.timestamp, bytes: Buffer.byteLength(line) + 1 }));
    return retainedMask(items, this.retention, this.clock());
  }

  protected parse(): { records: Parsed[]; anomalies: Anomaly[] } {
    const content = this.disk.files.get(this.path) ?? '';
    const records: Parsed[] = [];
    const anomalies: Anomaly[] = [];
    let offset = 0;
    let number = 0;
    while (offset < content.length) {
      number += 1;
      const end = content.indexOf('\n', offset);
      const line = content.slice(offset, end < 0 ? content.length : end);
      const at = Buffer.byteLength(content.slice(0, offset));
      if (end < 0) {
        anomalies.push({ type: 'TRUNCATED_LINE', path: this.path, line: number, offset: at, detail: 'no terminating newline' });
      } else {
        const verdict = inspectLine(line);
        if (verdict.ok) records.push({ line, record: verdict.record });
        else anomalies.push({ type: verdict.type, path: this.path, line: number, offset: at, detail: verdict.detail });
      }
      offset = end < 0 ? content.length : end + 1;
    }
    return { records, anomalies };
  }

  protected orphans(): string[] {
    return [...this.disk.files.keys()].filter((path) => path.startsWith(`${this.path}.orphan`));
  }

  protected checkOpen(): void {
    if (this.closed) throw backendClosedError(this.name);
  }
}

function orphanAnomaly(path: string): Anomaly {
  return { type: 'ORPHANED_ROTATED_FILE', path, line: null, offset: null, detail: 'not part of the store' };
}

const DAMAGE: Record<CorruptionKind, (disk: Disk, path: string) => void> = {
  torn_tail: (disk, path) => disk.files.set(path, `${disk.files.get(path) ?? ''}{"kind": "event", "times`),
  corrupt_line: (disk, path) => disk.files.set(path, `${disk.files.get(path) ?? ''}{not json at all\n`),
  invalid_record: (disk, path) => disk.files.set(path, `${disk.files.get(path) ?? ''}{"kind": "gossip", "timestamp": 1}\n`),
  orphan_file: (disk, path) => disk.files.set(`${path}.orphan-1`, 'left behind\n'),
};

/** A conformance harness for `LineStoreBackend` or a variant of it, on one shared disk. */
export function lineStoreHarness(
  name: string,
  Backend: new (options: LineStoreOptions) => LineStoreBackend = LineStoreBackend,
): ConformanceHarness<LineStoreBackend> {
  const disk = new Disk();
  return {
    name,
    make: async (ctx) => new Backend({ disk, path: ctx.namespace, retention: ctx.retention, clock: ctx.clock }),
    reopen: async (backend) => new Backend({ disk, path: backend.path }),
    corrupt: async (backend, kind) => DAMAGE[kind](disk, backend.path),
    corruptions: ['torn_tail', 'corrupt_line', 'invalid_record', 'orphan_file'],
    cleanup: async (ctx) => {
      for (const path of [...disk.files.keys()]) if (path.startsWith(ctx.namespace)) disk.files.delete(path);
    },
  };
}
