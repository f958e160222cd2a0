import type { PersistenceBackend } from '../backend.js';
import type { PersistedDeadLetter, PersistedEvent } from '../records.js';
import { readRecords } from '../read.js';

export type ActorState = 'running' | 'crashed' | 'stopped' | 'unknown';

/** One actor as the stored facts describe it. */
export interface ActorSummary {
  address: string;
  /** From `ActorStarted`'s payload, where the runtime recorded it. */
  name: string | null;
  firstSeen: number;
  lastSeen: number;
  /** From the last lifecycle event: running (started/restarted), crashed (awaiting its supervisor), stopped. */
  state: ActorState;
  lastEvent: string;
  starts: number;
  restarts: number;
  crashes: number;
  stops: number;
  /** Dead letters addressed to it. */
  deadLetters: number;
  lastError: string | null;
  stopReason: string | null;
}

export interface InventoryOptions {
  /** Only facts at or after this time (epoch ms). */
  since?: number;
  state?: ActorState;
  signal?: AbortSignal;
}

/**
 * The inventory of actors from a store's events and dead letters: one streaming pass; memory
 * grows with the number of actors, not of records. Sorted by address (numerically within a system).
 */
export async function actorInventory(backend: PersistenceBackend, options: InventoryOptions = {}): Promise<ActorSummary[]> {
  const actors = new Map<string, ActorSummary>();
  const window = {
    kinds: ['event', 'dead_letter'] as const,
    ...(options.since !== undefined && { since: options.since }),
    ...(options.signal && { signal: options.signal }),
  };
  for await (const { record } of readRecords(backend, window)) {
    if (record.kind === 'event') observeEvent(actors, record);
    else if (record.kind === 'dead_letter') observeDeadLetter(actors, record);
  }
  const list = [...actors.values()].filter((a) => options.state === undefined || a.state === options.state);
  return list.sort((a, b) => compareAddresses(a.address, b.address));
}

/** Applies one event to the summary of its actor (exported for `explainActor`). */
export function observeEvent(actors: Map<string, ActorSummary>, event: PersistedEvent): void {
  if (event.actorAddress === null) return;
  const a = summaryOf(actors, event.actorAddress, event.timestamp);
  a.lastSeen = Math.max(a.lastSeen, event.timestamp);
  a.firstSeen = Math.min(a.firstSeen, event.timestamp);
  a.lastEvent = event.eventType;
  const payload = event.payload;
  switch (event.eventType) {
    case 'ActorStarted':
      a.starts += 1;
      a.state = 'running';
      if (typeof payload['name'] === 'string') a.name = payload['name'];
      break;
    case 'ActorRestarted':
      a.restarts += 1;
      a.state = 'running';
      break;
    case 'ActorCrashed':
      a.crashes += 1;
      a.state = 'crashed';
      a.lastError = textOf(payload['error']) ?? textOf(payload['reason']);
      break;
    case 'ActorStopped':
      a.stops += 1;
      a.state = 'stopped';
      a.stopReason = textOf(payload['reason']);
      break;
  }
}

function observeDeadLetter(actors: Map<string, ActorSummary>, deadLetter: PersistedDeadLetter): void {
  if (deadLetter.target === null) return;
  const a = summaryOf(actors, deadLetter.target, deadLetter.timestamp);
  a.deadLetters += 1;
  a.lastSeen = Math.max(a.lastSeen, deadLetter.timestamp);
  a.firstSeen = Math.min(a.firstSeen, deadLetter.timestamp);
}

function summaryOf(actors: Map<string, ActorSummary>, address: string, at: number): ActorSummary {
  let a = actors.get(address);
  if (!a) {
    a = {
      address,
      name: null,
      firstSeen: at,
      lastSeen: at,
      state: 'unknown',
      lastEvent: '',
      starts: 0,
      restarts: 0,
      crashes: 0,
      stops: 0,
      deadLetters: 0,
      lastError: null,
      stopReason: null,
    };
    actors.set(address, a);
  }
  return a;
}

export function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `sys:2` before `sys:10`: by system, then by the numeric part where there is one. */
export function compareAddresses(a: string, b: string): number {
  const [sa, na] = split(a);
  const [sb, nb] = split(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (na !== null && nb !== null && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function split(address: string): [string, number | null] {
  const at = address.lastIndexOf(':');
  if (at < 0) return [address, null];
  const n = Number(address.slice(at + 1));
  return [address.slice(0, at), Number.isFinite(n) ? n : null];
}
