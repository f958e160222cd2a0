import { parseAddress } from './codec.js';
import type { PersistedAudit, PersistedDeadLetter, PersistedEvent, PersistedRecord } from './records.js';

/*
 * The fast path of `encodeRecord`: one NDJSON line per record kind, built by writing the known keys
 * directly and calling JSON.stringify only on the values (payloads and other free-form fields), so
 * no snake_case wire object and no address object is allocated per record. The output is the same
 * bytes as JSON.stringify of the wire object: a key whose value JSON leaves out (undefined, a
 * function, a symbol) is left out here too, and non-finite numbers are `null`. Anything it cannot
 * encode throws, and `encodeRecord` then takes the general path, which also decides the error.
 */

/** `,"key":value`, or nothing where JSON.stringify would drop the key. */
function member(name: string, value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? '' : name + text;
}

// Printable ASCII but `"` and `\`: such a string is its own JSON text between quotes. Ids, system
// ids and type names almost always are, and the test is cheaper than a call into JSON.stringify.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `member` for the fields that hold short strings. */
function text(name: string, value: unknown): string {
  return typeof value === 'string' && PLAIN.test(value) ? name + '"' + value + '"' : member(name, value);
}

/** `,"key":{"system":…,"actor_id":…}` or `,"key":null`; anything else throws, as parseAddress would. */
function address(name: string, value: string | null): string {
  if (value === null) return name + 'null';
  if (typeof value !== 'string') throw new TypeError('address is not a string');
  return name + JSON.stringify(parseAddress(value));
}

type PairCache = Map<string | null, Map<string, string>>;

/**
 * The address and type members together (`,"actor_address":…,"event_type":…`), the part of a line
 * that repeats for every record of one actor and type; cached per address and type, bounded.
 */
function addressAndType(cache: PairCache, addressName: string, typeName: string, at: string | null, type: string): string {
  if (typeof type !== 'string') return address(addressName, at) + text(typeName, type);
  let byType = cache.get(at);
  let whole = byType?.get(type);
  if (whole !== undefined) return whole;
  whole = address(addressName, at) + member(typeName, type); // throws before a bad address is cached
  if (byType === undefined) {
    if (cache.size >= 4096) cache.clear();
    byType = new Map();
    cache.set(at, byType);
  } else if (byType.size >= 64) byType.clear();
  byType.set(type, whole);
  return whole;
}

const events: PairCache = new Map();
const deadLetters: PairCache = new Map();

/** `.001` … `.999` with trailing zeros dropped, and `''` for a whole second. */
const FRACTIONS = Array.from({ length: 1000 }, (_, ms) => (ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`));

/**
 * Timestamps go to disk as float seconds, written as `String(ms / 1000)` would write them. For a
 * whole number of milliseconds below 1e15 that is the integer seconds and up to three decimals (no
 * shorter decimal rounds to the same double there), written from integers: converting the double
 * is the slowest step of a line otherwise.
 */
function seconds(ms: number): string {
  if (Number.isInteger(ms) && ms >= 0 && ms < 1e15) {
    const rest = ms % 1000;
    return String((ms - rest) / 1000) + FRACTIONS[rest]!;
  }
  const s = ms / 1000;
  return Number.isFinite(s) ? String(s) : 'null';
}

// A process writes for one system (or a few): `,"system_id":"…","timestamp":` of the last one seen.
let lastSystem: unknown;
let lastSystemText = ',"timestamp":';

function systemAndTime(systemId: unknown, ms: number): string {
  if (systemId !== lastSystem || typeof systemId !== 'string') {
    lastSystemText = text(',"system_id":', systemId) + ',"timestamp":';
    lastSystem = systemId;
  }
  return lastSystemText + seconds(ms);
}

function eventLine(r: PersistedEvent): string {
  return (
    '{"kind":"event"' +
    text(',"id":', r.id) +
    systemAndTime(r.systemId, r.timestamp) +
    addressAndType(events, ',"actor_address":', ',"event_type":', r.actorAddress, r.eventType) +
    member(',"payload":', r.payload) +
    '}'
  );
}

function auditLine(r: PersistedAudit): string {
  return (
    '{"kind":"audit"' +
    text(',"id":', r.id) +
    systemAndTime(r.systemId, r.timestamp) +
    member(',"total_actors":', r.totalActors) +
    member(',"alive_actors":', r.aliveActors) +
    member(',"stopping_actors":', r.stoppingActors) +
    member(',"restarting_actors":', r.restartingActors) +
    member(',"registry_size":', r.registrySize) +
    member(',"registry_orphans":', r.registryOrphans) +
    member(',"registry_dead":', r.registryDead) +
    member(',"dead_letters_count":', r.deadLettersCount) +
    '}'
  );
}

function deadLetterLine(r: PersistedDeadLetter): string {
  return (
    '{"kind":"dead_letter"' +
    text(',"id":', r.id) +
    systemAndTime(r.systemId, r.timestamp) +
    addressAndType(deadLetters, ',"target":', ',"message_type":', r.target, r.messageType) +
    member(',"expects_reply":', r.expectsReply) +
    member(',"payload":', r.payload) +
    text(',"reason":', r.reason) +
    '}'
  );
}

/**
 * One record as one line in Papyra's snake_case form, keys in Papyra's order. Throws on anything
 * JSON.stringify cannot take as it is (a cycle, a BigInt) and on records that are not records.
 */
export function encodeLine(record: PersistedRecord): string {
  switch (record.kind) {
    case 'event':
      return eventLine(record);
    case 'audit':
      return auditLine(record);
    case 'dead_letter':
      return deadLetterLine(record);
    default:
      throw new TypeError('unknown record kind');
  }
}
