import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CLI_DIR, STUBBORN_STORE, cleanEnv, copyFixture, papyra, parseJson, tempDir, writeStore } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => cleanup());

const CORRUPTION = 'not json\n{"kind":"bogus","timestamp":1}\n{"kind":"event","timest';

/** The fixture with a corrupt line, an invalid record and a torn tail appended. */
function corruptStore(): string {
  const path = copyFixture(dir);
  appendFileSync(path, CORRUPTION);
  return path;
}

describe('persistence scan', () => {
  it('exits 0 on a clean store and says so', async () => {
    copyFixture(dir);
    const run = await papyra(['persistence', 'scan', '--path', 'system.ndjson'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('clean, no anomalies');
    const json = parseJson(await papyra(['persistence', 'scan', '--path', 'system.ndjson', '--json'], { cwd: dir }));
    expect(json).toMatchObject({ clean: true, anomalies: [], backend: 'ndjson' });
  });

  it('exits 2 with every anomaly as file:line (offset) type detail, and a next step', async () => {
    const path = corruptStore();
    const before = readFileSync(path);
    const run = await papyra(['persistence', 'scan', '--path', 'system.ndjson'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('3 anomalies (1 CORRUPTED_LINE, 1 INVALID_RECORD, 1 TRUNCATED_LINE)');
    expect(run.stdout).toContain(`${path}:18 (offset 7355) CORRUPTED_LINE`);
    expect(run.stdout).toContain(`${path}:19 (offset 7364) INVALID_RECORD`);
    expect(run.stdout).toContain(`${path}:20 (offset 7395) TRUNCATED_LINE`);
    expect(run.stderr).toContain(`hint: run papyra persistence recover --mode repair --path ${path}`);
    expect(readFileSync(path)).toEqual(before);

    const jsonRun = await papyra(['persistence', 'scan', '--path', 'system.ndjson', '--json'], { cwd: dir });
    expect(jsonRun.code).toBe(2);
    const json = parseJson(jsonRun);
    expect(json.clean).toBe(false);
    expect(json.anomalies.map((a: { type: string; line: number; offset: number }) => [a.type, a.line, a.offset])).toEqual([
      ['CORRUPTED_LINE', 18, 7355],
      ['INVALID_RECORD', 19, 7364],
      ['TRUNCATED_LINE', 20, 7395],
    ]);
  });
});

describe('persistence recover', () => {
  it('repair keeps every valid record byte for byte and exits 0', async () => {
    const path = corruptStore();
    const run = await papyra(['persistence', 'recover', '--mode', 'repair', '--path', path], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('the store is clean');
    expect(run.stdout).toMatch(/kept\s+17 records/);
    expect(run.stdout).toMatch(/removed\s+3 damaged lines/);
    expect(readFileSync(path)).toEqual(readFileSync(copyFixture(dir, 'original.ndjson')));
    const again = parseJson(await papyra(['persistence', 'recover', '--mode', 'repair', '--path', path, '--json'], { cwd: dir }));
    expect(again).toMatchObject({ clean: true, mode: 'repair', keptRecords: 17, droppedRecords: 0, scan: { anomalies: [] }, postScan: { anomalies: [] } });
  });

  it('quarantine keeps the original bytes in the quarantine directory', async () => {
    const path = corruptStore();
    const original = readFileSync(path);
    const run = await papyra(['persistence', 'recover', '--mode', 'quarantine', '--quarantine-dir', 'q', '--path', path, '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    const json = parseJson(run);
    expect(json.quarantinedFiles).toHaveLength(1);
    expect(json.quarantinedFiles[0].startsWith(join(dir, 'q'))).toBe(true);
    const kept = readdirSync(join(dir, 'q')).map((f) => readFileSync(join(dir, 'q', f)));
    expect(kept.some((bytes) => bytes.includes(Buffer.from(CORRUPTION)))).toBe(true);
    expect(original.subarray(0, 7355)).toEqual(readFileSync(path));
  });

  it('quarantine without a directory is a configuration error (78) and changes nothing', async () => {
    const path = corruptStore();
    const before = readFileSync(path);
    const run = await papyra(['persistence', 'recover', '--mode', 'quarantine', '--path', path], { cwd: dir });
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('--quarantine-dir');
    expect(readFileSync(path)).toEqual(before);
  });

  it('exits 2 when anomalies remain after recovery', async () => {
    const run = await papyra(['persistence', 'recover', '--mode', 'repair', '--config', STUBBORN_STORE], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('1 anomaly remains.');
  });
});

describe.each([
  ['persistence', 'startup-check'],
  ['doctor', 'run'],
])('%s %s', (group, command) => {
  const check = (args: string[]) => papyra([group!, command!, ...args], { cwd: dir });
  // doctor has one health field, `healthy`; startup-check answers `ok`.
  const verdict = (ok: boolean) => (group === 'doctor' ? { healthy: ok } : { ok });

  it('exits 0 on a clean store', async () => {
    copyFixture(dir);
    const run = await check(['--path', 'system.ndjson']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Passed: the store is clean.');
    if (group === 'doctor') {
      expect(run.stdout).toMatch(/records\s+10 events · 2 audits · 5 dead letters/);
      expect(run.stdout).toContain('Healthy.');
    }
  });

  it('exits 1 under fail_on_anomaly (the default) and leaves the store alone', async () => {
    const path = corruptStore();
    const before = readFileSync(path);
    const run = await check(['--path', path]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('would refuse to start');
    expect(run.stdout).toContain(`${path}:19 (offset 7364) INVALID_RECORD`);
    expect(run.stderr).toContain('hint: run papyra persistence recover --mode repair');
    const json = parseJson(await check(['--path', path, '--json']));
    expect(json).toMatchObject({ mode: 'fail_on_anomaly', outcome: 'anomalies', ...verdict(false), scan: { backend: 'ndjson' } });
    expect(json.scan.anomalies).toHaveLength(3);
    expect(readFileSync(path)).toEqual(before);
  });

  it.each(['ignore', 'scan_only'])('exits 0 under %s, reports, and changes nothing', async (mode) => {
    const path = corruptStore();
    const before = readFileSync(path);
    const run = await check(['--path', path, '--mode', mode]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Passed with 3 anomalies`);
    expect(readFileSync(path)).toEqual(before);
  });

  it('recovers under --mode recover and exits 0 after a clean post-scan', async () => {
    const path = corruptStore();
    const run = await check(['--path', path, '--mode', 'recover', '--json']);
    expect(run.code).toBe(0);
    const json = parseJson(run);
    expect(json).toMatchObject({ outcome: 'ok', ...verdict(true), recovery: { mode: 'repair', droppedRecords: 3, postScan: { anomalies: [] } } });
    expect((await papyra(['persistence', 'scan', '--path', path], { cwd: dir })).code).toBe(0);
  });

  it('exits 2 when recovery leaves anomalies', async () => {
    const run = await check(['--config', STUBBORN_STORE, '--mode', 'recover']);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('Failed: recovery (repair) left anomalies');
    const json = parseJson(await check(['--config', STUBBORN_STORE, '--mode', 'recover', '--json']));
    expect(json).toMatchObject({ outcome: 'recovery_incomplete', ...verdict(false) });
    if (group === 'doctor') expect(json).not.toHaveProperty('ok');
  });

  it('refuses quarantine recovery without a directory (78)', async () => {
    copyFixture(dir);
    const run = await check(['--path', 'system.ndjson', '--mode', 'recover', '--recovery-mode', 'quarantine']);
    expect(run.code).toBe(78);
  });
});

describe('persistence compact', () => {
  it('applies retention and prints the report', async () => {
    const path = join(dir, 'store.ndjson');
    await writeStore(path);
    const run = await papyra(['persistence', 'compact', '--path', path, '--max-records', '1'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/records\s+10 → 3 \(7 removed\)/);
    expect(run.stdout).toMatch(/retention\s+max 1 records per kind/);
    const json = parseJson(await papyra(['persistence', 'compact', '--path', path, '--max-records', '1', '--json'], { cwd: dir }));
    expect(json).toMatchObject({ backend: 'ndjson', beforeRecords: 3, afterRecords: 3, removedRecords: 0, reclaimedBytes: 0, retention: { maxRecords: 1 } });
  });

  it('says when no retention is configured', async () => {
    const path = join(dir, 'store.ndjson');
    await writeStore(path);
    const run = await papyra(['persistence', 'compact', '--path', path], { cwd: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/records\s+10 → 10 \(0 removed\)/);
    expect(run.stderr).toContain('no retention is configured');
  });
});

describe('a store locked by another process', () => {
  let holder: ChildProcess | undefined;
  afterEach(() => {
    holder?.kill('SIGKILL');
    holder = undefined;
  });

  it('exits 75 and leaves the store alone', async () => {
    const path = corruptStore();
    // The holder keeps an NdjsonBackend open for writing, which holds the lock beside the file.
    const script = `
      import { NdjsonBackend } from '@papyra/backend-ndjson';
      import { createEvent } from '@papyra/persistence-contract';
      const b = new NdjsonBackend({ path: ${JSON.stringify(path)} });
      await b.recordEvent(createEvent({ systemId: 'local', actorAddress: 'local:1', eventType: 'ActorStarted' }));
      await b.flush();
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    holder = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: CLI_DIR, env: cleanEnv() });
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      holder!.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
    });
    const before = readFileSync(path);
    const run = await papyra(['persistence', 'recover', '--mode', 'repair', '--path', path], { cwd: dir });
    expect(run.code).toBe(75);
    expect(run.stderr).toContain('PAPYRA_LOCKED');
    expect(run.stderr).toContain('hint:');
    expect(readFileSync(path)).toEqual(before);
    const json = parseJson(await papyra(['persistence', 'compact', '--path', path, '--json'], { cwd: dir }));
    expect(json.error).toMatchObject({ code: 'PAPYRA_LOCKED', exitCode: 75 });
  });
});

describe('the Python Papyra fixture', () => {
  it('scans clean, inspects with its monotonic timestamps, and repairs after corruption', async () => {
    copyFixture(dir);
    expect((await papyra(['persistence', 'scan', '--path', 'system.ndjson'], { cwd: dir })).code).toBe(0);
    const summary = parseJson(await papyra(['inspect', 'summary', '--path', 'system.ndjson', '--json'], { cwd: dir }));
    expect(summary.counts).toEqual({ events: 10, audits: 2, deadLetters: 5 });
    expect(summary.deadLettersByTarget).toEqual([
      { name: 'local:2', count: 4 },
      { name: 'local:3', count: 1 },
    ]);
    // Monotonic seconds read as 1970: `--since 15m` keeps none of them.
    const recent = parseJson(await papyra(['inspect', 'events', '--path', 'system.ndjson', '--since', '15m', '--json'], { cwd: dir }));
    expect(recent.count).toBe(0);
    writeFileSync(join(dir, 'system.ndjson'), readFileSync(join(dir, 'system.ndjson')).toString() + CORRUPTION);
    expect((await papyra(['persistence', 'recover', '--mode', 'repair', '--path', 'system.ndjson'], { cwd: dir })).code).toBe(0);
    expect(existsSync(join(dir, 'system.ndjson'))).toBe(true);
    expect(readFileSync(join(dir, 'system.ndjson'))).toEqual(readFileSync(copyFixture(dir, 'again.ndjson')));
  });
});
