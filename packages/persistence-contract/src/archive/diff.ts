import { encodeRecord } from '../codec.js';
import { RECORD_KINDS, type RecordKind } from '../records.js';
import type { StoredRecord } from '../read.js';
import { before, recordsOf, type RecordSource } from './sources.js';

export interface RecordDifference {
  kind: RecordKind;
  id: string | null;
  timestamp: number;
  /** `only-left`/`only-right`: the record is on one side only; `content`: same id, different content. */
  reason: 'only-left' | 'only-right' | 'content';
}

export interface DiffReport {
  equal: boolean;
  compared: Record<RecordKind, { left: number; right: number }>;
  differences: number;
  /** The first differences, in store order (at most `maxShown`). */
  first: RecordDifference[];
}

/**
 * Compares two sources (stores or archives) record by record, per kind, by id and content (the
 * canonical encoding, so a Python-formatted line equals ours). Both sides are streamed in store
 * order and merged by timestamp and id: memory stays bounded whatever their size.
 */
export async function diffSources(
  left: RecordSource,
  right: RecordSource,
  options: { kinds?: readonly RecordKind[]; maxShown?: number; signal?: AbortSignal } = {},
): Promise<DiffReport> {
  const maxShown = options.maxShown ?? 20;
  const report: DiffReport = {
    equal: true,
    compared: { event: { left: 0, right: 0 }, audit: { left: 0, right: 0 }, dead_letter: { left: 0, right: 0 } },
    differences: 0,
    first: [],
  };
  const note = (kind: RecordKind, r: StoredRecord, reason: RecordDifference['reason']) => {
    report.differences += 1;
    if (report.first.length < maxShown) report.first.push({ kind, id: r.record.id, timestamp: r.record.timestamp, reason });
  };
  for (const kind of options.kinds ?? RECORD_KINDS) {
    const a = recordsOf(left, kind, options.signal);
    const b = recordsOf(right, kind, options.signal);
    let x = await next(a);
    let y = await next(b);
    while (x !== null || y !== null) {
      if (x !== null && (y === null || before(x, y))) {
        note(kind, x, 'only-left');
        report.compared[kind].left += 1;
        x = await next(a);
      } else if (y !== null && (x === null || before(y, x))) {
        note(kind, y, 'only-right');
        report.compared[kind].right += 1;
        y = await next(b);
      } else {
        if (encodeRecord(x!.record) !== encodeRecord(y!.record)) note(kind, x!, 'content');
        report.compared[kind].left += 1;
        report.compared[kind].right += 1;
        x = await next(a);
        y = await next(b);
      }
    }
  }
  report.equal = report.differences === 0;
  return report;
}

async function next(it: AsyncGenerator<StoredRecord>): Promise<StoredRecord | null> {
  const r = await it.next();
  return r.done ? null : r.value;
}
