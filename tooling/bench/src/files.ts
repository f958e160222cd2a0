import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { createAudit, createEvent, decodeRecord, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';

export function makeEvents(n: number): PersistedEvent[] {
  const base = Date.now();
  return Array.from({ length: n }, (_, i) =>
    createEvent({
      systemId: 'bench',
      actorAddress: `bench:${(i % 100) + 1}`,
      eventType: i % 7 ? 'ActorStarted' : 'ActorCrashed',
      payload: { reason: 'benchmark', n: i },
      timestamp: base + i,
    }),
  );
}

/** Writes `n` records (9 events to 1 audit), all older than now, straight to a file, for the read benchmarks. */
export function writeStore(path: string, n: number): void {
  const fd = openSync(path, 'w', 0o600);
  const base = Date.now() - 3_600_000 - n;
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    const record =
      i % 10 === 9
        ? createAudit({
            systemId: 'bench',
            timestamp: base + i,
            totalActors: 3,
            aliveActors: 2,
            stoppingActors: 0,
            restartingActors: 1,
            registrySize: 3,
            registryOrphans: [],
            registryDead: [],
            deadLettersCount: 0,
          })
        : createEvent({
            systemId: 'bench',
            actorAddress: `bench:${(i % 100) + 1}`,
            eventType: 'ActorStarted',
            payload: { reason: 'benchmark', n: i },
            timestamp: base + i,
          });
    chunk.push(encodeRecord(record));
    if (chunk.length === 10_000) {
      writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) writeSync(fd, chunk.join('\n') + '\n');
  closeSync(fd);
}

/**
 * The records readable in an NDJSON file written by one of the append arms: its complete lines,
 * after checking that the last one decodes (a torn or garbled tail would not).
 */
export function readableLines(path: string, decode: boolean): number {
  const fd = openSync(path, 'r');
  const buffer = Buffer.alloc(1 << 20);
  let lines = 0;
  let tail = Buffer.alloc(0);
  try {
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0;) {
      for (let at = buffer.indexOf(10); at >= 0 && at < n; at = buffer.indexOf(10, at + 1)) lines += 1;
      tail = Buffer.from(buffer.subarray(Math.max(0, n - 64 * 1024), n));
    }
  } finally {
    closeSync(fd);
  }
  const text = tail.toString('utf8').trimEnd();
  const last = text.slice(text.lastIndexOf('\n') + 1);
  if (lines > 0) {
    const parsed = JSON.parse(last) as object;
    if (decode) decodeRecord(parsed);
  }
  return lines;
}
