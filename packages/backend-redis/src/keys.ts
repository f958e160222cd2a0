import type { RecordKind } from '@papyra/persistence-contract';

/** The stream of each record kind, named as Python Papyra names them. */
export const STREAM_SUFFIX: Record<RecordKind, string> = { event: 'events', audit: 'audits', dead_letter: 'dead_letters' };

export interface StreamKeys {
  event: string;
  audit: string;
  dead_letter: string;
  quarantine: string;
}

/** `<prefix>:<systemId>:<suffix>`; in cluster mode the system id is a hash tag so all share a slot. */
export function streamKeys(prefix: string, systemId: string, cluster: boolean): StreamKeys {
  const base = cluster ? `${prefix}:{${systemId}}` : `${prefix}:${systemId}`;
  return {
    event: `${base}:${STREAM_SUFFIX.event}`,
    audit: `${base}:${STREAM_SUFFIX.audit}`,
    dead_letter: `${base}:${STREAM_SUFFIX.dead_letter}`,
    quarantine: `${base}:quarantine`,
  };
}
