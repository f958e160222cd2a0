import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { createAudit, createEvent, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { writeBatched } from '../baselines/batched-writer.js';
import { childScript, median, perSecond, repeat, sideBySide, timed, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';

const run = promisify(execFile);
const scanChild = childScript('scan');

export function makeEvents(n: number): PersistedEvent[] {
  const base = Date.now();
  return Array.from({ length: n }, (_, i) =>
    createEvent({ systemId: 'bench', actorAddress: `bench:${(i % 100) + 1}`, eventType: i % 7 ? 'ActorStarted' : 'ActorCrashed', payload: { reason: 'benchmark', n: i }, timestamp: base + i }),
  );
}

/** Writes `n` records (9 events to 1 audit) straight to a file, for the read benchmarks. */
function writeStore(path: string, n: number): void {
  const fd = openSync(path, 'w', 0o600);
  const base = Date.now() - n;
  let chunk: string[] = [];
  for (let i = 0; i < n; i++) {
    const record =
      i % 10 === 9
        ? createAudit({ systemId: 'bench', timestamp: base + i, totalActors: 3, aliveActors: 2, stoppingActors: 0, restartingActors: 1, registrySize: 3, registryOrphans: [], registryDead: [], deadLettersCount: 0 })
        : createEvent({ systemId: 'bench', actorAddress: `bench:${(i % 100) + 1}`, eventType: 'ActorStarted', payload: { reason: 'benchmark', n: i }, timestamp: base + i });
    chunk.push(encodeRecord(record));
    if (chunk.length === 10_000) {
      writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) writeSync(fd, chunk.join('\n') + '\n');
  closeSync(fd);
}

async function papyraAppend(dir: string, events: readonly PersistedEvent[], fsync: 'never' | 'always', writers: number): Promise<number> {
  const path = join(dir, `papyra-${Math.random().toString(36).slice(2)}.ndjson`);
  const backend = new NdjsonBackend({ path, fsync });
  const ms = await timed(async () => {
    if (writers === 0) {
      // Sustained producer: fire writes, await them in windows so memory stays bounded.
      for (let i = 0; i < events.length; i += 10_000) await Promise.all(events.slice(i, i + 10_000).map((e) => backend.recordEvent(e)));
    } else {
      let next = 0;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (next < events.length) await backend.recordEvent(events[next++]!);
        }),
      );
    }
    await backend.flush();
  });
  await backend.close();
  rmSync(path, { force: true });
  return perSecond(events.length, ms);
}

async function baselineAppend(dir: string, events: readonly PersistedEvent[], fsync: boolean): Promise<number> {
  const path = join(dir, `baseline-${Math.random().toString(36).slice(2)}.ndjson`);
  const ms = await timed(async () => writeBatched(path, events, { batch: 1000, fsync }));
  rmSync(path, { force: true });
  return perSecond(events.length, ms);
}

async function pinoAppend(dir: string, events: readonly PersistedEvent[]): Promise<number> {
  const path = join(dir, `pino-${Math.random().toString(36).slice(2)}.ndjson`);
  const destination = pino.destination({ dest: path, sync: false, minLength: 4096 });
  await once(destination, 'ready');
  const logger = pino({ base: null }, destination);
  const ms = await timed(async () => {
    for (const e of events) logger.info(e);
    const closed = once(destination, 'close');
    destination.end();
    await closed;
  });
  rmSync(path, { force: true });
  return perSecond(events.length, ms);
}

async function childScan(mode: 'papyra' | 'readline', path: string): Promise<{ ms: number; maxRssMb: number }> {
  const { stdout } = await run(process.execPath, [scanChild, mode, path], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as { ms: number; maxRssMb: number };
}

async function listTail(path: string, runs: number): Promise<number> {
  const backend = new NdjsonBackend({ path });
  const times = await repeat(runs, () => timed(() => backend.listEvents({ limit: 50 })));
  await backend.close();
  return median(times);
}

export async function ndjsonSection(scale: Scale): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'papyra-bench-ndjson-'));
  try {
    const figures: Figure[] = [];
    const events = makeEvents(scale.appendRecords);

    const [papyra, baseline] = await sideBySide(scale.runs, () => papyraAppend(dir, events, 'never', 0), () => baselineAppend(dir, events, false));
    const pinoRuns = await sideBySide(scale.runs, () => papyraAppend(dir, events, 'never', 0), () => pinoAppend(dir, events));
    figures.push(
      { section: 'ndjson', name: `sustained append, fsync never, ${events.length.toLocaleString('en-US')} records`, subject: { label: 'NdjsonBackend', unit: 'rec/s', values: papyra }, baseline: { label: 'batched writeSync', unit: 'rec/s', values: baseline }, target: { kind: 'min-ratio', value: 0.8 }, note: "a `node --cpu-prof` profile puts 52–55% of self time in the contract's encodeRecord (about 1.25× a plain JSON.stringify of the record) and ~10% in the producer's Promise.all over 10,000 promises; the writer itself is ~2% (packages/backend-ndjson/README.md)" },
      { section: 'ndjson', name: 'sustained append vs pino, same objects', subject: { label: 'NdjsonBackend', unit: 'rec/s', values: pinoRuns[0] }, baseline: { label: 'pino (async destination)', unit: 'rec/s', values: pinoRuns[1] }, target: { kind: 'min-ratio', value: 3 } },
    );

    const durable = events.slice(0, scale.fsyncRecords);
    const [group, perThousand] = await sideBySide(scale.runs, () => papyraAppend(dir, durable, 'always', 256), () => baselineAppend(dir, durable, true));
    figures.push({ section: 'ndjson', name: `fsync always, 256 concurrent writers, ${durable.length.toLocaleString('en-US')} records`, subject: { label: 'group commit', unit: 'rec/s', values: group }, baseline: { label: 'writeSync + fsync per 1,000', unit: 'rec/s', values: perThousand }, target: { kind: 'min-ratio', value: 0.5 } });

    const big = join(dir, 'big.ndjson');
    writeStore(big, scale.scanRecords);
    const size = statSync(big).size;
    const scans = await sideBySide(scale.runs, () => childScan('papyra', big), () => childScan('readline', big));
    const scanFigures = scans.map((list) => list.map((r) => perSecond(scale.scanRecords, r.ms)));
    figures.push(
      { section: 'ndjson', name: `scan of ${scale.scanRecords.toLocaleString('en-US')} records (${(size / 2 ** 20).toFixed(0)} MiB)`, subject: { label: 'scan()', unit: 'rec/s', values: scanFigures[0]! }, baseline: { label: 'readline + JSON.parse', unit: 'rec/s', values: scanFigures[1]! }, target: { kind: 'min-ratio', value: 0.9 } },
      { section: 'ndjson', name: 'peak RSS of that scan (child process)', subject: { label: 'scan()', unit: 'MB', values: scans[0].map((r) => r.maxRssMb) }, baseline: { label: 'readline + JSON.parse', unit: 'MB', values: scans[1].map((r) => r.maxRssMb) }, target: { kind: 'max', value: 100 } },
    );

    const small = join(dir, 'small.ndjson');
    writeStore(small, 1000);
    const tails = await sideBySide(scale.runs, () => listTail(big, 20), () => listTail(small, 20));
    figures.push({ section: 'ndjson', name: `listEvents({ limit: 50 }), ${scale.scanRecords.toLocaleString('en-US')} vs 1,000 records`, subject: { label: 'big file', unit: 'ms', values: tails[0] }, baseline: { label: '1k-record file', unit: 'ms', values: tails[1] }, target: { kind: 'max-ratio', value: 2 } });
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
