import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RotatingBackend } from '@papyra/backend-rotating';
import { createAudit, createDeadLetter, createEvent } from '@papyra/persistence-contract';
import { CLI_DIR, MIN, T0, papyra, parseJson, tempDir } from './helpers.js';

const PY_ROTATING = resolve(CLI_DIR, '../../fixtures/papyra-py/rotating');
const SET = ['--max-bytes', '600', '--max-files', '3'];
const ORPHAN = 'left here by someone else\n';
const TORN = '{"kind":"event","timest';

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir());
});
afterAll(() => cleanup());

/**
 * A rotation set of 6 records over papyra.ndjson.2 (3), .1 (2) and papyra.ndjson (1), then damaged:
 * a corrupt line inside .1, a torn tail on the active file, and an orphan beside the set.
 * Returns the members' bytes before the damage.
 */
async function damagedSet(name: string): Promise<{ path: string; clean: Record<string, Buffer>; corruptOffset: number; tornOffset: number }> {
  const path = join(dir, name, 'papyra.ndjson');
  const backend = new RotatingBackend({ path, maxBytes: 600, maxFiles: 3, fsync: 'always' });
  for (let i = 1; i <= 4; i++) {
    await backend.recordEvent(createEvent({ systemId: 'local', actorAddress: `local:${i}`, eventType: 'ActorStarted', payload: {}, timestamp: T0 + i * MIN }));
  }
  await backend.recordDeadLetter(createDeadLetter({ systemId: 'local', target: 'local:2', messageType: 'Ping', payload: { n: 1 }, timestamp: T0 + 5 * MIN }));
  await backend.recordAudit(
    createAudit({
      systemId: 'local',
      timestamp: T0 + 6 * MIN,
      totalActors: 4,
      aliveActors: 4,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: 4,
      registryOrphans: [],
      registryDead: [],
      deadLettersCount: 1,
    }),
  );
  await backend.close();
  const members = [`${path}.2`, `${path}.1`, path];
  const clean = Object.fromEntries(members.map((m) => [m, readFileSync(m)]));
  expect(clean[`${path}.2`]!.toString().split('\n')).toHaveLength(4); // 3 lines: the layout the test relies on
  expect(clean[`${path}.1`]!.toString().split('\n')).toHaveLength(3);

  const rotated = clean[`${path}.1`]!.toString();
  const corruptOffset = rotated.indexOf('\n') + 1;
  writeFileSync(`${path}.1`, `${rotated.slice(0, corruptOffset)}{oops not json\n${rotated.slice(corruptOffset)}`);
  appendFileSync(path, TORN);
  writeFileSync(`${path}.orphan`, ORPHAN);
  return { path, clean, corruptOffset, tornOffset: clean[path]!.length };
}

describe('rotating: a damaged rotation set', () => {
  it('scan reports every anomaly with its member file, line and offset (exit 2) and changes nothing', async () => {
    const { path, corruptOffset, tornOffset } = await damagedSet('scan');
    const before = readdirSync(join(dir, 'scan')).map((f) => readFileSync(join(dir, 'scan', f)));
    const run = await papyra(['persistence', 'scan', '--path', path, ...SET], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('3 anomalies (1 CORRUPTED_LINE, 1 TRUNCATED_LINE, 1 ORPHANED_ROTATED_FILE)');
    expect(run.stdout).toContain(`${path}.1:2 (offset ${corruptOffset}) CORRUPTED_LINE`);
    expect(run.stdout).toContain(`${path}:2 (offset ${tornOffset}) TRUNCATED_LINE`);
    expect(run.stdout).toContain(`${path}.orphan ORPHANED_ROTATED_FILE`);
    expect(run.stderr).toContain(`hint: run papyra persistence recover --mode repair --backend rotating --path ${path} --max-bytes 600 --max-files 3`);
    // The backends' warnings repeat the report; they are not printed at the default log level.
    expect(run.stderr).not.toContain('"level"');

    const json = parseJson(await papyra(['persistence', 'scan', '--json', '--backend', 'rotating', '--path', path, ...SET], { cwd: dir }));
    expect(json.anomalies.map((a: { type: string; path: string; line: number | null; offset: number | null }) => [a.type, a.path, a.line, a.offset])).toEqual([
      ['CORRUPTED_LINE', `${path}.1`, 2, corruptOffset],
      ['TRUNCATED_LINE', path, 2, tornOffset],
      ['ORPHANED_ROTATED_FILE', `${path}.orphan`, null, null],
    ]);
    expect(readdirSync(join(dir, 'scan')).map((f) => readFileSync(join(dir, 'scan', f)))).toEqual(before);
  });

  it('inspect counts the valid records across the set, oldest file first', async () => {
    const { path } = await damagedSet('inspect');
    const json = parseJson(await papyra(['persistence', 'inspect', '--path', path, ...SET, '--limit', '3', '--json'], { cwd: dir }));
    expect(json).toMatchObject({
      backend: 'rotating',
      stats: { events: { records: 4 }, audits: { records: 1 }, deadLetters: { records: 1 }, total: { records: 6 } },
    });
    expect(json.latest.events.map((e: { actorAddress: string }) => e.actorAddress)).toEqual(['local:2', 'local:3', 'local:4']);
  });

  it('repair restores every member byte for byte, leaves the orphan, exits 2 and points to quarantine', async () => {
    const { path, clean } = await damagedSet('repair');
    const run = await papyra(['persistence', 'recover', '--mode', 'repair', '--path', path, ...SET], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('1 anomaly remains.');
    expect(run.stdout).toMatch(/removed\s+2 damaged lines/);
    expect(run.stderr).toContain(
      'hint: repair leaves files that are not part of the store where they are; move them aside with papyra persistence recover --mode quarantine',
    );
    for (const [member, bytes] of Object.entries(clean)) expect(readFileSync(member)).toEqual(bytes);
    expect(readFileSync(`${path}.orphan`, 'utf8')).toBe(ORPHAN);
  });

  it('quarantine keeps the orphan and the damaged originals, ends clean (exit 0), then compact applies retention', async () => {
    const { path, clean } = await damagedSet('quarantine');
    const damaged1 = readFileSync(`${path}.1`);
    const run = await papyra(['persistence', 'recover', '--mode', 'quarantine', '--quarantine-dir', 'q', '--path', path, ...SET, '--json'], {
      cwd: join(dir, 'quarantine'),
    });
    expect(run.code).toBe(0);
    const report = parseJson(run);
    expect(report).toMatchObject({ clean: true, mode: 'quarantine', keptRecords: 6, droppedRecords: 2, postScan: { anomalies: [] } });
    const qdir = join(dir, 'quarantine', 'q');
    expect(report.quarantinedFiles).toHaveLength(3);
    const kept = readdirSync(qdir).map((f) => readFileSync(join(qdir, f), 'utf8'));
    expect(kept).toContain(ORPHAN);
    expect(kept).toContain(damaged1.toString());
    expect(kept.some((k) => k.endsWith(TORN))).toBe(true);
    expect(existsSync(`${path}.orphan`)).toBe(false);
    for (const [member, bytes] of Object.entries(clean)) expect(readFileSync(member)).toEqual(bytes);

    const compact = await papyra(['persistence', 'compact', '--path', path, ...SET, '--max-records', '1', '--json'], { cwd: dir });
    expect(compact.code).toBe(0);
    expect(parseJson(compact)).toMatchObject({ backend: 'rotating', beforeRecords: 6, afterRecords: 3, removedRecords: 3, retention: { maxRecords: 1 } });
    expect(existsSync(`${path}.2`)).toBe(false); // its three records were all past retention
  });
});

describe('rotating: the Python Papyra 0.1.1 rotation set', () => {
  it('scans clean and inspects all 17 records', async () => {
    const copy = join(dir, 'py');
    cpSync(PY_ROTATING, copy, { recursive: true });
    const args = ['--path', join(copy, 'system.ndjson'), ...SET];
    const scan = await papyra(['persistence', 'scan', ...args], { cwd: dir });
    expect(scan.code).toBe(0);
    expect(scan.stdout).toContain('clean, no anomalies');
    const json = parseJson(await papyra(['persistence', 'inspect', ...args, '--limit', '1', '--json'], { cwd: dir }));
    expect(json.stats).toMatchObject({ events: { records: 10 }, audits: { records: 2 }, deadLetters: { records: 5 }, total: { records: 17 } });
    expect(json.latest.deadLetters[0]).toMatchObject({ target: 'local:3', payload: 'after crash: héllo ✓' });
  });
});
