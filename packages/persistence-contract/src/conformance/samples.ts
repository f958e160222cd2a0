import {
  createAudit,
  createDeadLetter,
  createEvent,
  type PersistedAudit,
  type PersistedDeadLetter,
  type PersistedEvent,
  type PersistedRecord,
} from '../records.js';
import type { PersistenceBackend } from '../backend.js';

/** Records the scenarios write. Every record gets a fresh id; timestamps default to now. */
export const SYSTEM = 'conformance';

export function sampleEvent(n: number, over: Partial<PersistedEvent> = {}): PersistedEvent {
  const { payload, ...rest } = over;
  return { ...createEvent({ systemId: SYSTEM, actorAddress: `${SYSTEM}:${n}`, eventType: 'ActorStarted', payload: payload ?? { n } }), ...rest };
}

export function sampleAudit(n: number, over: Partial<PersistedAudit> = {}): PersistedAudit {
  return {
    ...createAudit({
      systemId: SYSTEM,
      totalActors: n,
      aliveActors: n,
      stoppingActors: 0,
      restartingActors: 1,
      registrySize: n + 1,
      registryOrphans: [`${SYSTEM}:${n + 100}`],
      registryDead: [],
      deadLettersCount: n * 2,
    }),
    ...over,
  };
}

export function sampleDeadLetter(n: number, over: Partial<PersistedDeadLetter> = {}): PersistedDeadLetter {
  const { payload, ...rest } = over;
  return {
    ...createDeadLetter({
      systemId: SYSTEM,
      target: `${SYSTEM}:${n}`,
      messageType: 'Ping',
      expectsReply: n % 2 === 0,
      payload: payload === undefined ? { n } : payload,
      reason: 'actor stopped',
    }),
    ...rest,
  };
}

/** A mix of every kind, interleaved, with strictly increasing timestamps ending now. */
export function mixedRecords(count: number, now = Date.now()): PersistedRecord[] {
  const out: PersistedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const timestamp = now - (count - i);
    const make = [sampleEvent, sampleAudit, sampleDeadLetter][i % 3]!;
    out.push(make(i, { timestamp }));
  }
  return out;
}

export async function write(backend: PersistenceBackend, record: PersistedRecord): Promise<void> {
  switch (record.kind) {
    case 'event':
      return backend.recordEvent(record);
    case 'audit':
      return backend.recordAudit(record);
    case 'dead_letter':
      return backend.recordDeadLetter(record);
  }
}

/** Writes one after the other, each awaited, then flushes. */
export async function writeAll(backend: PersistenceBackend, records: readonly PersistedRecord[]): Promise<void> {
  for (const record of records) await write(backend, record);
  await backend.flush();
}

export interface Listed {
  events: PersistedEvent[];
  audits: PersistedAudit[];
  deadLetters: PersistedDeadLetter[];
}

export async function listAll(backend: PersistenceBackend): Promise<Listed> {
  return { events: await backend.listEvents(), audits: await backend.listAudits(), deadLetters: await backend.listDeadLetters() };
}

/** What `listAll` must return for records written in this order (and kept by retention). */
export function byKind(records: readonly PersistedRecord[]): Listed {
  return {
    events: records.filter((r): r is PersistedEvent => r.kind === 'event'),
    audits: records.filter((r): r is PersistedAudit => r.kind === 'audit'),
    deadLetters: records.filter((r): r is PersistedDeadLetter => r.kind === 'dead_letter'),
  };
}
