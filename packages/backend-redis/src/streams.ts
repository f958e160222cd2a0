import { inspectLine, type AnomalyType, type PersistedRecord, type RecordKind } from '@papyra/persistence-contract';
import type { RedisClient } from './connection.js';

/** The stream of each record kind, named as Python Papyra names them. */
export const STREAM_SUFFIX: Record<RecordKind, string> = { event: 'events', audit: 'audits', dead_letter: 'dead_letters' };

export interface StreamKeys {
  event: string;
  audit: string;
  dead_letter: string;
  quarantine: string;
}

/** `<prefix>:<systemId>:<suffix>`; in cluster mode the system id is a hash tag so all share a slot. */
export function streamKeys(prefix: string, systemId: string, cluster: boolean): StreamKeys {
  const base = cluster ? `${prefix}:{${systemId}}` : `${prefix}:${systemId}`;
  return {
    event: `${base}:${STREAM_SUFFIX.event}`,
    audit: `${base}:${STREAM_SUFFIX.audit}`,
    dead_letter: `${base}:${STREAM_SUFFIX.dead_letter}`,
    quarantine: `${base}:quarantine`,
  };
}

/** One stream entry as stored: its id and raw field/value pairs. */
export interface RawEntry {
  id: string;
  fields: Buffer[];
}

export type EntryVerdict =
  | { ok: true; record: PersistedRecord; bytes: number }
  | { ok: false; type: AnomalyType; detail: string };

/** Classifies an entry: a record of the stream's kind, or the anomaly it is. Never throws. */
export function inspectEntry(entry: RawEntry, kind: RecordKind, maxEntryBytes: number): EntryVerdict {
  const oversized = oversizedBytes(entry);
  if (oversized !== undefined) {
    return { ok: false, type: 'CORRUPTED_ENTRY', detail: `entry ${entry.id}: ${oversized} bytes, over the ${maxEntryBytes}-byte limit (not read)` };
  }
  const data = fieldValue(entry.fields, 'data');
  if (data === undefined) return { ok: false, type: 'CORRUPTED_ENTRY', detail: `entry ${entry.id}: no "data" field` };
  const verdict = inspectLine(data);
  if (!verdict.ok) {
    // Stream entries have no lines: a payload that is not UTF-8 JSON is a corrupted entry.
    const type = verdict.type === 'CORRUPTED_LINE' ? 'CORRUPTED_ENTRY' : 'INVALID_RECORD';
    return { ok: false, type, detail: `entry ${entry.id}: "data" is ${verdict.detail}` };
  }
  if (verdict.record.kind !== kind) {
    return { ok: false, type: 'INVALID_RECORD', detail: `entry ${entry.id}: a ${verdict.record.kind} record in the ${STREAM_SUFFIX[kind]} stream` };
  }
  // Byte retention counts what is stored (the line plus the `\n` it would have in a file).
  return { ok: true, record: verdict.record, bytes: data.length + 1 };
}

function fieldValue(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i]!.toString('latin1') === name) return fields[i + 1];
  }
  return undefined;
}

/** Stored bytes of an entry's `data` (plus one for the newline), 0 when it has none. */
export function entryBytes(entry: RawEntry): number {
  const oversized = oversizedBytes(entry);
  if (oversized !== undefined) return oversized + 1;
  const data = fieldValue(entry.fields, 'data');
  return data === undefined ? 0 : data.length + 1;
}

function toEntries(reply: [Buffer, Buffer[]][]): RawEntry[] {
  return reply.map(([id, fields]) => ({ id: id.toString('latin1'), fields: fields ?? [] }));
}

/** The field an oversized entry is replaced with on read; the value is its size in bytes. */
const OVERSIZED = '\0papyra:oversized';

/**
 * One page of a stream, read entry by entry on the server so that an entry whose field values
 * exceed `maxEntryBytes` never crosses the network: it comes back as a marker with its size.
 * Redis has no command that tells an entry's size without returning it, hence the (read-only,
 * single-key, so cluster-safe) script; it costs one XRANGE of COUNT 1 per entry, inside Redis.
 */
const PAGE_SCRIPT = `
local cmd, bound, other, count, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
while #out < count do
  local e = redis.call(cmd, KEYS[1], bound, other, 'COUNT', 1)[1]
  if e == nil then break end
  local size = 0
  local f = e[2] or {}
  for j = 2, #f, 2 do size = size + #f[j] end
  if size > max then e[2] = {ARGV[6], tostring(size)} end
  out[#out + 1] = e
  bound = '(' .. e[1]
end
return out`;

async function readPage(client: RedisClient, direction: 'XRANGE' | 'XREVRANGE', key: string, bound: string, other: string, count: number, maxEntryBytes: number): Promise<RawEntry[]> {
  const reply = (await client.callBuffer('EVAL', [PAGE_SCRIPT, 1, key, direction, bound, other, count, maxEntryBytes, OVERSIZED])) as [Buffer, Buffer[]][];
  return toEntries(reply);
}

/** The size an oversized entry was reported with, if it is one. */
export function oversizedBytes(entry: RawEntry): number | undefined {
  const marker = fieldValue(entry.fields, OVERSIZED);
  return marker === undefined ? undefined : Number(marker.toString('latin1'));
}

/** Oldest-first pages of a whole stream (exclusive cursor): bounded memory. */
export async function* pagesForward(client: RedisClient, key: string, pageSize: number, maxEntryBytes: number, from = '-', to = '+'): AsyncGenerator<RawEntry[]> {
  let start = from;
  for (;;) {
    const page = await readPage(client, 'XRANGE', key, start, to, pageSize, maxEntryBytes);
    if (page.length === 0) return;
    yield page;
    if (page.length < pageSize) return;
    start = `(${page[page.length - 1]!.id}`;
  }
}

/** Newest-first pages; page sizes grow so long walks take few round trips. */
export async function* pagesBackward(client: RedisClient, key: string, firstPage: number, maxPage: number, maxEntryBytes: number): AsyncGenerator<RawEntry[]> {
  let end = '+';
  let size = firstPage;
  for (;;) {
    const page = await readPage(client, 'XREVRANGE', key, end, '-', size, maxEntryBytes);
    if (page.length === 0) return;
    yield page;
    if (page.length < size) return;
    end = `(${page[page.length - 1]!.id}`;
    size = Math.min(size * 2, maxPage);
  }
}

/** One entry in full, whatever its size (quarantine keeps the original bytes); undefined if it is gone. */
export async function readWholeEntry(client: RedisClient, key: string, id: string): Promise<RawEntry | undefined> {
  return toEntries((await client.xrangeBuffer(key, id, id)) as unknown as [Buffer, Buffer[]][])[0];
}

/** The smallest id greater than `id` (`<ms>-<seq+1>`): XTRIM MINID with it removes `id` itself. */
export function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}
