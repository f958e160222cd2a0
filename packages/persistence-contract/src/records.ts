import { newRecordId } from './ids.js';
import { toJsonValue, type JsonObject, type JsonValue } from './json.js';

export type RecordKind = 'event' | 'audit' | 'dead_letter';
export const RECORD_KINDS: readonly RecordKind[] = ['event', 'audit', 'dead_letter'];

export interface RecordBase {
  /** Time-ordered unique id (UUIDv7); `null` only for records read from stores written without ids. */
  id: string | null;
  systemId: string;
  /** Wall-clock epoch milliseconds. */
  timestamp: number;
}

export interface PersistedEvent extends RecordBase {
  kind: 'event';
  /** `"<system>:<actorId>"`. */
  actorAddress: string | null;
  eventType: string;
  payload: JsonObject;
}

export interface PersistedAudit extends RecordBase {
  kind: 'audit';
  totalActors: number;
  aliveActors: number;
  stoppingActors: number;
  restartingActors: number;
  registrySize: number;
  registryOrphans: string[];
  registryDead: string[];
  deadLettersCount: number;
}

export interface PersistedDeadLetter extends RecordBase {
  kind: 'dead_letter';
  target: string | null;
  messageType: string;
  expectsReply: boolean;
  payload: JsonValue;
  reason: string;
}

export type PersistedRecord = PersistedEvent | PersistedAudit | PersistedDeadLetter;

type Init<T extends PersistedRecord> = Omit<T, 'kind' | 'id' | 'timestamp'> & { id?: string | null; timestamp?: number };

/** Builds an event with a fresh id and the current time; the payload is made JSON-safe. */
export function createEvent(init: Omit<Init<PersistedEvent>, 'payload'> & { payload?: unknown }): PersistedEvent {
  const timestamp = init.timestamp ?? Date.now();
  const payload = toJsonValue(init.payload ?? {});
  return {
    kind: 'event',
    id: init.id === undefined ? newRecordId(timestamp) : init.id,
    systemId: init.systemId,
    timestamp,
    actorAddress: init.actorAddress,
    eventType: init.eventType,
    payload: typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? payload : { value: payload },
  };
}

export function createAudit(init: Init<PersistedAudit>): PersistedAudit {
  const timestamp = init.timestamp ?? Date.now();
  return { ...init, kind: 'audit', id: init.id === undefined ? newRecordId(timestamp) : init.id, timestamp };
}

export function createDeadLetter(
  init: Omit<Init<PersistedDeadLetter>, 'payload' | 'expectsReply' | 'reason'> & { payload?: unknown; expectsReply?: boolean; reason?: string },
): PersistedDeadLetter {
  const timestamp = init.timestamp ?? Date.now();
  return {
    kind: 'dead_letter',
    id: init.id === undefined ? newRecordId(timestamp) : init.id,
    systemId: init.systemId,
    timestamp,
    target: init.target,
    messageType: init.messageType,
    expectsReply: init.expectsReply ?? false,
    payload: toJsonValue(init.payload ?? null),
    reason: init.reason ?? '',
  };
}
