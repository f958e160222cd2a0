import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, papyraInProcess, tempDir, writeStore } from './helpers.js';

describe('papyra export · verify · import · diff', () => {
  const { dir, cleanup } = tempDir();
  afterAll(() => cleanup());
  const run = (...args: string[]) => papyraInProcess(args, { cwd: dir });

  it('backs a store up, detects a changed byte, restores idempotently and compares', async () => {
    await writeStore(join(dir, 'papyra.ndjson'));
    const exported = await run('export', '--out', 'backup', '--path', 'papyra.ndjson', '--json');
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(parseJson(exported).manifest.totals.records).toBe(10);
    expect(parseJson(exported).manifest.source).toMatchObject({ backend: 'ndjson' });

    expect((await run('verify', 'backup')).code).toBe(0);
    const events = join(dir, 'backup', 'events.ndjson');
    const original = readFileSync(events);
    const changed = Buffer.from(original);
    changed[10] = changed[10]! ^ 0x20;
    writeFileSync(events, changed);
    const damaged = await run('verify', 'backup', '--json');
    expect(damaged.code).toBe(2);
    expect(parseJson(damaged).problems[0].file).toBe('events.ndjson');
    expect((await run('import', 'backup', '--path', 'restored.ndjson')).code).toBe(2); // refused, nothing written
    writeFileSync(events, original);

    const dry = await run('import', 'backup', '--dry-run', '--path', 'restored.ndjson', '--json');
    expect(parseJson(dry)).toMatchObject({ dryRun: true, written: 10 });
    expect(parseJson(await run('import', 'backup', '--journal', 'j.json', '--path', 'restored.ndjson', '--json'))).toMatchObject({ written: 10 });
    expect(parseJson(await run('import', 'backup', '--journal', 'j.json', '--path', 'restored.ndjson', '--json'))).toMatchObject({ written: 0, skipped: 10 });
    expect((await run('diff', '--archive', 'backup', '--path', 'restored.ndjson')).code).toBe(0);
    const different = await run('diff', '--archive', 'backup', '--path', 'papyra.ndjson', '--since', '1h', '--json');
    expect(different.code).toBe(64); // diff takes no --since: a usage error, not a silent pass
  });

  it('a directory that is not an archive is a usage error', async () => {
    const missing = await run('verify', 'nowhere', '--json');
    expect(missing.code).toBe(64);
    expect(parseJson(missing).error.code).toBe('PAPYRA_INVALID_ARGUMENT');
  });
});

describe('papyra actors · explain', () => {
  const { dir, cleanup } = tempDir();
  afterAll(() => cleanup());

  it('lists the actors of the store and explains one', async () => {
    await writeStore(join(dir, 'papyra.ndjson'));
    const actors = await papyraInProcess(['actors', '--path', 'papyra.ndjson', '--json'], { cwd: dir });
    expect(actors.code).toBe(0);
    const list = parseJson(actors).actors as { address: string; state: string; restarts: number; crashes: number; deadLetters: number }[];
    expect(list.map((a) => a.address)).toEqual(['local:1', 'local:2', 'local:9']);
    expect(list[0]).toMatchObject({ state: 'running', restarts: 1, crashes: 1 });
    expect(list[1]).toMatchObject({ state: 'stopped', deadLetters: 2 });

    const explained = await papyraInProcess(['explain', '--actor', 'local:1', '--path', 'papyra.ndjson', '--json'], { cwd: dir });
    const entries = parseJson(explained).entries as { kind: string; decision?: string; error?: string }[];
    expect(entries.map((e) => e.kind)).toEqual(['started', 'crashed', 'restarted']);
    expect(entries[1]).toMatchObject({ decision: 'restart', error: 'Error: boom' });
    const stopped = await papyraInProcess(['explain', '--actor', 'local:2', '--path', 'papyra.ndjson'], { cwd: dir });
    expect(stopped.stdout).toContain('dead letter Ping (while stopped)');
  });
});
