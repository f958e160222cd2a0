import { describe, expect, it } from '@jest/globals';
import { createDeadLetter, createEvent, storeStats, type PersistedRecord } from '../src/index.js';
import { actorInventory, explainActor } from '../src/insights/index.js';
import { Disk, LineStoreBackend } from './support/line-store.js';

/** A small seeded PRNG (mulberry32): the same seed gives the same store. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WITHIN = 60_000;
const MAX = 3;

/**
 * A synthetic store: a root with fanned-out children, chains of escalation (a child's crash makes
 * its parent crash and restart, which stops the child), and restart storms (more than MAX
 * restarts, each within WITHIN of the one before) separated by quiet hours. Returns the records
 * and the ground truth: per actor, the first crash of each storm and its event counts.
 */
function synthetic(seed: number) {
  const random = rng(seed);
  const records: PersistedRecord[] = [];
  const truth = new Map<string, { storms: number[]; counts: Record<string, number>; deadLetters: number }>();
  let clock = 1_700_000_000_000;
  const emit = (address: string, eventType: string, payload: Record<string, unknown> = {}) => {
    clock += 1 + Math.floor(random() * 50);
    records.push(createEvent({ systemId: 's', actorAddress: address, eventType, payload, timestamp: clock }));
    const t = truth.get(address)!;
    t.counts[eventType] = (t.counts[eventType] ?? 0) + 1;
    return clock;
  };
  const actors = Array.from({ length: 40 }, (_, i) => `s:${i + 1}`);
  for (const a of actors) {
    truth.set(a, { storms: [], counts: {}, deadLetters: 0 });
    emit(a, 'ActorStarted', { name: `worker-${a}`, supervision: { strategy: 'restart', maxRestarts: MAX, withinMs: WITHIN } });
  }
  for (let round = 0; round < 12; round++) {
    clock += 2 * WITHIN + Math.floor(random() * WITHIN); // quiet: any storm is over
    for (const a of actors) {
      const roll = random();
      if (roll < 0.25) {
        // a storm: MAX+1 .. MAX+4 crash/restart pairs, each gap well inside the window, and well
        // apart from any other restart of this actor (an escalation from a child in this round)
        clock += 2 * WITHIN;
        const n = MAX + 1 + Math.floor(random() * 4);
        const first = emit(a, 'ActorCrashed', { error: `boom ${round}` });
        truth.get(a)!.storms.push(first);
        emit(a, 'ActorRestarted', { reason: 'actor restarted' });
        for (let k = 1; k < n; k++) {
          clock += Math.floor(random() * 5_000);
          emit(a, 'ActorCrashed', { error: `again ${k}` });
          emit(a, 'ActorRestarted', { reason: 'actor restarted' });
        }
      } else if (roll < 0.45) {
        // one isolated crash and restart: not a storm
        emit(a, 'ActorCrashed', { error: 'once' });
        emit(a, 'ActorRestarted', { reason: 'actor restarted' });
      } else if (roll < 0.55) {
        // escalation: a child crashes, escalates; the parent crashes and restarts, stopping the child
        const parent = actors[Math.floor(Number(a.slice(2)) / 2)] ?? 's:1';
        if (parent === a) continue;
        clock += 2 * WITHIN; // so that several escalations to one parent never make a storm of their own
        emit(a, 'ActorCrashed', { error: 'escalated' });
        emit(parent, 'ActorCrashed', { error: `child ${a} escalated` });
        emit(a, 'ActorStopped', { reason: 'parent restarted' });
        emit(parent, 'ActorRestarted', { reason: 'actor restarted' });
        emit(a, 'ActorStarted', { name: `worker-${a}`, supervision: { strategy: 'restart', maxRestarts: MAX, withinMs: WITHIN } });
      } else if (roll < 0.6) {
        clock += 10;
        records.push(createDeadLetter({ systemId: 's', target: a, messageType: 'Job', reason: 'mailbox full', timestamp: clock }));
        truth.get(a)!.deadLetters += 1;
      }
    }
  }
  return { records, truth };
}

async function storeOf(records: PersistedRecord[]) {
  const backend = new LineStoreBackend({ disk: new Disk(), path: 'synthetic' });
  for (const r of records) {
    if (r.kind === 'event') await backend.recordEvent(r);
    else if (r.kind === 'dead_letter') await backend.recordDeadLetter(r);
  }
  return backend;
}

describe('insights on a seeded synthetic store', () => {
  const seed = Number(process.env['SEED'] ?? Math.floor(Math.random() * 1e9));
  console.log(`insights seed=${seed}`);

  it('explain names the first crash of every restart storm; actors match an independent tally', async () => {
    const { records, truth } = synthetic(seed);
    const backend = await storeOf(records);

    const inventory = await actorInventory(backend);
    expect(inventory.map((a) => a.address)).toEqual([...truth.keys()]);
    for (const a of inventory) {
      const t = truth.get(a.address)!;
      expect({ address: a.address, crashes: a.crashes, restarts: a.restarts, stops: a.stops, starts: a.starts, deadLetters: a.deadLetters }).toEqual({
        address: a.address,
        crashes: t.counts['ActorCrashed'] ?? 0,
        restarts: t.counts['ActorRestarted'] ?? 0,
        stops: t.counts['ActorStopped'] ?? 0,
        starts: t.counts['ActorStarted'] ?? 0,
        deadLetters: t.deadLetters,
      });
      expect(a.name).toBe(`worker-${a.address}`);
    }

    let storms = 0;
    for (const [address, t] of truth) {
      const explanation = await explainActor(backend, address);
      expect(explanation.policy).toEqual({ maxRestarts: MAX, withinMs: WITHIN, recorded: true });
      expect({ address, firstCrashes: explanation.storms.map((s) => s.firstCrash.at) }).toEqual({ address, firstCrashes: t.storms });
      storms += t.storms.length;
      for (const crash of explanation.entries.filter((e) => e.kind === 'crashed')) expect(crash.decision).not.toBe('pending');
    }
    expect(storms).toBeGreaterThan(0);
  });

  it('storeStats counts records, bytes and the time span per kind in one pass', async () => {
    const { records } = synthetic(seed);
    const backend = await storeOf(records);
    const stats = await storeStats(backend);
    const events = records.filter((r) => r.kind === 'event');
    expect(stats.kinds.event.records).toBe(events.length);
    expect(stats.kinds.event.oldest).toBe(Math.min(...events.map((e) => e.timestamp)));
    expect(stats.total.records).toBe(records.length);
    expect(stats.total.bytes).toBe(Buffer.byteLength(backend.disk.files.get(backend.path)!));
  });
});
