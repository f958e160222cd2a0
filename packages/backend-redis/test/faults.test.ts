/**
 * Real server faults against our own redis-server processes (ports 17001–17003): error replies
 * (BUSY, MISCONF, READONLY, WRONGTYPE, WRONGPASS), stalls (SIGSTOP, DEBUG SLEEP), connection kills.
 * For each: stored + dropped (counted) = accepted, no duplicate visible, nothing pending past its bound.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisBackend, type RedisBackendOptions } from '../src/index.js';
import { event, prefixFor, settlesWithin, storedIds, waitFor, writeMany } from './support/records.js';
import { RedisServer, admin, sleep } from './support/servers.js';

let server: RedisServer;
let a: Redis;
const open: RedisBackend[] = [];

function backend(name: string, options: RedisBackendOptions = {}): RedisBackend {
  const b = new RedisBackend({ url: server.url, prefix: prefixFor(name), flushTimeoutMs: 8_000, readyTimeoutMs: 2_000, ...options });
  open.push(b);
  return b;
}

/** Writes `n` records, waits for the flush, and checks every one is stored exactly once. */
async function expectAllStoredOnce(b: RedisBackend, records: ReturnType<typeof event>[], client: Redis = a): Promise<void> {
  await expect(b.flush()).resolves.toBeUndefined();
  const ids = await storedIds(client, b.keys.event);
  expect(ids).toEqual(records.map((r) => r.id));
  expect(b.metrics.snapshot()).toMatchObject({ recordsWritten: records.length, recordsDropped: 0 });
}

beforeAll(async () => {
  server = await RedisServer.start(17001, [
    '--busy-reply-threshold',
    '100',
    '--enable-protected-configs',
    'yes',
    '--enable-debug-command',
    'yes',
    '--repl-diskless-sync-delay',
    '0',
  ]);
  a = admin(17001);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(open.map((b) => b.close()));
  a?.disconnect();
  await server?.stop();
}, 30_000);

describe('error replies: transient server states are retried in order, nothing is lost', () => {
  it('BUSY (a slow Lua script): 50 of 50 stored once the script ends', async () => {
    const b = backend('busy');
    await b.listEvents(); // connected before the fault
    const busy = a.eval(
      `local s = redis.call('TIME') while true do local n = redis.call('TIME') if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 1500000 then return 1 end end`,
      0,
    );
    await sleep(300);
    const records = Array.from({ length: 50 }, (_, i) => event(i));
    for (const r of records) await b.recordEvent(r);
    await busy;
    await expectAllStoredOnce(b, records);
  }, 20_000);

  it('MISCONF (a failed background save): stored once saving works again', async () => {
    const b = backend('misconf');
    await b.listEvents(); // connected before the fault
    const gone = await mkdtemp(join(tmpdir(), 'papyra-misconf-'));
    await a.config('SET', 'dir', gone);
    await rm(gone, { recursive: true });
    // Writes stop on a failed save only while save points are configured.
    await a.config('SET', 'stop-writes-on-bgsave-error', 'yes', 'save', '3600 1');
    await a.bgsave();
    await waitFor(async () => (await a.info('persistence')).includes('rdb_last_bgsave_status:err'));
    const records = Array.from({ length: 50 }, (_, i) => event(i));
    for (const r of records) await b.recordEvent(r);
    await sleep(500);
    expect(await a.xlen(b.keys.event)).toBe(0); // really refused meanwhile
    await a.config('SET', 'dir', server.dir);
    await a.bgsave();
    await waitFor(async () => (await a.info('persistence')).includes('rdb_last_bgsave_status:ok'));
    await a.config('SET', 'save', '');
    await expectAllStoredOnce(b, records);
  }, 20_000);

  it('READONLY (a replica, then promoted as in a failover): stored on the new master', async () => {
    const replica = await RedisServer.start(17002);
    const r = admin(17002);
    try {
      await r.call('REPLICAOF', '127.0.0.1', '17001');
      await waitFor(async () => (await r.info('replication')).includes('master_link_status:up'));
      const b = backend('readonly', { url: replica.url });
      const records = Array.from({ length: 50 }, (_, i) => event(i));
      for (const rec of records) await b.recordEvent(rec);
      await sleep(500);
      expect(await r.xlen(b.keys.event)).toBe(0);
      await r.call('REPLICAOF', 'NO', 'ONE');
      await expectAllStoredOnce(b, records, r);
    } finally {
      r.disconnect();
      await replica.stop();
    }
  }, 20_000);

  it('LOADING (a restart loading its dataset, seen by a client without the ready check): stored once loaded', async () => {
    const loading = await RedisServer.start(17003, ['--enable-debug-command', 'yes']);
    const l = admin(17003);
    const app = new Redis({ port: 17003, host: '127.0.0.1', enableReadyCheck: false, lazyConnect: true, retryStrategy: () => 50 });
    app.on('error', () => undefined);
    try {
      await l.call('DEBUG', 'POPULATE', '2000');
      await l.call('SAVE');
      await loading.kill();
      // Slow loading that still answers clients (with LOADING) meanwhile.
      await loading.restart(['--key-load-delay', '200', '--loading-process-events-interval-bytes', '4096']);
      await app.connect();
      await waitFor(async () => /LOADING/.test(String(await app.get('probe').catch((e: unknown) => e))));
      const b = new RedisBackend({ client: app, prefix: prefixFor('loading'), flushTimeoutMs: 8_000 });
      open.push(b);
      const records = Array.from({ length: 50 }, (_, i) => event(i));
      for (const r of records) await b.recordEvent(r);
      await expectAllStoredOnce(b, records, l);
      expect(await l.dbsize()).toBe(2_001);
    } finally {
      app.disconnect();
      l.disconnect();
      await loading.stop();
    }
  }, 30_000);

  it('a refusal of the entry itself (WRONGTYPE) is dropped and counted, and flush does not report success', async () => {
    const b = backend('wrongtype');
    await a.set(b.keys.event, 'not a stream');
    const records = Array.from({ length: 5 }, (_, i) => event(i));
    for (const r of records) await b.recordEvent(r);
    await b.recordAudit({
      kind: 'audit',
      id: 'a1',
      systemId: 'local',
      timestamp: Date.now(),
      totalActors: 0,
      aliveActors: 0,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: 0,
      registryOrphans: [],
      registryDead: [],
      deadLettersCount: 0,
    });
    const flushed = await settlesWithin(b.flush(), 10_000);
    expect(flushed).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_IO', details: { dropped: 5 } } });
    expect(b.metrics.snapshot()).toMatchObject({ recordsWritten: 1, recordsDropped: 5 });
    // Reported once: the next flush covers no new loss.
    await expect(b.flush()).resolves.toBeUndefined();
  }, 20_000);
});

describe('stalls and kills', () => {
  it('a frozen server (SIGSTOP): the batch is not resent while queued, the buffer bounds, nothing is duplicated', async () => {
    const b = backend('sigstop', { commandTimeoutMs: 400, bufferLimit: 200 });
    const before = Array.from({ length: 100 }, (_, i) => event(i));
    await writeMany(b, before);
    await b.flush();
    server.freeze();
    try {
      const first = await writeMany(
        b,
        Array.from({ length: 150 }, (_, i) => event(1_000 + i)),
      );
      await sleep(1_200); // well past commandTimeoutMs: outage declared from the unanswered batch
      const second = await writeMany(
        b,
        Array.from({ length: 100 }, (_, i) => event(2_000 + i)),
        3_000,
      );
      expect(first.refused).toBe(0);
      expect(second.accepted).toHaveLength(50);
      expect(second.refused).toBe(50);
      await sleep(1_500);
      server.thaw();
      const accepted = [...before, ...first.accepted, ...second.accepted];
      await expect(b.flush()).resolves.toBeUndefined();
      expect(await storedIds(a, b.keys.event)).toEqual(accepted.map((r) => r.id));
      expect(b.metrics.snapshot()).toMatchObject({ recordsWritten: 300, recordsDropped: 50 });
    } finally {
      server.thaw();
    }
  }, 30_000);

  it('DEBUG SLEEP longer than the command timeout: every record stored exactly once', async () => {
    const b = backend('debug-sleep', { commandTimeoutMs: 300 });
    await b.listEvents(); // connected before the fault
    const sleeping = a.call('DEBUG', 'SLEEP', '1.5');
    await sleep(100);
    const records = Array.from({ length: 500 }, (_, i) => event(i));
    for (const r of records) await b.recordEvent(r);
    await sleeping;
    await expectAllStoredOnce(b, records);
  }, 20_000);

  it('close() while the server is frozen: bounded, counts the batch in flight as dropped, never stores a record twice', async () => {
    const b = backend('close-frozen', { flushTimeoutMs: 1_000 });
    await b.listEvents(); // connected before the fault
    server.freeze();
    let closed: PromiseSettledResult<void>;
    const records = Array.from({ length: 1_000 }, (_, i) => event(i));
    try {
      for (const r of records) await b.recordEvent(r);
      closed = await settlesWithin(b.close(), 8_000);
    } finally {
      server.thaw();
    }
    expect(closed).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_BACKEND_UNAVAILABLE', details: { dropped: 1_000 } } });
    expect((closed as PromiseRejectedResult).reason.details.inDoubt).toBeGreaterThan(0);
    expect(b.metrics.snapshot()).toMatchObject({ recordsWritten: 0, recordsDropped: 1_000 });
    // The frozen server may still apply what was already in its socket: at most once each.
    await sleep(300);
    const ids = await storedIds(a, b.keys.event);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => records.some((r) => r.id === id))).toBe(true);
  }, 30_000);

  it('connections killed every 30 ms while writing: every record stored, none visible twice', async () => {
    const b = backend('client-kill', { batchSize: 50 });
    await b.listEvents(); // connected before the fault
    const records = Array.from({ length: 2_000 }, (_, i) => event(i));
    let killing = true;
    const killer = (async () => {
      while (killing) {
        await a.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes').catch(() => undefined);
        await sleep(30);
      }
    })();
    const { accepted, refused } = await writeMany(b, records);
    await sleep(500);
    killing = false;
    await killer;
    await waitFor(async () => (await settlesWithin(b.flush(), 10_000)).status === 'fulfilled');
    const listed = await b.listEvents();
    expect(listed.map((e) => e.id)).toEqual(accepted.map((r) => r.id));
    expect(b.metrics.snapshot()).toMatchObject({ recordsWritten: accepted.length, recordsDropped: refused });
    expect(accepted.length + refused).toBe(2_000);
    const newest = await b.listEvents({ limit: 100 });
    expect(new Set(newest.map((e) => e.id)).size).toBe(100);
  }, 30_000);

  it('probe(): answers while Redis does, rejects in bounded time while it is frozen, never writes', async () => {
    const b = backend('probe');
    await expect(b.probe()).resolves.toBeUndefined();
    server.freeze();
    try {
      const started = Date.now();
      const frozen = await settlesWithin(b.probe({ timeoutMs: 300 }), 5_000);
      expect(frozen).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_BACKEND_UNAVAILABLE', details: { timeout: true } } });
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      server.thaw();
    }
    const aborted = new AbortController();
    aborted.abort();
    await expect(b.probe({ signal: aborted.signal })).rejects.toMatchObject({ code: 'PAPYRA_ABORTED' });
    expect(await a.exists(b.keys.event, b.keys.audit, b.keys.dead_letter)).toBe(0);
  }, 20_000);
});

describe('configuration errors are PAPYRA_INVALID_CONFIG, not an outage', () => {
  it('a wrong password (WRONGPASS)', async () => {
    await a.call('ACL', 'SETUSER', 'papyra', 'on', '>right', '~*', '+@all');
    const b = backend('wrongpass', { url: 'redis://papyra:wrong@127.0.0.1:17001', readyTimeoutMs: 5_000 });
    const listed = await settlesWithin(b.listEvents(), 5_000);
    expect(listed).toMatchObject({ status: 'rejected', reason: { code: 'PAPYRA_INVALID_CONFIG' } });
    await expect(b.probe()).rejects.toMatchObject({ code: 'PAPYRA_INVALID_CONFIG' });
    const good = backend('rightpass', { url: 'redis://papyra:right@127.0.0.1:17001' });
    await good.recordEvent(event(1));
    await expect(good.flush()).resolves.toBeUndefined();
  }, 20_000);
});
