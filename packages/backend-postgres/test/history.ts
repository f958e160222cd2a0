import { createAudit, createDeadLetter, createEvent, type PersistedRecord } from '@papyra/persistence-contract';
import type { PostgresBackend } from '../src/index.js';

export const NOW = 1_800_000_000_000;
export const clock = () => NOW;

/**
 * A mixed history, oldest first: the three kinds interleaved, ages from 60 s to now, sizes varying
 * with `pad` repeated up to `width` times (a multi-byte `pad` checks bytes against characters).
 */
export function history(pad: string, width: number): PersistedRecord[] {
  const out: PersistedRecord[] = [];
  for (let i = 0; i < 60; i++) {
    const timestamp = NOW - (60 - i) * 1_000;
    const text = pad.repeat((i * 37) % width);
    if (i % 3 === 0) out.push(createEvent({ systemId: 's', actorAddress: `s:${i}`, eventType: 'ActorStarted', payload: { pad: text }, timestamp }));
    else if (i % 3 === 1) out.push(createDeadLetter({ systemId: 's', target: `s:${i}`, messageType: 'M', payload: text, timestamp }));
    else
      out.push(
        createAudit({
          systemId: 's',
          totalActors: i,
          aliveActors: i,
          stoppingActors: 0,
          restartingActors: 0,
          registrySize: i,
          registryOrphans: [text],
          registryDead: [],
          deadLettersCount: 0,
          timestamp,
        }),
      );
  }
  return out;
}

/** Writes every record without awaiting each, then flushes: one batch, as a busy system writes. */
export async function store(backend: PostgresBackend, records: PersistedRecord[]): Promise<void> {
  for (const r of records) {
    if (r.kind === 'event') void backend.recordEvent(r);
    else if (r.kind === 'audit') void backend.recordAudit(r);
    else void backend.recordDeadLetter(r);
  }
  await backend.flush();
}
