import { PapyraError, encodeRecord, matchesQuery, type ListQuery, type PersistedRecord, type RecordKind, type ScanReport } from '../../src/index.js';
import { LineStoreBackend, type LineStoreOptions, type Parsed } from './line-store.js';

/**
 * Variants of the reference backend, each with one defect a real backend could plausibly have.
 * The conformance suite must fail every one of them.
 */
type Variant = new (options: LineStoreOptions) => LineStoreBackend;

/** Silently drops the third record it is given, yet resolves. */
class LosesARecord extends LineStoreBackend {
  #seen = 0;
  protected override async append(kind: RecordKind, record: PersistedRecord): Promise<void> {
    if (++this.#seen === 3) return;
    return super.append(kind, record);
  }
}

/** Lists come back with neighbours swapped. */
class Reorders extends LineStoreBackend {
  protected override async list(kind: RecordKind, query: ListQuery | undefined): Promise<PersistedRecord[]> {
    const out = await super.list(kind, query);
    for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
    return out;
  }
}

/** "Helpfully" repairs the store while scanning. */
class MutatesOnScan extends LineStoreBackend {
  override async scan(): Promise<ScanReport> {
    const report = await super.scan();
    this.repairInPlace(this.parse().records);
    return report;
  }
}

/** Lists everything, whatever the retention policy. */
class IgnoresRetention extends LineStoreBackend {
  protected override mask(records: Parsed[]): boolean[] {
    return records.map(() => true);
  }
}

/** Keeps accepting (and counting) writes after close(). */
class AcceptsWritesAfterClose extends LineStoreBackend {
  protected override async append(kind: RecordKind, record: PersistedRecord): Promise<void> {
    const closed = this.closed;
    this.closed = false;
    try {
      await super.append(kind, record);
    } finally {
      this.closed = closed;
    }
  }
}

/** Read-modify-write across an await: concurrent appends overwrite each other. */
class LosesConcurrentAppends extends LineStoreBackend {
  protected override async append(_kind: RecordKind, record: PersistedRecord): Promise<void> {
    this.checkOpen();
    const before = this.disk.files.get(this.path) ?? '';
    await new Promise((resolve) => setImmediate(resolve));
    const line = encodeRecord(record);
    this.disk.files.set(this.path, `${before}${line}\n`);
    this.metrics.recordWritten(record.kind, 1, Buffer.byteLength(line) + 1, 0);
  }
}

/** Reports a compaction but never rewrites the store. */
class CompactsNothing extends LineStoreBackend {
  protected override rewrite(): void {}
}

/** Returns the oldest N instead of the newest N. */
class LimitTakesOldest extends LineStoreBackend {
  protected override async list(kind: RecordKind, query: ListQuery | undefined): Promise<PersistedRecord[]> {
    const { limit, ...rest } = query ?? {};
    const all = await super.list(kind, { ...rest, order: 'asc' });
    const picked = limit === undefined ? all : all.slice(0, limit);
    return query?.order === 'desc' ? picked.reverse() : picked;
  }
}

/** Repair is off by one: it drops the valid record just before the damage too. */
class RepairDropsOneMore extends LineStoreBackend {
  protected override repairInPlace(records: Parsed[]): number {
    return super.repairInPlace(records.slice(0, -1)) + 1;
  }
}

/** Counts bytes without the newline. */
class MiscountsBytes extends LineStoreBackend {
  protected override async append(kind: RecordKind, record: PersistedRecord): Promise<void> {
    await super.append(kind, record);
    this.metrics.recordWritten(record.kind, 0, -1, 0);
  }
}

/** Scan skips the torn tail, as if the last line were always complete. */
class MissesTornTail extends LineStoreBackend {
  override async scan(): Promise<ScanReport> {
    const report = await super.scan();
    return { ...report, anomalies: report.anomalies.filter((a) => a.type !== 'TRUNCATED_LINE') };
  }
}

/** Takes any timestamp, NaN included: its own scan then calls the record an anomaly. */
class AcceptsNaNTimestamps extends LineStoreBackend {
  protected override async append(_kind: RecordKind, record: PersistedRecord): Promise<void> {
    this.checkOpen();
    const line = encodeRecord(record);
    this.disk.files.set(this.path, `${this.disk.files.get(this.path) ?? ''}${line}\n`);
  }
}

/** Checks its arguments before noticing it is closed. */
class ValidatesBeforeClosedCheck extends LineStoreBackend {
  override async recover(config: Parameters<LineStoreBackend['recover']>[0]) {
    if (config.mode !== 'ignore' && config.mode !== 'repair' && config.mode !== 'quarantine') throw new PapyraError('PAPYRA_INVALID_CONFIG', 'bad mode');
    return super.recover(config);
  }
}

/** Applies the actor filter after taking the newest N. */
class FiltersAfterLimit extends LineStoreBackend {
  protected override async list(kind: RecordKind, query: ListQuery | undefined): Promise<PersistedRecord[]> {
    const { actor, eventType, target, ...rest } = query ?? {};
    const page = await super.list(kind, rest);
    return page.filter((r) =>
      matchesQuery(r, { ...(actor !== undefined && { actor }), ...(eventType !== undefined && { eventType }), ...(target !== undefined && { target }) }),
    );
  }
}

/** The defects, each with a scenario that must catch it (a substring of the test name). */
export const BROKEN: readonly { name: string; Backend: Variant; caughtBy: string }[] = [
  { name: 'loses a record', Backend: LosesARecord, caughtBy: 'lists each kind in append order' },
  { name: 'reorders lists', Backend: Reorders, caughtBy: 'lists each kind in append order' },
  { name: 'mutates on scan', Backend: MutatesOnScan, caughtBy: 'a second scan sees the same' },
  { name: 'ignores retention', Backend: IgnoresRetention, caughtBy: 'maxRecords keeps the newest N' },
  { name: 'accepts writes after close', Backend: AcceptsWritesAfterClose, caughtBy: 'after close every method rejects' },
  { name: 'loses concurrent appends', Backend: LosesConcurrentAppends, caughtBy: '500 concurrent appends' },
  { name: 'compacts nothing', Backend: CompactsNothing, caughtBy: 'compact physically applies maxRecords' },
  { name: 'limit takes the oldest', Backend: LimitTakesOldest, caughtBy: 'limit returns the newest N' },
  { name: 'repair drops one valid record too', Backend: RepairDropsOneMore, caughtBy: 'repair after corrupt_line' },
  { name: 'miscounts bytes', Backend: MiscountsBytes, caughtBy: 'counts records and encoded bytes' },
  { name: 'misses a torn tail', Backend: MissesTornTail, caughtBy: 'scan reports torn_tail' },
  { name: 'accepts NaN timestamps', Backend: AcceptsNaNTimestamps, caughtBy: 'is refused at write with PAPYRA_INVALID_RECORD' },
  { name: 'validates before the closed check', Backend: ValidatesBeforeClosedCheck, caughtBy: 'a closed backend answers PAPYRA_BACKEND_CLOSED whatever' },
  { name: 'filters after limit', Backend: FiltersAfterLimit, caughtBy: 'filters apply before limit' },
];
