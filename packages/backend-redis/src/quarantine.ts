import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawEntry } from './streams.js';

/** Keeps only characters that cannot form a path: the name stays inside the quarantine directory. */
function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 120);
}

/** A field value as JSON: its text when it is UTF-8, else its bytes in base64 (nothing is lost). */
function fieldJson(value: Buffer): string | { base64: string } {
  const text = value.toString('utf8');
  return Buffer.from(text, 'utf8').equals(value) ? text : { base64: value.toString('base64') };
}

/**
 * Writes one removed entry to `<dir>/<stream>.<entry id>[.n].json` (mode 0600, created exclusively,
 * fsynced) and returns the path. Existing files are never overwritten: a collision takes the next n.
 */
export async function writeQuarantineFile(dir: string, stream: string, entry: RawEntry, anomaly: { type: string; detail: string }): Promise<string> {
  const fields: [string, string | { base64: string }][] = [];
  for (let i = 0; i + 1 < entry.fields.length; i += 2) fields.push([entry.fields[i]!.toString('utf8'), fieldJson(entry.fields[i + 1]!)]);
  const body = `${JSON.stringify({ stream, entryId: entry.id, anomaly: anomaly.type, detail: anomaly.detail, fields }, null, 2)}\n`;
  const base = `${safeName(stream)}.${safeName(entry.id)}`;
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? `${base}.json` : `${base}.${n}.json`);
    let handle;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    try {
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    return path;
  }
}
