import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

/** A flagged row as the quarantine file keeps it: every column, `data` exactly as stored. */
export interface QuarantinedRow {
  seq: string;
  id: string;
  kind: string;
  system_id: string;
  timestamp_ms: number;
  data: string | null;
  anomaly: string;
  detail: string;
}

/**
 * Writes the rows, one JSON object per line, to a new file (mode 0600) under `dir` and fsyncs it
 * and the directory before the rows are deleted. The name is built from a sanitised table label,
 * the time and random bytes, and opened with `wx`: it cannot escape `dir` or overwrite anything.
 */
export async function writeQuarantineFile(dir: string, label: string, rows: AsyncIterable<QuarantinedRow>): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const safeLabel = label.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  const path = join(dir, `${safeLabel}.${stamp}.${randomBytes(4).toString('hex')}.quarantine.ndjson`);
  const file = await open(path, 'wx', 0o600);
  try {
    for await (const row of rows) await file.write(`${JSON.stringify(row)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return path;
}
