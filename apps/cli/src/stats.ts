import { encodedSize, type PersistedAudit, type PersistedDeadLetter, type PersistedEvent, type PersistedRecord } from '@papyra/persistence-contract';

export interface KindStats {
  records: number;
  /** Encoded bytes (the line and its newline), the unit of byte retention. */
  bytes: number;
  oldest: number | null;
  newest: number | null;
}

export interface StoreStats {
  events: KindStats;
  audits: KindStats;
  deadLetters: KindStats;
  total: KindStats;
}

export interface StoredRecords {
  events: readonly PersistedEvent[];
  audits: readonly PersistedAudit[];
  deadLetters: readonly PersistedDeadLetter[];
}

export function kindStats(records: readonly PersistedRecord[]): KindStats {
  let bytes = 0;
  let oldest: number | null = null;
  let newest: number | null = null;
  for (const r of records) {
    bytes += encodedSize(r);
    if (oldest === null || r.timestamp < oldest) oldest = r.timestamp;
    if (newest === null || r.timestamp > newest) newest = r.timestamp;
  }
  return { records: records.length, bytes, oldest, newest };
}

export function storeStats(all: StoredRecords): StoreStats {
  const events = kindStats(all.events);
  const audits = kindStats(all.audits);
  const deadLetters = kindStats(all.deadLetters);
  const parts = [events, audits, deadLetters];
  const times = (pick: (s: KindStats) => number | null) => parts.map(pick).filter((t): t is number => t !== null);
  const oldest = times((s) => s.oldest);
  const newest = times((s) => s.newest);
  return {
    events,
    audits,
    deadLetters,
    total: {
      records: parts.reduce((n, s) => n + s.records, 0),
      bytes: parts.reduce((n, s) => n + s.bytes, 0),
      oldest: oldest.length ? Math.min(...oldest) : null,
      newest: newest.length ? Math.max(...newest) : null,
    },
  };
}

export interface Count {
  name: string;
  count: number;
}

export interface Summary {
  counts: { events: number; audits: number; deadLetters: number };
  eventTypes: Count[];
  /** Every actor address seen in events, with its event count. */
  actors: Count[];
  deadLettersByTarget: Count[];
  deadLettersByMessageType: Count[];
  timeRange: { oldest: number | null; newest: number | null };
  latestAudit: PersistedAudit | null;
}

/** What `inspect summary` shows: counts, histograms and the latest audit. */
export function summarize(all: StoredRecords): Summary {
  const stats = storeStats(all);
  const latestAudit = all.audits.reduce<PersistedAudit | null>((latest, a) => (latest === null || a.timestamp >= latest.timestamp ? a : latest), null);
  return {
    counts: { events: all.events.length, audits: all.audits.length, deadLetters: all.deadLetters.length },
    eventTypes: histogram(all.events.map((e) => e.eventType)),
    actors: histogram(all.events.map((e) => e.actorAddress ?? '(none)')),
    deadLettersByTarget: histogram(all.deadLetters.map((d) => d.target ?? '(none)')),
    deadLettersByMessageType: histogram(all.deadLetters.map((d) => d.messageType)),
    timeRange: { oldest: stats.total.oldest, newest: stats.total.newest },
    latestAudit,
  };
}

/** Counts per name, most frequent first, then by name. */
export function histogram(names: readonly string[]): Count[] {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name, 'en', { numeric: true }));
}
