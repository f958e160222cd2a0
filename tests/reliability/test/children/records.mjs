// Records that carry their writer's run and sequence number, so a test can tell exactly which
// writes reached the file, in which order. Kinds rotate: event, event, audit, event, dead letter.
import { createAudit, createDeadLetter, createEvent } from '@papyra/persistence-contract';

export function sequenced(run, seq, padBytes) {
  const systemId = `run-${run}`;
  const pad = 'p'.repeat(padBytes);
  switch (seq % 5) {
    case 2:
      return createAudit({
        systemId,
        totalActors: seq,
        aliveActors: seq,
        stoppingActors: 0,
        restartingActors: 0,
        registrySize: 0,
        registryOrphans: [pad],
        registryDead: [],
        deadLettersCount: 0,
      });
    case 4:
      return createDeadLetter({ systemId, target: `${systemId}:${seq}`, messageType: 'Ping', payload: { seq, pad, text: 'héllo ✓' }, reason: 'seq' });
    default:
      return createEvent({ systemId, actorAddress: `${systemId}:${seq}`, eventType: 'ActorStarted', payload: { seq, pad } });
  }
}
