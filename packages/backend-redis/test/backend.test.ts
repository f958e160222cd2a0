import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createAudit, createDeadLetter, createEvent, encodeRecord, type PersistedEvent } from '@papyra/persistence-contract';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { REDIS_URL, connect, deleteKeys, describeWithRedis, uniquePrefix } from './helpers.js';

const prefix = uniquePrefix('backend');
let redis: Redis;
let backends: RedisBackend[] = [];
let tmpDirs: string[] = [];
let n = 0;

function make(options: RedisBackendOptions = {}): RedisBackend {
  const backend = new RedisBackend({ url: REDIS_URL, prefix: `${prefix}:${++n}`, ...options });
  backends.push(backend);
  return backend;
}

const event = (i: number, timestamp = 1_700_000_000_000 + i * 1000): PersistedEvent =>
  createEvent({ systemId: 'local', actorAddress: `local:${i}`, eventType: 'ActorStarted', payload: { i, text: 'héllo ✓' }, timestamp });

const sizeOf = (records: PersistedEvent[]) => records.reduce((sum, r) => sum + Buffer.byteLength(encodeRecord(r)) + 1, 0);

describeWithRedis('RedisBackend', () => {
  beforeAll(async () => {
    redis = connect();
    await redis.connect();
  });
  afterEach(async () => {
    await Promise.allSettled(backends.map((b) => b.close()));
    backends = [];
    await Promise.all(tmpDirs.map((d) => rm(d, { recursive: true, force: true })));
    tmpDirs = [];
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('writes each kind to its own stream, as one data field holding the encoded record', async () => {
    const b = make();
    const e = event(1);
    const a = createAudit({
      systemId: 'local',
      totalActors: 2,
      aliveActors: 1,
      stoppingActors: 0,
      restartingActors: 1,
      registrySize: 2,
      registryOrphans: [],
      registryDead: ['local:2'],
      deadLettersCount: 3,
    });
    const d = createDeadLetter({ systemId: 'local', target: 'local:7', messageType: 'Ping', payload: ['x', 1], expectsReply: true, reason: 'stopped' });
    await Promise.all([b.recordEvent(e), b.recordAudit(a), b.recordDeadLetter(d)]);
    await b.flush();
    const base = `${prefix}:${n}:local`;
    expect(b.keys).toEqual({ event: `${base}:events`, audit: `${base}:audits`, dead_letter: `${base}:dead_letters`, quarantine: `${base}:quarantine` });
    const raw = await redis.xrange(`${base}:events`, '-', '+');
    expect(raw).toHaveLength(1);
    expect(raw[0]![1]).toEqual(['data', encodeRecord(e)]);
    expect(await b.listEvents()).toEqual([e]);
    expect(await b.listAudits()).toEqual([a]);
    expect(await b.listDeadLetters()).toEqual([d]);
    const m = b.metrics.snapshot();
    expect(m.recordsWritten).toBe(3);
    expect(m.recordsWrittenByKind).toEqual({ event: 1, audit: 1, dead_letter: 1 });
    expect(m.bytesWritten).toBe([e, a, d].reduce((sum, r) => sum + Buffer.byteLength(encodeRecord(r)) + 1, 0));
  });

  it('uses a hash tag for the system id in cluster mode', () => {
    const b = make({ cluster: true, systemId: 'sys-1' });
    expect(b.keys.event).toBe(`${prefix}:${n}:{sys-1}:events`);
    expect(() => make({ cluster: true, systemId: 'a{b}' })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });

  it('keeps order, and answers limit (newest N), since and order', async () => {
    const b = make();
    const events = Array.from({ length: 30 }, (_, i) => event(i));
    await Promise.all(events.map((e) => b.recordEvent(e)));
    expect(await b.listEvents()).toEqual(events);
    expect(await b.listEvents({ limit: 5 })).toEqual(events.slice(-5));
    expect(await b.listEvents({ limit: 5, order: 'desc' })).toEqual(events.slice(-5).reverse());
    expect(await b.listEvents({ since: events[20]!.timestamp })).toEqual(events.slice(20));
    expect(await b.listEvents({ since: events[20]!.timestamp, limit: 100 })).toEqual(events.slice(20));
    expect(await b.listEvents({ limit: 0 })).toEqual([]);
    await expect(b.listEvents({ limit: -1 })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_ARGUMENT' });
  });

  it('applies retention on read, per kind, without deleting anything', async () => {
    const now = 1_700_000_100_000;
    const b = make({ retention: { maxRecords: 10, maxAgeMs: 60_000 }, clock: () => now, trimOnWrite: false });
    const events = Array.from({ length: 100 }, (_, i) => event(i)); // one per second up to now - 1 s
    for (const e of events) await b.recordEvent(e);
    await b.recordAudit(
      createAudit({
        systemId: 'local',
        totalActors: 0,
        aliveActors: 0,
        stoppingActors: 0,
        restartingActors: 0,
        registrySize: 0,
        registryOrphans: [],
        registryDead: [],
        deadLettersCount: 0,
        timestamp: now,
      }),
    );
    expect(await b.listEvents()).toEqual(events.slice(-10));
    expect(await b.listEvents({ limit: 3 })).toEqual(events.slice(-3));
    expect(await b.listAudits()).toHaveLength(1);
    expect(await redis.xlen(b.keys.event)).toBe(100);

    const bytes = make({ prefix: b.keys.event.split(':local:')[0]!, retention: { maxTotalBytes: sizeOf(events.slice(-3)) } });
    expect(await bytes.listEvents()).toEqual(events.slice(-3));
  });

  it('compacts by count, age and bytes and reports the numbers', async () => {
    const now = 1_700_000_100_000;
    const b = make({ clock: () => now });
    const events = Array.from({ length: 100 }, (_, i) => event(i));
    for (const e of events) await b.recordEvent(e);
    await b.flush();
    const prefixOf = b.keys.event.split(':local:')[0]!;

    const byCount = make({ prefix: prefixOf, retention: { maxRecords: 80 }, clock: () => now });
    const r1 = await byCount.compact();
    const [all, kept] = [sizeOf(events), sizeOf(events.slice(20))];
    expect(r1).toEqual({
      backend: 'redis',
      beforeRecords: 100,
      afterRecords: 80,
      beforeBytes: all,
      afterBytes: kept,
      removedRecords: 20,
      reclaimedBytes: all - kept,
    });
    expect(await redis.xlen(b.keys.event)).toBe(80);

    const byAge = make({ prefix: prefixOf, retention: { maxAgeMs: 50_000 }, clock: () => now });
    expect((await byAge.compact()).afterRecords).toBe(50);
    const byBytes = make({ prefix: prefixOf, retention: { maxTotalBytes: sizeOf(events.slice(-10)) }, clock: () => now });
    expect((await byBytes.compact()).removedRecords).toBe(40);
    expect(await byBytes.listEvents()).toEqual(events.slice(-10));
    const again = await byBytes.compact();
    expect(again.removedRecords).toBe(0);
    expect(again.afterRecords).toBe(10);
    expect(byBytes.metrics.snapshot().compactions).toBe(2);
  });

  it('compaction keeps entries that are not records, and removes records around them', async () => {
    const now = 1_700_000_100_000;
    const b = make({ retention: { maxRecords: 2 }, clock: () => now, trimOnWrite: false });
    const events = Array.from({ length: 6 }, (_, i) => event(i));
    for (const e of events.slice(0, 3)) await b.recordEvent(e);
    await b.flush();
    const bad = await redis.xadd(b.keys.event, '*', 'data', 'not json');
    for (const e of events.slice(3)) await b.recordEvent(e);
    const report = await b.compact();
    expect(report.removedRecords).toBe(4);
    const left = await redis.xrange(b.keys.event, '-', '+');
    expect(left.map(([id]) => id)).toContain(bad);
    expect(left).toHaveLength(3);
    expect(await b.listEvents()).toEqual(events.slice(-2));
  });

  it('scan reports every bad entry with the stream key and entry id, and never mutates', async () => {
    const b = make();
    await b.recordEvent(event(1));
    await b.flush();
    const k = b.keys.event;
    const noData = await redis.xadd(k, '*', 'other', 'x');
    const notJson = await redis.xadd(k, '*', 'data', '{"kind": "event", "timest');
    const notUtf8 = await redis.xadd(k, '*', 'data', Buffer.from([0xff, 0xfe, 0x7b]));
    const invalid = await redis.xadd(k, '*', 'data', '{"kind": "spaceship", "timestamp": 1}');
    const wrongStream = await redis.xadd(b.keys.audit, '*', 'data', encodeRecord(event(2)));
    const before = await redis.xrange(k, '-', '+');
    const report = await b.scan();
    expect(report.backend).toBe('redis');
    expect(report.anomalies.map((a) => [a.type, a.path, a.line, a.offset])).toEqual([
      ['CORRUPTED_ENTRY', k, null, null],
      ['CORRUPTED_ENTRY', k, null, null],
      ['CORRUPTED_ENTRY', k, null, null],
      ['INVALID_RECORD', k, null, null],
      ['INVALID_RECORD', b.keys.audit, null, null],
    ]);
    [noData, notJson, notUtf8, invalid, wrongStream].forEach((id, i) => expect(report.anomalies[i]!.detail).toContain(id));
    expect(await redis.xrange(k, '-', '+')).toEqual(before);
    expect(await b.listEvents()).toHaveLength(1);
    expect(b.metrics.snapshot()).toMatchObject({ scans: 1, anomaliesDetected: 5 });
  });

  it('repair deletes exactly the flagged entries, keeps the rest in order, and is idempotent', async () => {
    const b = make();
    const events = [event(1), event(2), event(3)];
    await b.recordEvent(events[0]!);
    await b.flush();
    await redis.xadd(b.keys.event, '*', 'data', 'garbage');
    await b.recordEvent(events[1]!);
    await b.flush();
    await redis.xadd(b.keys.event, '*', 'data', '[1, 2]');
    await b.recordEvent(events[2]!);
    const report = await b.recover({ mode: 'repair' });
    expect(report).toMatchObject({ backend: 'redis', mode: 'repair', repairedFiles: [b.keys.event], quarantinedFiles: [], keptRecords: 3, droppedRecords: 2 });
    expect(report.scan.anomalies).toHaveLength(2);
    expect(report.postScan.anomalies).toEqual([]);
    expect(await b.listEvents()).toEqual(events);
    const second = await b.recover({ mode: 'repair' });
    expect(second).toMatchObject({ droppedRecords: 0, keptRecords: 3, repairedFiles: [] });
    expect(second.scan.anomalies).toEqual([]);
  });

  it('quarantine keeps the original bytes in a stream and in files that cannot escape the directory', async () => {
    const b = make();
    await b.recordEvent(event(1));
    await b.flush();
    const badBytes = Buffer.from([0x7b, 0xff, 0x7d]);
    const badId = await redis.xadd(b.keys.event, '*', 'data', badBytes, 'note', '../../etc/passwd');
    await expect(b.recover({ mode: 'quarantine' })).rejects.toMatchObject({ code: 'PAPYRA_INVALID_CONFIG' });
    const dir = await mkdtemp(join(tmpdir(), 'papyra-redis-q-'));
    tmpDirs.push(dir);
    const qdir = join(dir, 'q');
    const report = await b.recover({ mode: 'quarantine', quarantineDir: qdir });
    expect(report.droppedRecords).toBe(1);
    expect(report.postScan.anomalies).toEqual([]);
    expect(report.quarantinedFiles).toHaveLength(1);
    const file = report.quarantinedFiles[0]!;
    expect(await readdir(qdir)).toEqual([file.slice(qdir.length + 1)]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { entryId: string; fields: [string, unknown][] };
    expect(saved.entryId).toBe(badId);
    expect(saved.fields).toEqual([
      ['data', { base64: badBytes.toString('base64') }],
      ['note', '../../etc/passwd'],
    ]);
    const [[, fields]] = (await redis.xrangeBuffer(b.keys.quarantine, '-', '+')) as [Buffer, Buffer[]][] as [[Buffer, Buffer[]]];
    const map = new Map<string, Buffer>();
    for (let i = 0; i < fields.length; i += 2) map.set(fields[i]!.toString(), fields[i + 1]!);
    expect(map.get('field:data')!.equals(badBytes)).toBe(true);
    expect(map.get('entry_id')!.toString()).toBe(badId);
    expect(map.get('source')!.toString()).toBe(b.keys.event);
    expect(await b.listEvents()).toHaveLength(1);
    const again = await b.recover({ mode: 'quarantine', quarantineDir: qdir });
    expect(again.quarantinedFiles).toEqual([]);
  });

  it('reads and scans entries written in Python Papyra layout', async () => {
    const systemPrefix = `${prefix}:py`;
    const lines = readFileSync(new URL('../../../fixtures/papyra-py/system.ndjson', import.meta.url), 'utf8')
      .trim()
      .split('\n');
    const stream = { event: 'events', audit: 'audits', dead_letter: 'dead_letters' } as Record<string, string>;
    for (const line of lines) await redis.xadd(`${systemPrefix}:local:${stream[(JSON.parse(line) as { kind: string }).kind]}`, '*', 'data', line);
    const b = make({ prefix: systemPrefix });
    expect((await b.scan()).anomalies).toEqual([]);
    const events = await b.listEvents();
    expect(events).toHaveLength(10);
    expect(events[0]).toMatchObject({ id: null, actorAddress: 'local:1', eventType: 'ActorStarted' });
    expect(await b.listAudits()).toHaveLength(2);
    const letters = await b.listDeadLetters();
    expect(letters).toHaveLength(5);
    expect(letters[0]!.target).toBe('local:2');
  });

  it('after close every method rejects with PAPYRA_BACKEND_CLOSED; close is idempotent', async () => {
    const b = make();
    await b.recordEvent(event(1));
    await b.close();
    await b.close();
    for (const call of [
      () => b.recordEvent(event(2)),
      () => b.listEvents(),
      () => b.scan(),
      () => b.compact(),
      () => b.flush(),
      () => b.recover({ mode: 'ignore' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ code: 'PAPYRA_BACKEND_CLOSED' });
    }
    const reopened = make({ prefix: b.keys.event.split(':local:')[0]! });
    expect(await reopened.listEvents()).toHaveLength(1);
  });

  it('rejects a record of the wrong kind and bad options with typed errors', async () => {
    const b = make();
    await expect(b.recordAudit(event(1) as never)).rejects.toMatchObject({ code: 'PAPYRA_INVALID_RECORD' });
    expect(() => make({ retention: { maxRecords: -1 } })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => make({ batchSize: 0 })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => new RedisBackend({ url: REDIS_URL, client: redis })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });

  it('uses a client it is given and leaves it open', async () => {
    const b = new RedisBackend({ client: redis, prefix: `${prefix}:given` });
    await b.recordEvent(event(1));
    expect(await b.listEvents()).toHaveLength(1);
    await b.close();
    expect(await redis.ping()).toBe('PONG');
  });

  it('fails fast with PAPYRA_BACKEND_UNAVAILABLE, without the password, when Redis cannot be reached', async () => {
    const b = make({ url: 'redis://papyra:s3cret-pw@127.0.0.1:1/0', readyTimeoutMs: 500, connectTimeoutMs: 200 });
    const started = Date.now();
    const error = (await b.listEvents().catch((e: unknown) => e)) as { code: string; message: string };
    expect(error.code).toBe('PAPYRA_BACKEND_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(JSON.stringify(error)).not.toContain('s3cret-pw');
    expect(error.message).not.toContain('s3cret-pw');
    await expect(b.scan()).rejects.toMatchObject({ code: 'PAPYRA_BACKEND_UNAVAILABLE' });
  });
});
