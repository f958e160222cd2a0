import { describe, expect, it } from '@jest/globals';
import { createAudit, createDeadLetter, createEvent } from '../src/index.js';
import { summarizeStore } from '../src/insights/index.js';
import { Disk, LineStoreBackend } from './support/line-store.js';

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

describe('summarizeStore', () => {
  it('summarises event types, actors, dead letters and the latest audit in one pass', async () => {
    const backend = new LineStoreBackend({ disk: new Disk(), path: 'summary' });
    for (const e of [ev('ActorStarted', 'local:10', 1000), ev('ActorCrashed', 'local:10', 2000), ev('ActorStarted', 'local:9', 1500)])
      await backend.recordEvent(e);
    for (const a of [audit(3000, 2), audit(2500, 1)]) await backend.recordAudit(a);
    for (const d of [dl('local:2', 'str', 4000), dl('local:2', 'Greeting', 500), dl(null, 'str', 4500)]) await backend.recordDeadLetter(d);
    const s = await summarizeStore(backend);
    expect(s.counts).toEqual({ events: 3, audits: 2, deadLetters: 3 });
    expect(s.eventTypes).toEqual([
      { name: 'ActorStarted', count: 2 },
      { name: 'ActorCrashed', count: 1 },
    ]);
    // Most frequent first; ties by name, numbers compared as numbers.
    expect(s.actors).toEqual([
      { name: 'local:10', count: 2 },
      { name: 'local:9', count: 1 },
    ]);
    expect(s.deadLettersByTarget).toEqual([
      { name: 'local:2', count: 2 },
      { name: '(none)', count: 1 },
    ]);
    expect(s.deadLettersByMessageType[0]).toEqual({ name: 'str', count: 2 });
    expect(s.latestAudit?.totalActors).toBe(2);
    expect(s.timeRange).toEqual({ oldest: 500, newest: 4500 });
    expect(await summarizeStore(new LineStoreBackend({ disk: new Disk(), path: 'empty' }))).toMatchObject({
      counts: { events: 0, audits: 0, deadLetters: 0 },
      timeRange: { oldest: null, newest: null },
      latestAudit: null,
    });
  });
});
