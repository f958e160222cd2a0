import type { PersistenceBackend } from '../backend.js';
import type { PersistedAudit } from '../records.js';
import { readRecords } from '../read.js';

export interface Count {
  name: string;
  count: number;
}

/** What a store holds, at a glance (`papyra inspect summary`). */
export interface StoreSummary {
  counts: { events: number; audits: number; deadLetters: number };
  /** Events per type, most frequent first. */
  eventTypes: Count[];
  /** Events per actor address. */
  actors: Count[];
  deadLettersByTarget: Count[];
  deadLettersByMessageType: Count[];
  timeRange: { oldest: number | null; newest: number | null };
  latestAudit: PersistedAudit | null;
}

/**
 * One streaming pass over the visible records: memory grows with the number of distinct event
 * types, actors and dead-letter targets, not with the number of records.
 */
export async function summarizeStore(backend: PersistenceBackend, options: { signal?: AbortSignal } = {}): Promise<StoreSummary> {
  const counts = { events: 0, audits: 0, deadLetters: 0 };
  const eventTypes = new Map<string, number>();
  const actors = new Map<string, number>();
  const targets = new Map<string, number>();
  const messageTypes = new Map<string, number>();
  let oldest: number | null = null;
  let newest: number | null = null;
  let latestAudit: PersistedAudit | null = null;
  const add = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);
  for await (const { record } of readRecords(backend, options)) {
    if (oldest === null || record.timestamp < oldest) oldest = record.timestamp;
    if (newest === null || record.timestamp > newest) newest = record.timestamp;
    switch (record.kind) {
      case 'event':
        counts.events += 1;
        add(eventTypes, record.eventType);
        add(actors, record.actorAddress ?? '(none)');
        break;
      case 'audit':
        counts.audits += 1;
        if (latestAudit === null || record.timestamp >= latestAudit.timestamp) latestAudit = record;
        break;
      case 'dead_letter':
        counts.deadLetters += 1;
        add(targets, record.target ?? '(none)');
        add(messageTypes, record.messageType);
        break;
    }
  }
  return {
    counts,
    eventTypes: histogram(eventTypes),
    actors: histogram(actors),
    deadLettersByTarget: histogram(targets),
    deadLettersByMessageType: histogram(messageTypes),
    timeRange: { oldest, newest },
    latestAudit,
  };
}

/** Most frequent first, then by name (numbers in names compared as numbers). */
function histogram(counts: Map<string, number>): Count[] {
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name, 'en', { numeric: true }));
}
