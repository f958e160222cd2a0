import { inspectLine, type Anomaly, type LineVerdict, type PersistedRecord, type RetentionItem } from '@papyra/persistence-contract';
import { DEFAULT_MAX_LINE_BYTES, forEachLine, type LineReadOptions, type RawLine, type SegmentSource } from './lines.js';

/** A half-open byte range `[start, end)` of a file. */
export type ByteRange = readonly [start: number, end: number];

/**
 * Classifies one line with the contract's `inspectLine`, adding what only a file reader knows: a
 * last line without `\n` is always TRUNCATED_LINE, a line over the length limit a CORRUPTED_LINE.
 */
export function classifyLine(raw: RawLine, maxLineBytes: number): LineVerdict | { ok: false; type: 'TRUNCATED_LINE'; detail: string } {
  if (!raw.terminated) return { ok: false, type: 'TRUNCATED_LINE', detail: `last line (${raw.length} bytes) has no terminating newline: a torn write` };
  if (raw.oversized) return { ok: false, type: 'CORRUPTED_LINE', detail: `line of ${raw.length} bytes is over the ${maxLineBytes}-byte limit` };
  // A region already known to be UTF-8 decodes faster as a string than through a fatal decoder.
  return inspectLine(raw.utf8 ? raw.buf.toString('utf8', raw.start, raw.end) : raw.buf.subarray(raw.start, raw.end));
}

export interface SegmentScan {
  exists: boolean;
  /** Line anomalies, in file order. */
  anomalies: Anomaly[];
  /** The bytes of every flagged line including its `\n`: what repair removes. */
  dropRanges: ByteRange[];
  records: number;
  bytes: number;
  lines: number;
}

export interface SegmentReadOptions extends LineReadOptions {
  /** The path reported in anomalies (default: the path read). */
  reportPath?: string;
}

/** Scans one file read-only: every anomaly with its 1-based line and byte offset. */
export async function scanSegment(source: SegmentSource, options: SegmentReadOptions = {}): Promise<SegmentScan> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const reportPath = options.reportPath ?? (typeof source === 'string' ? source : source.path);
  const anomalies: Anomaly[] = [];
  const dropRanges: ByteRange[] = [];
  let records = 0;
  const read = await forEachLine(
    source,
    (raw) => {
      const verdict = classifyLine(raw, max);
      if (verdict.ok) {
        records += 1;
        return;
      }
      anomalies.push({ type: verdict.type, path: reportPath, line: raw.line, offset: raw.offset, detail: verdict.detail });
      dropRanges.push([raw.offset, raw.offset + raw.length + (raw.terminated ? 1 : 0)]);
    },
    options,
  );
  return { exists: read.exists, anomalies, dropRanges, records, bytes: read.bytes, lines: read.lines };
}

/** Visits every valid record of a file in order, with its line (bytes = `raw.length + 1`). Anomalies are skipped. */
export async function forEachRecord(
  source: SegmentSource,
  visit: (record: PersistedRecord, raw: RawLine) => void,
  options: LineReadOptions = {},
): Promise<boolean> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const read = await forEachLine(
    source,
    (raw) => {
      const verdict = classifyLine(raw, max);
      if (verdict.ok) visit(verdict.record, raw);
    },
    options,
  );
  return read.exists;
}

/** What retention needs of every record in a file, with each record's byte range. */
export interface RetentionInventory {
  items: RetentionItem[];
  ranges: ByteRange[];
  bytes: number;
}

/** Collects the retention view of a file (`bytes` of an item = its line on disk including `\n`). */
export async function collectRetentionItems(path: string, options: LineReadOptions = {}): Promise<RetentionInventory> {
  const items: RetentionItem[] = [];
  const ranges: ByteRange[] = [];
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const read = await forEachLine(
    path,
    (raw) => {
      const verdict = classifyLine(raw, max);
      if (!verdict.ok) return;
      items.push({ kind: verdict.record.kind, timestamp: verdict.record.timestamp, bytes: raw.length + 1 });
      ranges.push([raw.offset, raw.offset + raw.length + 1]);
    },
    options,
  );
  return { items, ranges, bytes: read.bytes };
}
