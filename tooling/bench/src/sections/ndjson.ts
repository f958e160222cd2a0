import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import type { PersistedEvent } from '@papyra/persistence-contract';
import { writeBatched } from '../baselines/batched-writer.js';
import { makeEvents, readableLines, writeStore } from '../files.js';
import { childScript, median, perSecond, repeat, sideBySide, timed, verify, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';

const run = promisify(execFile);
const scanChild = childScript('scan');
const fresh = (dir: string, name: string) => join(dir, `${name}-${Math.random().toString(36).slice(2)}.ndjson`);

/** Awaits each distinct promise once: the writer hands every caller of one batch the same promise. */
async function settleDistinct(promises: Iterable<Promise<void>>): Promise<void> {
  const distinct: Promise<void>[] = [];
  for (const p of promises) if (distinct[distinct.length - 1] !== p) distinct.push(p);
  await Promise.all(distinct);
}

async function papyraAppend(dir: string, events: readonly PersistedEvent[], fsync: 'never' | 'always', writers: number): Promise<number> {
  const path = fresh(dir, 'papyra');
  const backend = new NdjsonBackend({ path, fsync });
  const ms = await timed(async () => {
    if (writers === 0) {
      // Sustained producer: fire 10,000 writes, then await what they returned (one promise per batch).
      for (let i = 0; i < events.length; i += 10_000) {
        const window: Promise<void>[] = [];
        for (let j = i; j < Math.min(i + 10_000, events.length); j++) window.push(backend.recordEvent(events[j]!));
        await settleDistinct(window);
      }
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
  verify('NdjsonBackend records readable', events.length, readableLines(path, true));
  rmSync(path, { force: true });
  return perSecond(events.length, ms);
}

async function baselineAppend(dir: string, events: readonly PersistedEvent[], fsync: boolean): Promise<number> {
  const path = fresh(dir, 'baseline');
  const ms = await timed(async () => writeBatched(path, events, { batch: 1000, fsync }));
  verify('batched writer lines', events.length, readableLines(path, false));
  rmSync(path, { force: true });
  return perSecond(events.length, ms);
}

async function pinoAppend(dir: string, events: readonly PersistedEvent[]): Promise<number> {
  const path = fresh(dir, 'pino');
  const destination = pino.destination({ dest: path, sync: false, minLength: 4096 });
  await once(destination, 'ready');
  const logger = pino({ base: null }, destination);
  const ms = await timed(async () => {
    for (const e of events) logger.info(e);
    const closed = once(destination, 'close');
    destination.end();
    await closed;
  });
  verify('pino lines', events.length, readableLines(path, false));
  rmSync(path, { force: true });
  return perSecond(events.length, ms);
}

interface ChildRead {
  ms: number;
  maxRssMb: number;
  records: number;
}

async function childRead(mode: 'papyra' | 'readline' | 'since', path: string): Promise<ChildRead> {
  const { stdout } = await run(process.execPath, [scanChild, mode, path], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as ChildRead;
}

async function listTail(path: string, runs: number): Promise<number> {
  const backend = new NdjsonBackend({ path });
  const times = await repeat(runs, async () => {
    let found = 0;
    const ms = await timed(async () => (found = (await backend.listEvents({ limit: 50 })).length));
    verify('listEvents({ limit: 50 }) events', 50, found);
    return ms;
  });
  await backend.close();
  return median(times);
}

export async function ndjsonSection(scale: Scale): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'papyra-bench-ndjson-'));
  try {
    const figures: Figure[] = [];
    const events = makeEvents(scale.appendRecords);
    const n = events.length.toLocaleString('en-US');

    const [papyra, baseline] = await sideBySide(
      scale.runs,
      () => papyraAppend(dir, events, 'never', 0),
      () => baselineAppend(dir, events, false),
    );
    const pinoRuns = await sideBySide(
      scale.runs,
      () => papyraAppend(dir, events, 'never', 0),
      () => pinoAppend(dir, events),
    );
    figures.push(
      {
        id: 'ndjson.append.vs-batched',
        section: 'ndjson',
        name: `sustained append, fsync never, ${n} records via recordEvent`,
        subject: { label: 'NdjsonBackend', unit: 'rec/s', values: papyra },
        baseline: { label: 'batched writeSync of JSON.stringify(record)', unit: 'rec/s', values: baseline },
        target: { kind: 'min-ratio', value: 0.85 },
        note: 'counted as lines readable in the file afterwards (the last one decoded). The baseline writes the camelCase record, 11% fewer bytes than the snake_case wire line Papyra must write. The producer awaits each distinct promise it got back (the writer gives all callers of a batch one promise). Bottleneck, from a `node --cpu-prof` profile (packages/persistence-contract/README.md): the writer joining each batch of 1,000 lines (~30% of self time) and GC (~10%); the line encoder is now ~10%, down from 52–55% for the old encodeRecord',
      },
      {
        id: 'ndjson.append.vs-pino',
        section: 'ndjson',
        name: 'sustained append vs pino, same objects',
        subject: { label: 'NdjsonBackend', unit: 'rec/s', values: pinoRuns[0] },
        baseline: { label: 'pino (async destination)', unit: 'rec/s', values: pinoRuns[1] },
        target: { kind: 'min-ratio', value: 3 },
        note: 'both counted as lines in the file after the destination closed',
      },
    );

    const durable = events.slice(0, scale.fsyncRecords);
    const [group, perThousand] = await sideBySide(
      scale.runs,
      () => papyraAppend(dir, durable, 'always', 256),
      () => baselineAppend(dir, durable, true),
    );
    figures.push({
      id: 'ndjson.fsync-always.group-commit',
      section: 'ndjson',
      name: `fsync always, 256 concurrent writers, ${durable.length.toLocaleString('en-US')} records`,
      subject: { label: 'group commit', unit: 'rec/s', values: group },
      baseline: { label: 'writeSync + fsync per 1,000', unit: 'rec/s', values: perThousand },
      target: { kind: 'min-ratio', value: 0.5 },
    });

    const big = join(dir, 'big.ndjson');
    writeStore(big, scale.scanRecords);
    const size = statSync(big).size;
    const scans = await sideBySide(
      scale.readRuns,
      () => childRead('papyra', big),
      () => childRead('readline', big),
    );
    for (const r of scans[1]) verify('readline lines', scale.scanRecords, r.records);
    const scanFigures = scans.map((list) => list.map((r) => perSecond(scale.scanRecords, r.ms)));
    const sizeText = `${(size / 2 ** 20).toFixed(0)} MiB`;
    figures.push(
      {
        id: 'ndjson.scan',
        section: 'ndjson',
        name: `scan of ${scale.scanRecords.toLocaleString('en-US')} records (${sizeText})`,
        subject: { label: 'scan()', unit: 'rec/s', values: scanFigures[0]! },
        baseline: { label: 'readline + JSON.parse', unit: 'rec/s', values: scanFigures[1]! },
        target: { kind: 'min-ratio', value: 0.9 },
      },
      {
        id: 'ndjson.scan.rss',
        section: 'ndjson',
        name: 'peak RSS of that scan (child process)',
        subject: { label: 'scan()', unit: 'MB', values: scans[0].map((r) => r.maxRssMb) },
        baseline: { label: 'readline + JSON.parse', unit: 'MB', values: scans[1].map((r) => r.maxRssMb) },
        target: { kind: 'max', value: 100 },
      },
    );

    // The newest record is an hour old, so `since: now` matches nothing: the worst case of a reader.
    const sinceRuns: ChildRead[] = [];
    for (let i = 0; i < scale.readRuns; i++) sinceRuns.push(await childRead('since', big));
    for (const r of sinceRuns) verify('listEvents({ limit: 50, since: now }) events', 0, r.records);
    figures.push(
      {
        id: 'ndjson.list-since.time',
        section: 'ndjson',
        name: `listEvents({ limit: 50, since }) with no recent record, ${scale.scanRecords.toLocaleString('en-US')} records (${sizeText}), child process`,
        subject: { label: 'time', unit: 'ms', values: sinceRuns.map((r) => r.ms) },
        target: { kind: 'max', value: 500 },
      },
      {
        id: 'ndjson.list-since.rss',
        section: 'ndjson',
        name: 'peak RSS of that listEvents (child process)',
        subject: { label: 'peak RSS', unit: 'MB', values: sinceRuns.map((r) => r.maxRssMb) },
        target: { kind: 'max', value: 100 },
      },
    );

    const small = join(dir, 'small.ndjson');
    writeStore(small, 1000);
    const tails = await sideBySide(
      scale.runs,
      () => listTail(big, 20),
      () => listTail(small, 20),
    );
    figures.push({
      id: 'ndjson.list-tail',
      section: 'ndjson',
      name: `listEvents({ limit: 50 }), ${scale.scanRecords.toLocaleString('en-US')} vs 1,000 records`,
      subject: { label: 'big file', unit: 'ms', values: tails[0] },
      baseline: { label: '1k-record file', unit: 'ms', values: tails[1] },
      target: { kind: 'max-ratio', value: 2 },
    });
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
