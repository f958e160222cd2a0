import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MIN, T0, papyra, papyraInProcess, parseJson, tempDir, writeStore } from './helpers.js';

let dir: string;
let cleanup: () => void;
const STORE = 'store.ndjson';
beforeAll(async () => {
  ({ dir, cleanup } = tempDir());
  await writeStore(join(dir, STORE));
});
afterAll(() => cleanup());

const run = (...args: string[]) => papyra([...args, '--path', STORE], { cwd: dir });
const json = async (...args: string[]) => {
  const r = await run(...args, '--json');
  expect(r.code).toBe(0);
  return parseJson(r);
};

describe('inspect events', () => {
  it('lists events oldest first in an aligned table', async () => {
    const r = await run('inspect', 'events');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^TIME\s+ACTOR\s+EVENT\s+PAYLOAD$/);
    expect(lines[2]).toMatch(/^2025-01-01T00:00:00.000Z\s+local:1\s+ActorStarted\s+\{\}$/);
    expect(lines[4]!.indexOf('ActorCrashed')).toBe(lines[0]!.indexOf('EVENT'));
    expect(r.stdout).toContain('5 events from ndjson');
  });

  it('--limit keeps the newest N, --reverse puts the newest first', async () => {
    const limited = await json('inspect', 'events', '--limit', '2');
    expect(limited.events.map((e: { eventType: string }) => e.eventType)).toEqual(['ActorRestarted', 'ActorStopped']);
    expect(limited.query).toMatchObject({ limit: 2, order: 'asc' });
    const reversed = await json('inspect', 'events', '--limit', '2', '--reverse');
    expect(reversed.events.map((e: { eventType: string }) => e.eventType)).toEqual(['ActorStopped', 'ActorRestarted']);
  });

  it('--since takes epoch ms, ISO-8601 and durations', async () => {
    const byEpoch = await json('inspect', 'events', '--since', String(T0 + 2 * MIN));
    expect(byEpoch.count).toBe(3);
    const byIso = await json('inspect', 'events', '--since', new Date(T0 + 3 * MIN).toISOString());
    expect(byIso.count).toBe(2);
    const byDuration = await json('inspect', 'events', '--since', '15m');
    expect(byDuration.count).toBe(0);
    const letters = await json('inspect', 'dead-letters', '--since', '15m');
    expect(letters.deadLetters.map((d: { messageType: string }) => d.messageType)).toEqual(['Hello']);
  });

  it('--event-type and --actor filter before --limit', async () => {
    const started = await json('inspect', 'events', '--event-type', 'ActorStarted');
    expect(started.events.map((e: { actorAddress: string }) => e.actorAddress)).toEqual(['local:1', 'local:2']);
    const actor1 = await json('inspect', 'events', '--actor', '1', '--limit', '2');
    expect(actor1.events.map((e: { eventType: string }) => e.eventType)).toEqual(['ActorCrashed', 'ActorRestarted']);
    const byAddress = await json('inspect', 'events', '--actor', 'local:2', '--event-type', 'ActorStopped');
    expect(byAddress.count).toBe(1);
    const none = await run('inspect', 'events', '--event-type', 'Nope');
    expect(none.stdout).toContain('No events in');
  });
});

describe('inspect audits, dead-letters and summary', () => {
  it('lists audits with their counters', async () => {
    const r = await run('inspect', 'audits', '--limit', '1');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^TIME\s+TOTAL\s+ALIVE\s+STOPPING\s+RESTARTING\s+REGISTRY\s+ORPHANS\s+DEAD\s+DEAD LETTERS$/);
    expect(r.stdout).toContain('1 audit from');
    const j = await json('inspect', 'audits', '--limit', '1');
    expect(j.audits[0]).toMatchObject({ kind: 'audit', aliveActors: 1, registryDead: ['local:2'], deadLettersCount: 3 });
  });

  it('filters dead letters by --target', async () => {
    const j = await json('inspect', 'dead-letters', '--target', 'local:2');
    expect(j.deadLetters.map((d: { payload: unknown }) => d.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    const r = await run('inspect', 'dead-letters', '--target', '9');
    expect(r.stdout).toMatch(/local:9\s+Hello\s+no\s+-\s+hi ✓/);
  });

  it('summarises the store, with the same facts as human text and JSON', async () => {
    const r = await run('inspect', 'summary');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/records\s+5 events · 2 audits · 3 dead letters/);
    expect(r.stdout).toMatch(/ActorStarted\s+2/);
    expect(r.stdout).toMatch(/local:2\s+2/);
    expect(r.stdout).toMatch(/Ping\s+2/);
    expect(r.stdout).toMatch(/Latest audit/);
    const j = await json('inspect', 'summary');
    expect(j.counts).toEqual({ events: 5, audits: 2, deadLetters: 3 });
    expect(j.eventTypes[0]).toEqual({ name: 'ActorStarted', count: 2 });
    expect(j.actors).toEqual([
      { name: 'local:1', count: 3 },
      { name: 'local:2', count: 2 },
    ]);
    expect(j.deadLettersByTarget).toEqual([
      { name: 'local:2', count: 2 },
      { name: 'local:9', count: 1 },
    ]);
    expect(j.deadLettersByMessageType).toEqual([
      { name: 'Ping', count: 2 },
      { name: 'Hello', count: 1 },
    ]);
    expect(j.timeRange.oldest).toBe(T0);
    expect(j.latestAudit).toMatchObject({ aliveActors: 1 });
  });

  it('persistence inspect shows capabilities, counts and the newest records', async () => {
    const r = await run('persistence', 'inspect', '--limit', '1', '--show-metrics');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/can\s+scan, recover, quarantine, compact, metrics, durable/);
    expect(r.stdout).toMatch(/events\s+5\s/);
    expect(r.stdout).toContain('Newest 1 event:');
    expect(r.stdout).toContain('Counters of this papyra process');
    const j = await json('persistence', 'inspect', '--limit', '1', '--show-metrics');
    expect(j.stats.events.records).toBe(5);
    expect(j.latest.events).toHaveLength(1);
    expect(j.metrics).toHaveProperty('recordsWritten', 0);
  });
});

describe('metrics', () => {
  it('persistence reports store figures and this process’s counters', async () => {
    const r = await run('metrics', 'persistence');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KIND\s+RECORDS\s+BYTES\s+OLDEST\s+NEWEST$/m);
    expect(r.stdout).toMatch(/^total\s+10\s/m);
    expect(r.stdout).toContain('Counters of this papyra process');
    const j = await json('metrics', 'persistence');
    expect(j.stored.events).toMatchObject({ records: 5, oldest: T0, newest: T0 + 5 * MIN });
    expect(j.stored.total.records).toBe(10);
    expect(j.stored.total.bytes).toBeGreaterThan(0);
    expect(j.process).toHaveProperty('writeErrors', 0);
  });

  it('reset is honest about its scope', async () => {
    const r = await run('metrics', 'reset');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('can only reset its own counters');
    expect(await json('metrics', 'reset')).toMatchObject({ reset: true, scope: 'process' });
  });
});

describe('--json', () => {
  it.each([
    ['persistence', 'scan'],
    ['persistence', 'compact'],
    ['persistence', 'inspect'],
    ['persistence', 'startup-check'],
    ['persistence', 'recover', '--mode', 'repair'],
    ['doctor', 'run'],
    ['inspect', 'events'],
    ['inspect', 'audits'],
    ['inspect', 'dead-letters'],
    ['inspect', 'summary'],
    ['metrics', 'persistence'],
    ['metrics', 'reset'],
  ])('%s %s prints exactly one JSON document with camelCase keys', async (...args) => {
    const r = await papyraInProcess([...args, '--path', STORE, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(typeof doc).toBe('object');
    // Record kinds are values ('dead_letter'), also where the contract's metrics use them as keys.
    expect(r.stdout.replace(/"dead_letter":/g, '')).not.toMatch(/"[a-z]+_[a-z_]+":/);
  });
});

describe('options from the environment and config files', () => {
  it('reads PAPYRA_PATH and ignores unknown PAPYRA_* variables', async () => {
    const r = await papyra(['inspect', 'summary', '--json'], { cwd: dir, env: { PAPYRA_PATH: STORE, PAPYRA_NOT_AN_OPTION: 'whatever', PAPYRA_TOKEN: 'x' } });
    expect(r.code).toBe(0);
    expect(parseJson(r).counts.events).toBe(5);
  });

  it('lets a flag win over the environment', async () => {
    const r = await papyra(['inspect', 'summary', '--json', '--path', STORE], { cwd: dir, env: { PAPYRA_PATH: 'missing.ndjson' } });
    expect(parseJson(r).counts.events).toBe(5);
  });

  it('reads a JSON config file, retention included', async () => {
    writeFileSync(join(dir, 'papyra.json'), JSON.stringify({ path: STORE, retention: { maxRecords: 1 } }));
    const r = await papyra(['inspect', 'summary', '--config', 'papyra.json', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(parseJson(r).counts).toEqual({ events: 1, audits: 1, deadLetters: 1 });
  });

  it('reads an ES module config exporting options', async () => {
    writeFileSync(join(dir, 'papyra.config.mjs'), `export default { backend: 'ndjson', path: '${STORE}' };\n`);
    const r = await papyra(['inspect', 'events', '--limit', '1', '--json'], { cwd: dir, env: { PAPYRA_CONFIG: 'papyra.config.mjs' } });
    expect(r.code).toBe(0);
    expect(parseJson(r).events[0].eventType).toBe('ActorStopped');
  });

  it('reports an unreadable or invalid config as a configuration error (78)', async () => {
    expect((await papyra(['persistence', 'scan', '--config', 'nope.json'], { cwd: dir })).code).toBe(78);
    writeFileSync(join(dir, 'bad.json'), '{ "path": ');
    expect((await papyra(['persistence', 'scan', '--config', 'bad.json'], { cwd: dir })).code).toBe(78);
    writeFileSync(join(dir, 'typo.json'), '{ "pth": "x.ndjson" }');
    const typo = await papyra(['persistence', 'scan', '--config', 'typo.json'], { cwd: dir });
    expect(typo.code).toBe(78);
    expect(typo.stderr).toContain('"pth"');
    expect((await papyra(['persistence', 'scan'], { cwd: dir, env: { PAPYRA_MAX_FILES: 'lots', PAPYRA_PATH: STORE } })).code).toBe(78);
  });
});

describe('usage errors exit 64', () => {
  it.each([
    [['bogus']],
    [[]],
    [['persistence']],
    [['persistence', 'scan']],
    [['persistence', 'recover', '--path', 'x.ndjson']],
    [['persistence', 'recover', '--path', 'x.ndjson', '--mode', 'fix']],
    [['inspect', 'events', '--path', 'x.ndjson', '--since', 'last tuesday']],
    [['inspect', 'events', '--path', 'x.ndjson', '--limit', '-1']],
    [['inspect', 'events', '--path', 'x.ndjson', '--bogus-flag']],
    [['persistence', 'scan', '--path', 'x.ndjson', '--redis-url', 'redis://h']],
    [['persistence', 'scan', '--backend', 'sqlite']],
  ])('papyra %j', async (args) => {
    const r = await papyraInProcess(args, { cwd: dir });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^papyra: /m);
    expect(r.stdout).toBe('');
  });

  it('with --json, the error is the JSON document', async () => {
    const r = await papyra(['inspect', 'events', '--path', STORE, '--since', 'soon', '--json'], { cwd: dir });
    expect(r.code).toBe(64);
    expect(parseJson(r).error).toMatchObject({ code: 'PAPYRA_USAGE', exitCode: 64 });
  });
});

describe('--help', () => {
  it.each([
    [[]],
    [['persistence']],
    [['doctor']],
    [['inspect']],
    [['metrics']],
    [['persistence', 'scan']],
    [['persistence', 'recover']],
    [['doctor', 'run']],
    [['inspect', 'events']],
    [['inspect', 'summary']],
    [['metrics', 'reset']],
  ])('papyra %j --help shows examples', async (args) => {
    const r = await papyra([...args, '--help'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('papyra ');
  });
});

describe('--version', () => {
  it('prints the package version', async () => {
    const r = await papyra(['--version'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
