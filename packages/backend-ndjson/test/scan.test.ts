import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '../src/index.js';
import { codeOf, event, tempDirs } from './helpers.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const FIXTURE = fileURLToPath(new URL('../../../fixtures/papyra-py/system.ndjson', import.meta.url));

describe('scan and repair of a damaged file', () => {
  const bytes = '{"kind":"event","timestamp":1}\n\nnot json\n[1,2]\n{"kind":"audit","timestamp":2}\n{"kind":"event"';

  it('reports every bad line with its line number and byte offset', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    await writeFile(path, bytes);
    const backend = new NdjsonBackend({ path });
    const report = await backend.scan();
    expect(report.backend).toBe('ndjson');
    expect(report.anomalies.map(({ type, line, offset, path: p }) => ({ type, line, offset, p }))).toEqual([
      { type: 'CORRUPTED_LINE', line: 2, offset: 31, p: path },
      { type: 'CORRUPTED_LINE', line: 3, offset: 32, p: path },
      { type: 'INVALID_RECORD', line: 4, offset: 41, p: path },
      { type: 'TRUNCATED_LINE', line: 6, offset: 78, p: path },
    ]);
    expect(await readFile(path, 'utf8')).toBe(bytes);
    await backend.close();
  });

  it('repair keeps exactly lines 1 and 5, byte-identical, and is idempotent', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await writeFile(path, bytes);
    await chmod(path, 0o640);
    const backend = new NdjsonBackend({ path });
    const report = await backend.recover({ mode: 'repair' });
    expect(await readFile(path, 'utf8')).toBe('{"kind":"event","timestamp":1}\n{"kind":"audit","timestamp":2}\n');
    expect(report).toMatchObject({ mode: 'repair', repairedFiles: [path], quarantinedFiles: [], keptRecords: 2, droppedRecords: 4 });
    expect(report.scan.anomalies).toHaveLength(4);
    expect(report.postScan.anomalies).toEqual([]);
    // The operator's permissions survive the rewrite.
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    const again = await backend.recover({ mode: 'repair' });
    expect(again).toMatchObject({ repairedFiles: [], droppedRecords: 0, keptRecords: 2 });
    await backend.close();
  });

  it('quarantine copies the original bytes aside first, under a name inside the directory', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await writeFile(path, bytes);
    const backend = new NdjsonBackend({ path });
    const quarantineDir = join(dir, 'q');
    const report = await backend.recover({ mode: 'quarantine', quarantineDir });
    expect(report.quarantinedFiles).toHaveLength(1);
    const copy = report.quarantinedFiles[0]!;
    expect(copy.startsWith(`${quarantineDir}/store.ndjson.`)).toBe(true);
    expect(await readFile(copy, 'utf8')).toBe(bytes);
    expect((await stat(copy)).mode & 0o777).toBe(0o600);
    expect(report.postScan.anomalies).toEqual([]);
    expect(await codeOf(() => backend.recover({ mode: 'quarantine' }))).toBe('PAPYRA_INVALID_CONFIG');
    await backend.close();
  });
});

describe('files written by Python Papyra 0.1.1', () => {
  it('scan clean and list every kind with addresses', async () => {
    const path = join(await dirs.make(), 'system.ndjson');
    await copyFile(FIXTURE, path);
    const backend = new NdjsonBackend({ path });
    expect((await backend.scan()).anomalies).toEqual([]);
    const events = await backend.listEvents();
    const audits = await backend.listAudits();
    const deadLetters = await backend.listDeadLetters();
    expect([events.length, audits.length, deadLetters.length]).toEqual([10, 2, 5]);
    expect(events[0]).toMatchObject({ id: null, systemId: 'local', actorAddress: 'local:1', eventType: 'ActorStarted' });
    for (const e of events) expect(e.actorAddress).toMatch(/^local:[1-4]$/);
    expect(deadLetters.map((d) => d.target)).toEqual(['local:2', 'local:2', 'local:2', 'local:2', 'local:3']);
    expect(deadLetters[0]!.payload).toBe('héllo ✓');
    expect(audits[1]).toMatchObject({ kind: 'audit', totalActors: expect.any(Number) });
    // The newest from the end of the file equal the tail of the full list.
    expect(await backend.listEvents({ limit: 3 })).toEqual(events.slice(-3));
    expect(await backend.listDeadLetters({ limit: 2, order: 'desc' })).toEqual(deadLetters.slice(-2).reverse());
    await backend.close();
  });
});

describe('bad input never crashes a scan or a list', () => {
  it('invalid UTF-8 is a CORRUPTED_LINE', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const good = Buffer.from('{"kind":"event","timestamp":1}\n');
    await writeFile(path, Buffer.concat([good, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]), good]));
    const backend = new NdjsonBackend({ path });
    const { anomalies } = await backend.scan();
    expect(anomalies).toEqual([{ type: 'CORRUPTED_LINE', path, line: 2, offset: good.length, detail: 'not valid UTF-8' }]);
    expect(await backend.listEvents()).toHaveLength(2);
    expect(await backend.listEvents({ limit: 5 })).toHaveLength(2);
    await backend.recover({ mode: 'repair' });
    expect(await readFile(path)).toEqual(Buffer.concat([good, good]));
    await backend.close();
  });

  it('a 50 MB single line is reported without being held in memory, and repair drops only it', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    const good = '{"kind":"audit","timestamp":5}\n';
    const handle = await open(path, 'w');
    const block = Buffer.alloc(1024 * 1024, 'a');
    await handle.write('{"kind":"event","timestamp":1,"payload":"');
    for (let i = 0; i < 50; i++) await handle.write(block);
    await handle.write(`"}\n${good}`);
    await handle.close();
    const size = (await stat(path)).size;
    const backend = new NdjsonBackend({ path, maxLineBytes: 4 * 1024 * 1024 });
    const { anomalies } = await backend.scan();
    expect(anomalies).toHaveLength(1);
    expect(anomalies[0]).toMatchObject({ type: 'CORRUPTED_LINE', line: 1, offset: 0 });
    expect(anomalies[0]!.detail).toContain('over the 4194304-byte limit');
    expect(await backend.listAudits({ limit: 1 })).toHaveLength(1);
    expect(await backend.listAudits()).toHaveLength(1);
    expect(await backend.listEvents()).toEqual([]);
    const report = await backend.recover({ mode: 'repair' });
    expect(report).toMatchObject({ keptRecords: 1, droppedRecords: 1 });
    expect(await readFile(path, 'utf8')).toBe(good);
    expect(size).toBeGreaterThan(50 * 1024 * 1024);
    await backend.close();
  });

  it('a 50 MB line with no newline at all is one TRUNCATED_LINE', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    await writeFile(path, Buffer.alloc(50 * 1024 * 1024, 'x'));
    const backend = new NdjsonBackend({ path });
    expect((await backend.scan()).anomalies).toEqual([{ type: 'TRUNCATED_LINE', path, line: 1, offset: 0, detail: expect.stringContaining('52428800 bytes') }]);
    expect(await backend.listEvents({ limit: 10 })).toEqual([]);
    await backend.close();
  });

  it('an empty file and a missing file are empty stores; recover and compact create nothing', async () => {
    const dir = await dirs.make();
    const empty = join(dir, 'empty.ndjson');
    await writeFile(empty, '');
    for (const path of [empty, join(dir, 'missing.ndjson')]) {
      const backend = new NdjsonBackend({ path });
      expect((await backend.scan()).anomalies).toEqual([]);
      expect(await backend.listEvents()).toEqual([]);
      expect(await backend.listAudits({ limit: 5 })).toEqual([]);
      expect((await backend.recover({ mode: 'repair' })).postScan.anomalies).toEqual([]);
      expect(await backend.compact()).toMatchObject({ beforeRecords: 0, afterRecords: 0, removedRecords: 0 });
      await backend.close();
    }
    expect((await readdir(dir)).sort()).toEqual(['empty.ndjson']);
  });

  it('a writer killed while taking its lock, before the file existed: scan reports the leftover and repair clears it', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    // pid 2^22 + 1 is above any pid_max, so no live process can own it.
    const leftover = `${path}.lock.papyra-tmp-4194305-0123456789ab`;
    await writeFile(leftover, '{"pid":4194305}\n');
    const backend = new NdjsonBackend({ path });
    expect((await backend.scan()).anomalies).toEqual([expect.objectContaining({ type: 'UNEXPECTED_FILE', path: leftover })]);
    const report = await backend.recover({ mode: 'repair' });
    expect(report.scan.anomalies).toHaveLength(1);
    expect(report.postScan.anomalies).toEqual([]);
    await backend.close();
    expect(await readdir(dir)).toEqual([]);
  });

  it('a directory at the path is PAPYRA_NOT_A_FILE for reads and writes', async () => {
    const path = join(await dirs.make(), 'store.ndjson');
    await mkdir(path);
    const backend = new NdjsonBackend({ path });
    expect(await codeOf(() => backend.scan())).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => backend.listEvents())).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => backend.listEvents({ limit: 1 }))).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => backend.recover({ mode: 'repair' }))).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => backend.compact())).toBe('PAPYRA_NOT_A_FILE');
    expect(await codeOf(() => backend.recordEvent(event(1)))).toBe('PAPYRA_NOT_A_FILE');
    expect(backend.metrics.snapshot()).toMatchObject({ writeErrors: 1, scanErrors: 1, recoveryErrors: 1, compactionErrors: 1 });
    await backend.close();
  });

  it('a file where a directory should be (ENOTDIR) is a typed error', async () => {
    const dir = await dirs.make();
    await writeFile(join(dir, 'plain'), 'x');
    const backend = new NdjsonBackend({ path: join(dir, 'plain', 'store.ndjson') });
    expect(await codeOf(() => backend.scan())).toBe('PAPYRA_NOT_A_FILE');
    await backend.close();
  });

  it('an unreadable file is PAPYRA_PERMISSION_DENIED', async () => {
    const dir = await dirs.make();
    const path = join(dir, 'store.ndjson');
    await writeFile(path, '{"kind":"event","timestamp":1}\n');
    await chmod(path, 0o000);
    if (process.getuid?.() !== 0) {
      const backend = new NdjsonBackend({ path });
      expect(await codeOf(() => backend.scan())).toBe('PAPYRA_PERMISSION_DENIED');
      expect(await codeOf(() => backend.listEvents())).toBe('PAPYRA_PERMISSION_DENIED');
      await backend.close();
      return;
    }
    // Root reads any file, so the check runs in a child process as an unprivileged user.
    await chmod(dir, 0o755);
    const script = `
      const { NdjsonBackend } = await import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)});
      const b = new NdjsonBackend({ path: ${JSON.stringify(path)} });
      const codes = [];
      for (const op of [() => b.scan(), () => b.listEvents(), () => b.listEvents({ limit: 1 })]) {
        try { await op(); codes.push('resolved'); } catch (e) { codes.push(e.code ?? String(e)); }
      }
      console.log(JSON.stringify(codes));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    if (child.error || child.status !== 0) {
      console.warn(`SKIPPED unreadable-file check: cannot run a child as an unprivileged user here (${child.error?.message ?? child.stderr})`);
      return;
    }
    expect(JSON.parse(child.stdout)).toEqual(['PAPYRA_PERMISSION_DENIED', 'PAPYRA_PERMISSION_DENIED', 'PAPYRA_PERMISSION_DENIED']);
  });
});
