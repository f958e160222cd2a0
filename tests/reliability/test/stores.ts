import { createAudit, createDeadLetter, createEvent, decodeRecord, encodeRecord, inspectLine, type PersistedRecord } from '@papyra/persistence-contract';
import type { prng } from './support.js';

type Rng = ReturnType<typeof prng>;

/** One line of a generated store: its bytes (without `\n`) and whether it is a valid record. */
export interface StoreLine {
  bytes: Buffer;
  valid: boolean;
}

/** A valid record of a rotating kind, stamped `base + i` ms, padded to a varying size. */
export function sampleRecord(i: number, rng: Rng, base = 1_700_000_000_000): PersistedRecord {
  const timestamp = base + i;
  const pad = 'x'.repeat(rng.int(0, 400));
  switch (i % 4) {
    case 1:
      return createAudit({
        systemId: 'fill',
        timestamp,
        totalActors: i,
        aliveActors: i,
        stoppingActors: 0,
        restartingActors: 0,
        registrySize: i,
        registryOrphans: [],
        registryDead: [],
        deadLettersCount: 0,
      });
    case 3:
      return createDeadLetter({ systemId: 'fill', timestamp, target: `fill:${i}`, messageType: 'Ping', payload: { i, pad, text: 'grüße ✓' } });
    default:
      return createEvent({ systemId: 'fill', timestamp, actorAddress: `fill:${i}`, eventType: 'ActorStarted', payload: { i, pad } });
  }
}

const CORRUPTIONS: readonly ((rng: Rng) => Buffer)[] = [
  () => Buffer.from('{"kind": "event", "system_id": "x", "timest'),
  () => Buffer.from([0xff, 0xfe, 0x7b, 0x22]),
  () => Buffer.from('[1, 2, 3]'),
  () => Buffer.from('{"kind": "martian", "timestamp": 1}'),
  () => Buffer.from(''),
  (rng) => Buffer.from(Array.from({ length: rng.int(1, 200) }, () => rng.int(0, 255)).map((b) => (b === 10 ? 32 : b))),
];

/**
 * A store of `records` valid lines with a corrupt line every ~`corruptEvery` lines and, when
 * `tornTail`, a last line without `\n`.
 */
export function buildStore(rng: Rng, options: { records: number; corruptEvery?: number; tornTail?: boolean }): { lines: StoreLine[]; bytes: Buffer } {
  const lines: StoreLine[] = [];
  for (let i = 0; i < options.records; i++) {
    if (options.corruptEvery && rng.int(1, options.corruptEvery) === 1) {
      const bytes = rng.pick(CORRUPTIONS)(rng);
      lines.push({ bytes, valid: inspectLine(bytes).ok });
    }
    lines.push({ bytes: Buffer.from(encodeRecord(sampleRecord(i, rng))), valid: true });
  }
  const body = Buffer.concat(lines.flatMap((line) => [line.bytes, Buffer.from('\n')]));
  if (!options.tornTail) return { lines, bytes: body };
  const tail = Buffer.from(encodeRecord(sampleRecord(options.records, rng))).subarray(0, rng.int(1, 60));
  return { lines, bytes: Buffer.concat([body, tail]) };
}

/** The bytes repair must leave: every valid line, byte for byte, in order. */
export function repairedBytes(lines: readonly StoreLine[]): Buffer {
  return Buffer.concat(lines.filter((line) => line.valid).flatMap((line) => [line.bytes, Buffer.from('\n')]));
}

/** The complete (`\n`-terminated) lines of a file and its unterminated tail. */
export function splitLines(bytes: Buffer): { lines: Buffer[]; tail: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, start)) {
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  return { lines, tail: bytes.subarray(start) };
}

/** Run and sequence number of a record made by children/records.mjs. */
export function sequenceOf(line: Buffer): { run: number; seq: number } {
  const record = decodeRecord(line);
  const run = Number(record.systemId.slice('run-'.length));
  switch (record.kind) {
    case 'audit':
      return { run, seq: record.totalActors };
    case 'event':
      return { run, seq: record.payload['seq'] as number };
    case 'dead_letter':
      return { run, seq: (record.payload as { seq: number }).seq };
  }
}
