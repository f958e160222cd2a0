import { describe, expect, it } from '@jest/globals';
import { createAudit, createDeadLetter, createEvent, encodedSize } from '@papyra/persistence-contract';
import { histogram, storeStats, summarize } from '../src/stats.js';

const ev = (eventType: string, actor: string, timestamp: number) => createEvent({ systemId: 'local', actorAddress: actor, eventType, payload: {}, timestamp });
const audit = (timestamp: number, totalActors: number) =>
  createAudit({
    systemId: 'local',
    timestamp,
    totalActors,
    aliveActors: 1,
    stoppingActors: 0,
    restartingActors: 0,
    registrySize: 1,
    registryOrphans: [],
    registryDead: [],
    deadLettersCount: 2,
  });
const dl = (target: string | null, messageType: string, timestamp: number) => createDeadLetter({ systemId: 'local', target, messageType, timestamp });

describe('histogram', () => {
  it('counts, most frequent first, ties by name in natural order', () => {
    expect(histogram(['b', 'a', 'b', 'local:10', 'local:9'])).toEqual([
      { name: 'b', count: 2 },
      { name: 'a', count: 1 },
      { name: 'local:9', count: 1 },
      { name: 'local:10', count: 1 },
    ]);
  });
});

describe('storeStats and summarize', () => {
  const events = [ev('ActorStarted', 'local:1', 1000), ev('ActorCrashed', 'local:1', 2000), ev('ActorStarted', 'local:2', 1500)];
  const audits = [audit(3000, 2), audit(2500, 1)];
  const deadLetters = [dl('local:2', 'str', 4000), dl('local:2', 'Greeting', 500), dl(null, 'str', 4500)];

  it('counts records and encoded bytes per kind, with the time range', () => {
    const stats = storeStats({ events, audits, deadLetters });
    expect(stats.events).toEqual({ records: 3, bytes: events.reduce((n, e) => n + encodedSize(e), 0), oldest: 1000, newest: 2000 });
    expect(stats.total.records).toBe(8);
    expect(stats.total.oldest).toBe(500);
    expect(stats.total.newest).toBe(4500);
    expect(storeStats({ events: [], audits: [], deadLetters: [] }).total).toEqual({ records: 0, bytes: 0, oldest: null, newest: null });
  });

  it('summarises event types, actors, dead letters and the latest audit', () => {
    const s = summarize({ events, audits, deadLetters });
    expect(s.counts).toEqual({ events: 3, audits: 2, deadLetters: 3 });
    expect(s.eventTypes).toEqual([
      { name: 'ActorStarted', count: 2 },
      { name: 'ActorCrashed', count: 1 },
    ]);
    expect(s.actors).toEqual([
      { name: 'local:1', count: 2 },
      { name: 'local:2', count: 1 },
    ]);
    expect(s.deadLettersByTarget).toEqual([
      { name: 'local:2', count: 2 },
      { name: '(none)', count: 1 },
    ]);
    expect(s.deadLettersByMessageType[0]).toEqual({ name: 'str', count: 2 });
    expect(s.latestAudit?.totalActors).toBe(2);
    expect(s.timeRange).toEqual({ oldest: 500, newest: 4500 });
  });
});
