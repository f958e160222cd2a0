// Mixed records for the transfer tests and scripts/round-trip.mjs: events, audits and dead letters
// interleaved in one timestamp order (some timestamps shared, ids breaking the tie), with Unicode,
// nested and fractional payloads. Deterministic for a given seed (ids aside: they are UUIDv7s).
import { createAudit, createDeadLetter, createEvent } from '@papyra/persistence-contract';

const TEXTS = ['grüße ✓', 'héllo', '日本語のテキスト', 'emoji 🦀🎉', 'quote " backslash \\ tab \t', 'zero-width \u200b joiner', 'plain'];

/** mulberry32, as test/support.ts. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min, max) => min + Math.floor(next() * (max - min + 1)), pick: (items) => items[Math.floor(next() * items.length)] };
}

/** Record `i` of a generated store; timestamps never decrease with `i`. */
export function mixedRecord(i, rng, base = 1_760_000_000_000) {
  const timestamp = base + Math.floor(i / 2) * 3; // pairs share a timestamp
  const text = rng.pick(TEXTS);
  const systemId = `sys-${i % 3}`;
  const roll = rng.next();
  if (roll < 0.1) {
    return createAudit({
      systemId,
      timestamp,
      totalActors: i,
      aliveActors: i - (i % 7),
      stoppingActors: i % 2,
      restartingActors: i % 3,
      registrySize: i,
      registryOrphans: i % 11 === 0 ? [`local:${i}`] : [],
      registryDead: [],
      deadLettersCount: i % 13,
    });
  }
  if (roll < 0.25) {
    return createDeadLetter({
      systemId,
      timestamp,
      target: `local:${i % 97}`,
      messageType: rng.pick(['Ping', 'Greeting', 'Ask']),
      payload: rng.next() < 0.5 ? text : { text, n: i, ratio: i / 7, nested: { list: [1, null, true, text] } },
      expectsReply: i % 5 === 0,
    });
  }
  return createEvent({
    systemId,
    timestamp,
    actorAddress: `local:${i % 101}`,
    eventType: rng.pick(['ActorStarted', 'ActorCrashed', 'ActorRestarted', 'ActorStopped']),
    payload: { i, text, pad: 'x'.repeat(rng.int(0, 120)) },
  });
}

/** Writes `n` generated records through `backend`, in timestamp order, `concurrency` in flight. */
export async function fill(backend, n, seed, concurrency = 256) {
  const rng = prng(seed);
  let inFlight = [];
  for (let i = 0; i < n; i++) {
    // Created one at a time in order, so ids (UUIDv7) increase with timestamps, ties included.
    const r = mixedRecord(i, rng);
    inFlight.push(r.kind === 'event' ? backend.recordEvent(r) : r.kind === 'audit' ? backend.recordAudit(r) : backend.recordDeadLetter(r));
    if (inFlight.length >= concurrency) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  await backend.flush();
}
