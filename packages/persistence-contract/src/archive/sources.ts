import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PersistenceBackend } from '../backend.js';
import { decodeRecord } from '../codec.js';
import { PapyraError } from '../errors.js';
import type { RecordKind } from '../records.js';
import { readRecords, type StoredRecord } from '../read.js';
import { ARCHIVE_FILES } from './manifest.js';

/** Where records come from: a store, or an archive directory. */
export type RecordSource = PersistenceBackend | { archive: string };

/** The records of one kind of a source, oldest first. */
export function recordsOf(source: RecordSource, kind: RecordKind, signal?: AbortSignal): AsyncGenerator<StoredRecord> {
  return 'archive' in source ? archiveRecords(source.archive, kind) : readRecords(source, { kinds: [kind], ...(signal && { signal }) });
}

async function* archiveRecords(dir: string, kind: RecordKind): AsyncGenerator<StoredRecord> {
  const path = join(dir, ARCHIVE_FILES[kind]);
  const stream = createReadStream(path);
  const missing = new Promise<boolean>((resolve) => {
    stream.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ENOENT'));
    stream.once('open', () => resolve(false));
  });
  if (await missing) return; // a window without this kind
  let n = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    n += 1;
    try {
      yield { record: decodeRecord(line), line };
    } catch (error) {
      throw new PapyraError('PAPYRA_ARCHIVE_DAMAGED', `${ARCHIVE_FILES[kind]} line ${n} is not a record; run papyra verify on the archive.`, { cause: error });
    }
  }
}

/** Orders records across kinds the way a single store keeps them: by timestamp, then id. */
export function before(a: StoredRecord, b: StoredRecord): boolean {
  if (a.record.timestamp !== b.record.timestamp) return a.record.timestamp < b.record.timestamp;
  return (a.record.id ?? '') < (b.record.id ?? '');
}
