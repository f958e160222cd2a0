import { PapyraError } from './errors.js';
import { isJsonObject, toJsonValue, type JsonObject, type JsonValue } from './json.js';
import { encodeLine } from './line-encoder.js';
import type { PersistedAudit, PersistedDeadLetter, PersistedEvent, PersistedRecord, RecordKind } from './records.js';

/** Papyra writes an address as this object; we hold it as the string `"<system>:<actorId>"`. */
export interface WireAddress {
  system: string;
  actor_id: number | string;
}

export function formatAddress(address: WireAddress): string {
  return `${address.system}:${address.actor_id}`;
}

/** Splits at the last `:`, so system ids may contain colons; numeric actor ids come back as numbers. */
export function parseAddress(address: string): WireAddress {
  const at = address.lastIndexOf(':');
  if (at < 0) return { system: '', actor_id: address };
  const system = address.slice(0, at);
  const id = address.slice(at + 1);
  return { system, actor_id: /^(0|[1-9]\d{0,15})$/.test(id) ? Number(id) : id };
}

const toSeconds = (ms: number): number => ms / 1000;
// Rounded to the microsecond so that ms -> s -> ms is exact for every millisecond timestamp.
const toMillis = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;

/** One record as one NDJSON line (no trailing newline), in Papyra's snake_case form. */
export function encodeRecord(record: PersistedRecord): string {
  try {
    // Payloads made by createEvent/createDeadLetter are JSON already: the per-kind line encoder
    // stringifies them as they are, with no wire object built around them.
    return encodeLine(record);
  } catch {
    // A payload JSON cannot take (cycle, BigInt) is made JSON-safe; a non-record throws here.
    return JSON.stringify(wireOf(record, toJsonValue));
  }
}

// Systems write the same few addresses over and over; their wire form is cached (bounded).
const addressCache = new Map<string, WireAddress>();

function wireAddress(address: string | null): WireAddress | null {
  if (address === null) return null;
  let wire = addressCache.get(address);
  if (wire === undefined) {
    wire = parseAddress(address);
    if (addressCache.size >= 4096) addressCache.clear();
    addressCache.set(address, wire);
  }
  return wire;
}

/** The UTF-8 size of a record's line including its `\n`: the unit of byte retention. */
export function encodedSize(record: PersistedRecord): number {
  return Buffer.byteLength(encodeRecord(record), 'utf8') + 1;
}

/** A record in its on-disk form, as an object (payloads made JSON-safe). */
export function toWire(record: PersistedRecord): JsonObject {
  return wireOf(record, toJsonValue) as unknown as JsonObject;
}

/** The wire object, keys in Papyra's order; `json` decides how payloads are made JSON. */
function wireOf(record: PersistedRecord, json: (value: unknown) => JsonValue): object {
  const id = record.id;
  const system_id = record.systemId;
  const timestamp = toSeconds(record.timestamp);
  switch (record.kind) {
    case 'event':
      return {
        kind: 'event',
        id,
        system_id,
        timestamp,
        actor_address: wireAddress(record.actorAddress),
        event_type: record.eventType,
        payload: json(record.payload),
      };
    case 'audit':
      return {
        kind: 'audit',
        id,
        system_id,
        timestamp,
        total_actors: record.totalActors,
        alive_actors: record.aliveActors,
        stopping_actors: record.stoppingActors,
        restarting_actors: record.restartingActors,
        registry_size: record.registrySize,
        registry_orphans: record.registryOrphans,
        registry_dead: record.registryDead,
        dead_letters_count: record.deadLettersCount,
      };
    case 'dead_letter':
      return {
        kind: 'dead_letter',
        id,
        system_id,
        timestamp,
        target: wireAddress(record.target),
        message_type: record.messageType,
        expects_reply: record.expectsReply,
        payload: json(record.payload),
        reason: record.reason,
      };
    default:
      throw new PapyraError('PAPYRA_INVALID_RECORD', `Cannot encode a record of kind ${JSON.stringify((record as { kind: unknown }).kind)}.`);
  }
}

/** Why a line or entry is not a record, in the terms of the anomaly types. */
export type LineVerdict = { ok: true; record: PersistedRecord } | { ok: false; type: 'CORRUPTED_LINE' | 'INVALID_RECORD'; detail: string };

// ignoreBOM: a byte-order mark is kept, so it gets the same verdict from bytes as from a string.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The valid timestamp range, in epoch milliseconds: what a JS `Date` can hold and format
 * (±8.64e15 ms, about ±275,000 years). The decoder refuses anything outside it (INVALID_RECORD),
 * so no reader ever hands out a timestamp that `new Date(ts).toISOString()` cannot format.
 */
export const MAX_TIMESTAMP_MS = 8.64e15;

/** True for a finite epoch-millisecond timestamp inside the valid range. */
export function isValidTimestamp(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_TIMESTAMP_MS;
}

/**
 * Classifies one line (without its `\n`) or stored entry: a record, a CORRUPTED_LINE (not UTF-8,
 * not JSON, blank) or an INVALID_RECORD (JSON, but not a record). Never throws.
 */
export function inspectLine(input: string | Uint8Array): LineVerdict {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      return { ok: false, type: 'CORRUPTED_LINE', detail: 'not valid UTF-8' };
    }
  }
  // Papyra (Python's json.loads) refuses a line that starts with a BOM; so do we, on every read path.
  if (text.charCodeAt(0) === 0xfeff) return { ok: false, type: 'CORRUPTED_LINE', detail: 'starts with a UTF-8 byte-order mark' };
  if (text.trim() === '') return { ok: false, type: 'CORRUPTED_LINE', detail: 'blank line' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, type: 'CORRUPTED_LINE', detail: `not valid JSON (${(error as Error).message})` };
  }
  const problem = recordProblem(parsed);
  if (problem) return { ok: false, type: 'INVALID_RECORD', detail: problem };
  return { ok: true, record: fromWire(parsed as JsonObject) };
}

/**
 * Decodes one record from a line, its bytes, or an already parsed object. Lenient like Papyra:
 * unknown keys are ignored and missing fields get defaults. Throws `PAPYRA_INVALID_RECORD`.
 */
export function decodeRecord(input: string | Uint8Array | object): PersistedRecord {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const verdict = inspectLine(input);
    if (verdict.ok) return verdict.record;
    throw new PapyraError('PAPYRA_INVALID_RECORD', `Not a Papyra record: ${verdict.detail}.`, { details: { anomaly: verdict.type } });
  }
  const problem = recordProblem(input);
  if (problem) throw new PapyraError('PAPYRA_INVALID_RECORD', `Not a Papyra record: ${problem}.`, { details: { anomaly: 'INVALID_RECORD' } });
  return fromWire(input as JsonObject);
}

function recordProblem(value: unknown): string | null {
  if (!isJsonObject(value)) return `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`;
  const kind = value['kind'];
  if (kind === undefined) return 'missing "kind"';
  if (kind !== 'event' && kind !== 'audit' && kind !== 'dead_letter') return `unknown kind ${JSON.stringify(kind)}`;
  const timestamp = value['timestamp'];
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return '"timestamp" missing or not a number';
  if (!isValidTimestamp(toMillis(timestamp))) return `"timestamp" ${timestamp} s is outside the valid range (±${MAX_TIMESTAMP_MS / 1000} s)`;
  return null;
}

function fromWire(wire: JsonObject): PersistedRecord {
  const base = {
    id: typeof wire['id'] === 'string' ? wire['id'] : null,
    systemId: text(wire['system_id']),
    timestamp: toMillis(wire['timestamp'] as number),
  };
  switch (wire['kind'] as RecordKind) {
    case 'event': {
      const payload = wire['payload'];
      const event: PersistedEvent = {
        kind: 'event',
        ...base,
        actorAddress: readAddress(wire['actor_address']),
        eventType: text(wire['event_type']),
        payload: payload === undefined || payload === null ? {} : isJsonObject(payload) ? payload : { value: payload },
      };
      return event;
    }
    case 'audit': {
      const audit: PersistedAudit = {
        kind: 'audit',
        ...base,
        totalActors: count(wire['total_actors']),
        aliveActors: count(wire['alive_actors']),
        stoppingActors: count(wire['stopping_actors']),
        restartingActors: count(wire['restarting_actors']),
        registrySize: count(wire['registry_size']),
        registryOrphans: addressList(wire['registry_orphans']),
        registryDead: addressList(wire['registry_dead']),
        deadLettersCount: count(wire['dead_letters_count']),
      };
      return audit;
    }
    case 'dead_letter': {
      const deadLetter: PersistedDeadLetter = {
        kind: 'dead_letter',
        ...base,
        target: readAddress(wire['target']),
        messageType: text(wire['message_type']),
        expectsReply: wire['expects_reply'] === true,
        payload: wire['payload'] === undefined ? null : wire['payload'],
        reason: text(wire['reason']),
      };
      return deadLetter;
    }
  }
}

const text = (value: JsonValue | undefined): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));
const count = (value: JsonValue | undefined): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function addressList(value: JsonValue | undefined): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((item) => readAddress(item) ?? 'null');
}

/** An address object, a Python ActorRef dump (its `_address`), a string, or null. */
function readAddress(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (isJsonObject(value)) {
    if (isJsonObject(value['_address'])) return readAddress(value['_address']);
    if ('system' in value || 'actor_id' in value) return `${text(value['system'])}:${text(value['actor_id'])}`;
  }
  return JSON.stringify(value);
}
