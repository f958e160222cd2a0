import { PapyraError } from './errors.js';
import { isJsonObject, toJsonValue, type JsonObject, type JsonValue } from './json.js';
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

/**
 * One record as one NDJSON line (no trailing newline), in Papyra's snake_case form; the same text as
 * `JSON.stringify(toWire(record))`, built directly because it is every backend's hot path.
 */
export function encodeRecord(record: PersistedRecord): string {
  const head = `{"kind":${q(record.kind)},"id":${q(record.id)},"system_id":${q(record.systemId)},"timestamp":${q(toSeconds(record.timestamp))}`;
  switch (record.kind) {
    case 'event':
      return `${head},"actor_address":${addressJson(record.actorAddress)},"event_type":${q(record.eventType)},"payload":${payloadJson(record.payload)}}`;
    case 'audit':
      return (
        `${head},"total_actors":${q(record.totalActors)},"alive_actors":${q(record.aliveActors)},"stopping_actors":${q(record.stoppingActors)}` +
        `,"restarting_actors":${q(record.restartingActors)},"registry_size":${q(record.registrySize)},"registry_orphans":${q(record.registryOrphans)}` +
        `,"registry_dead":${q(record.registryDead)},"dead_letters_count":${q(record.deadLettersCount)}}`
      );
    case 'dead_letter':
      return (
        `${head},"target":${addressJson(record.target)},"message_type":${q(record.messageType)},"expects_reply":${q(record.expectsReply)}` +
        `,"payload":${payloadJson(record.payload)},"reason":${q(record.reason)}}`
      );
    default:
      throw new PapyraError('PAPYRA_INVALID_RECORD', `Cannot encode a record of kind ${JSON.stringify((record as { kind: unknown }).kind)}.`);
  }
}

const q = (value: unknown): string => JSON.stringify(value) ?? 'null';

// Systems write the same few addresses over and over; their JSON is cached (bounded).
const addressCache = new Map<string, string>();

function addressJson(address: string | null): string {
  if (address === null) return 'null';
  let json = addressCache.get(address);
  if (json === undefined) {
    const { system, actor_id } = parseAddress(address);
    json = `{"system":${q(system)},"actor_id":${q(actor_id)}}`;
    if (addressCache.size >= 4096) addressCache.clear();
    addressCache.set(address, json);
  }
  return json;
}

/** Payloads made by `createEvent`/`createDeadLetter` are JSON already; anything else is made so. */
function payloadJson(payload: unknown): string {
  try {
    return q(payload);
  } catch {
    return q(toJsonValue(payload));
  }
}

/** The UTF-8 size of a record's line including its `\n`: the unit of byte retention. */
export function encodedSize(record: PersistedRecord): number {
  return Buffer.byteLength(encodeRecord(record), 'utf8') + 1;
}

export function toWire(record: PersistedRecord): JsonObject {
  const head = { kind: record.kind, id: record.id, system_id: record.systemId, timestamp: toSeconds(record.timestamp) };
  switch (record.kind) {
    case 'event':
      return {
        ...head,
        actor_address: wireAddress(record.actorAddress),
        event_type: record.eventType,
        payload: toJsonValue(record.payload),
      };
    case 'audit':
      return {
        ...head,
        total_actors: record.totalActors,
        alive_actors: record.aliveActors,
        stopping_actors: record.stoppingActors,
        restarting_actors: record.restartingActors,
        registry_size: record.registrySize,
        registry_orphans: [...record.registryOrphans],
        registry_dead: [...record.registryDead],
        dead_letters_count: record.deadLettersCount,
      };
    case 'dead_letter':
      return {
        ...head,
        target: wireAddress(record.target),
        message_type: record.messageType,
        expects_reply: record.expectsReply,
        payload: toJsonValue(record.payload),
        reason: record.reason,
      };
    default:
      throw new PapyraError('PAPYRA_INVALID_RECORD', `Cannot encode a record of kind ${JSON.stringify((record as { kind: unknown }).kind)}.`);
  }
}

function wireAddress(address: string | null): JsonValue {
  return address === null ? null : (parseAddress(address) as unknown as JsonObject);
}

/** Why a line or entry is not a record, in the terms of the anomaly types. */
export type LineVerdict =
  | { ok: true; record: PersistedRecord }
  | { ok: false; type: 'CORRUPTED_LINE' | 'INVALID_RECORD'; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
