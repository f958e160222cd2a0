import type { PersistenceBackend } from './backend.js';
import { encodeRecord } from './codec.js';
import { PapyraError } from './errors.js';
import type { PersistedRecord, RecordKind } from './records.js';
import { RECORD_KINDS } from './records.js';

/** A window over a store: which kinds, and `since <= timestamp < until` (epoch ms). */
export interface ReadOptions {
  kinds?: readonly RecordKind[];
  since?: number;
  until?: number;
  signal?: AbortSignal;
}

/** One record as a reader streams it. */
export interface StoredRecord {
  record: PersistedRecord;
  /** The line exactly as stored (no newline), where the backend keeps bytes; otherwise its encoding. */
  line: string;
}

/**
 * Streams the visible records of a store (what lists show: retention applied, damaged lines
 * skipped), oldest first per kind, kinds in `RECORD_KINDS` order. A backend with `records()`
 * streams with bounded memory; for one without, the kinds are listed one at a time, so memory is
 * bounded by the largest kind.
 */
export async function* readRecords(backend: PersistenceBackend, options: ReadOptions = {}): AsyncGenerator<StoredRecord> {
  const kinds = options.kinds ?? RECORD_KINDS;
  for (const kind of kinds) {
    if (!RECORD_KINDS.includes(kind)) throw new PapyraError('PAPYRA_INVALID_ARGUMENT', `Unknown record kind ${JSON.stringify(kind)}.`);
  }
  if (backend.records) {
    yield* backend.records({ ...options, kinds });
    return;
  }
  const query = options.since === undefined ? {} : { since: options.since };
  for (const kind of RECORD_KINDS) {
    if (!kinds.includes(kind)) continue;
    if (options.signal?.aborted) throw new PapyraError('PAPYRA_ABORTED', 'The read was aborted.', { cause: options.signal.reason });
    const records: PersistedRecord[] =
      kind === 'event' ? await backend.listEvents(query) : kind === 'audit' ? await backend.listAudits(query) : await backend.listDeadLetters(query);
    for (const record of records) {
      if (options.until !== undefined && !(record.timestamp < options.until)) continue;
      yield { record, line: encodeRecord(record) };
    }
  }
}
