// Generated corrupt stores thrown at scan, list, repair and quarantine (library), at the CLI's `main`
// in-process, and at the real `papyra` binary: nothing throws, every valid line survives repair byte
// for byte and in order, repair is idempotent, the post-scan is clean, nothing is polluted.
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { main, type Io } from '@papyra/cli';
import { createAudit, createDeadLetter, createEvent, decodeRecord, encodeRecord, inspectLine, type PersistedRecord } from '@papyra/persistence-contract';
import { reportFigures, seedFor, tempDirs } from './support.js';

const dirs = tempDirs();
afterAll(() => dirs.cleanup());

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(repoRoot, 'fixtures/papyra-py');
const bin = join(repoRoot, 'apps/cli/bin/papyra.js');

/** Line classes: `valid` and `invalid` lines must be classified so; `any` lines are judged by the codec alone. */
type Class = 'valid' | 'invalid' | 'any';
interface Line {
  bytes: Buffer;
  cls: Class;
  what: string;
}

const pythonLines = (
  await Promise.all(
    ['system.ndjson', 'rotating/system.ndjson', 'rotating/system.ndjson.1', 'rotating/system.ndjson.2'].map((f) => readFile(join(fixtures, f), 'utf8')),
  )
)
  .flatMap((text) => text.split('\n'))
  .filter(Boolean);

const MAX_LINE = 4096;
const line = (text: string | Buffer, cls: Class, what: string): Line => ({ bytes: typeof text === 'string' ? Buffer.from(text) : text, cls, what });
const id = fc.string({ unit: 'grapheme', maxLength: 12 });
const addressSystem = fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/);
const payload = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const timestamp = fc.integer({ min: 0, max: 4_000_000_000_000 });

const record: fc.Arbitrary<PersistedRecord> = fc.oneof(
  fc
    .record({ systemId: id, timestamp, system: addressSystem, n: fc.nat(), eventType: id, payload })
    .map((r) => createEvent({ systemId: r.systemId, timestamp: r.timestamp, actorAddress: `${r.system}:${r.n}`, eventType: r.eventType, payload: r.payload })),
  fc.record({ systemId: id, timestamp, n: fc.nat(), orphans: fc.array(id, { maxLength: 3 }) }).map((r) =>
    createAudit({
      systemId: r.systemId,
      timestamp: r.timestamp,
      totalActors: r.n,
      aliveActors: r.n,
      stoppingActors: 0,
      restartingActors: 0,
      registrySize: r.n,
      registryOrphans: r.orphans,
      registryDead: [],
      deadLettersCount: r.n,
    }),
  ),
  fc.record({ systemId: id, timestamp, system: addressSystem, n: fc.nat(), type: id, payload: fc.jsonValue({ maxDepth: 2 }), reply: fc.boolean() }).map((r) =>
    createDeadLetter({
      systemId: r.systemId,
      timestamp: r.timestamp,
      target: `${r.system}:${r.n}`,
      messageType: r.type,
      payload: r.payload,
      expectsReply: r.reply,
    }),
  ),
);

const lineArb: fc.Arbitrary<Line> = fc.oneof(
  { weight: 6, arbitrary: record.map((r) => line(encodeRecord(r), 'valid', 'record')) },
  { weight: 3, arbitrary: fc.constantFrom(...pythonLines).map((text) => line(text, 'valid', 'python')) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('__proto__', 'constructor', 'prototype')
      .map((key) =>
        line(
          `{"kind": "event", "timestamp": 1.5, "${key}": {"polluted": "yes", "prototype": {"polluted": "yes"}}, "payload": {"${key}": {"polluted": "yes"}, "__proto__": {"polluted": "yes"}}}`,
          'valid',
          'proto keys',
        ),
      ),
  },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 120 }).map((b) => line(Buffer.from(b.map((x) => (x === 10 ? 32 : x))), 'any', 'random bytes')) },
  {
    weight: 2,
    arbitrary: record.chain((r) => {
      const text = encodeRecord(r);
      return fc.integer({ min: 0, max: text.length - 1 }).map((cut) => line(text.slice(0, cut), 'invalid', 'torn line'));
    }),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(record, fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98])).map(([r, bad]) => {
      const text = Buffer.from(encodeRecord(r));
      const at = text.indexOf('"system_id"');
      return line(Buffer.concat([text.subarray(0, at + 14), Buffer.from(bad), text.subarray(at + 14)]), 'invalid', 'invalid utf-8');
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .jsonValue({ maxDepth: 2 })
      .filter((v) => v === null || typeof v !== 'object' || Array.isArray(v))
      .map((v) => line(JSON.stringify(v), 'invalid', 'non-object json')),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 10 })
      .filter((k) => !['event', 'audit', 'dead_letter'].includes(k))
      .map((kind) => line(JSON.stringify({ kind, timestamp: 1 }), 'invalid', 'unknown kind')),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('{"kind": "event"}', '{"kind": "audit", "timestamp": "1"}', '{"kind": "dead_letter", "timestamp": null}')
      .map((t) => line(t, 'invalid', 'bad timestamp')),
  },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', '\r').map((t) => line(t, 'invalid', 'blank')) },
  { weight: 1, arbitrary: record.map((r) => line(encodeRecord({ ...r, systemId: 'h'.repeat(MAX_LINE) }), 'invalid', 'huge line')) },
);

interface Store {
  lines: Line[];
  /** The last line has no `\n`. */
  torn: boolean;
}
// An empty torn last line would be no line at all.
const storeArb: fc.Arbitrary<Store> = fc
  .record({ lines: fc.array(lineArb, { maxLength: 40, size: 'medium' }), torn: fc.boolean() })
  .map((s) => ({ ...s, torn: s.torn && s.lines.length > 0 && s.lines.at(-1)!.bytes.length > 0 }));

function bytesOf(store: Store): Buffer {
  const parts = store.lines.flatMap((l) => [l.bytes, Buffer.from('\n')]);
  if (store.torn) parts.pop();
  return Buffer.concat(parts);
}

/** What a correct scan reports for each line, with a reader whose line limit is `max`. */
function expectations(store: Store, max: number) {
  let offset = 0;
  return store.lines.map((l, i) => {
    const last = i === store.lines.length - 1;
    const verdict = inspectLine(l.bytes);
    const type = last && store.torn ? 'TRUNCATED_LINE' : l.bytes.length > max ? 'CORRUPTED_LINE' : verdict.ok ? null : verdict.type;
    const out = { line: i + 1, offset, type, bytes: l.bytes, verdict };
    offset += l.bytes.length + 1;
    return out;
  });
}

function checkGenerator(store: Store): void {
  // The generator's own labels agree with the codec: the decoder accepts what Python Papyra and we
  // write (also with hostile keys) and rejects what is not a record.
  for (const l of store.lines) {
    if (l.cls === 'any') continue;
    expect({ what: l.what, ok: inspectLine(l.bytes).ok && l.bytes.length <= MAX_LINE }).toEqual({ what: l.what, ok: l.cls === 'valid' });
  }
}

const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
function expectNoPollution(records: readonly PersistedRecord[]): void {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoKeys);
  for (const r of records) {
    expect([Object.prototype, null]).toContain(Object.getPrototypeOf(r));
    if (r.kind !== 'audit' && typeof r.payload === 'object' && r.payload !== null && !Array.isArray(r.payload)) {
      expect([Object.prototype, null]).toContain(Object.getPrototypeOf(r.payload));
      expect((r.payload as Record<string, unknown>)['polluted']).toBeUndefined();
    }
  }
}

describe('fuzzing the ndjson backend with generated corrupt stores', () => {
  it('scan, list, repair and quarantine: exact anomalies, valid lines kept byte for byte, idempotent, clean, unpolluted', async () => {
    const test = 'fuzz library';
    const seed = seedFor(test);
    const root = await dirs.make();
    let n = 0;
    let linesChecked = 0;
    let validKept = 0;
    await fc.assert(
      fc.asyncProperty(storeArb, fc.nat(40), async (store, limit) => {
        checkGenerator(store);
        const dir = join(root, String(n++));
        await mkdir(dir);
        const path = join(dir, 'store.ndjson');
        const original = bytesOf(store);
        await writeFile(path, original);
        const expected = expectations(store, MAX_LINE);
        const valid = expected.filter((e) => e.type === null);
        const backend = new NdjsonBackend({ path, maxLineBytes: MAX_LINE });

        const scan = await backend.scan();
        expect(scan.anomalies.map(({ type, line, offset }) => ({ type, line, offset }))).toEqual(
          expected.filter((e) => e.type !== null).map(({ type, line, offset }) => ({ type, line, offset })),
        );

        const decoded = valid.map((e) => decodeRecord(e.bytes));
        const listed = [...(await backend.listEvents()), ...(await backend.listAudits()), ...(await backend.listDeadLetters())];
        for (const kind of ['event', 'audit', 'dead_letter'] as const) {
          const ofKind = decoded.filter((r) => r.kind === kind);
          expect(listed.filter((r) => r.kind === kind)).toEqual(ofKind);
          const list =
            kind === 'event' ? backend.listEvents.bind(backend) : kind === 'audit' ? backend.listAudits.bind(backend) : backend.listDeadLetters.bind(backend);
          // The backward reader (limit) sees the same records as the forward one.
          expect(await list({ limit, order: 'desc' })).toEqual(limit === 0 ? [] : ofKind.slice(-limit).reverse());
        }
        expectNoPollution(listed);

        const mode = n % 2 === 0 ? 'repair' : 'quarantine';
        const quarantineDir = join(dir, 'quarantine');
        const report = await backend.recover({ mode, quarantineDir });
        expect(report.postScan.anomalies).toEqual([]);
        expect(report.droppedRecords).toBe(expected.length - valid.length);
        const repaired = Buffer.concat(valid.flatMap((e) => [e.bytes, Buffer.from('\n')]));
        expect((await readFile(path).catch(() => Buffer.alloc(0))).equals(repaired)).toBe(true);
        if (mode === 'quarantine' && valid.length < expected.length) {
          const copies = await readdir(quarantineDir);
          expect(copies).toHaveLength(1);
          expect((await readFile(join(quarantineDir, copies[0]!))).equals(original)).toBe(true);
        }
        const again = await backend.recover({ mode, quarantineDir });
        expect(again).toMatchObject({ repairedFiles: [], quarantinedFiles: [], droppedRecords: 0 });
        expect((await readFile(path).catch(() => Buffer.alloc(0))).equals(repaired)).toBe(true);
        expect((await backend.scan()).anomalies).toEqual([]);
        await backend.close();
        linesChecked += expected.length;
        validKept += valid.length;
      }),
      { seed, numRuns: 200 },
    );
    reportFigures(test, { inputsTried: n, linesChecked, validLinesKept: validKept, recordsLost: 0 });
  }, 120_000);

  it('missing files, empty files and directories: an empty store or a typed error, never a crash', async () => {
    const dir = await dirs.make();
    const missing = new NdjsonBackend({ path: join(dir, 'absent', 'store.ndjson') });
    expect((await missing.scan()).anomalies).toEqual([]);
    expect(await missing.listEvents({ limit: 5 })).toEqual([]);
    expect((await missing.recover({ mode: 'repair' })).repairedFiles).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    await writeFile(join(dir, 'empty.ndjson'), '');
    const empty = new NdjsonBackend({ path: join(dir, 'empty.ndjson') });
    expect((await empty.scan()).anomalies).toEqual([]);
    expect(await empty.listAudits()).toEqual([]);
    await mkdir(join(dir, 'adir'));
    const directory = new NdjsonBackend({ path: join(dir, 'adir') });
    for (const action of [
      () => directory.scan(),
      () => directory.listEvents(),
      () => directory.listEvents({ limit: 3 }),
      () => directory.recover({ mode: 'repair' }),
      () => directory.compact(),
    ]) {
      await expect(action()).rejects.toMatchObject({ code: 'PAPYRA_NOT_A_FILE' });
    }
    await Promise.all([missing.close(), empty.close(), directory.close()]);
  });
});

/** Runs the CLI's `main` in this process with captured output. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stderrIsTTY: false, env: {}, cwd: process.cwd(), now: () => Date.now() };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('fuzzing the papyra CLI', () => {
  it("in-process `main`: scan/recover/inspect exit codes and JSON reports match the store's damage", async () => {
    const test = 'fuzz cli main';
    const seed = seedFor(test);
    const root = await dirs.make();
    let n = 0;
    let commands = 0;
    await fc.assert(
      fc.asyncProperty(storeArb, async (store) => {
        const path = join(root, `store-${n++}.ndjson`);
        await writeFile(path, bytesOf(store));
        const expected = expectations(store, 16 * 1024 * 1024);
        const bad = expected.filter((e) => e.type !== null);
        const valid = expected.filter((e) => e.type === null);

        const scan = await cli(['persistence', 'scan', '--path', path, '--json']);
        expect(scan.code).toBe(bad.length > 0 ? 2 : 0);
        const report = JSON.parse(scan.stdout) as { anomalies: { type: string; line: number; offset: number }[] };
        expect(report.anomalies.map(({ type, line, offset }) => ({ type, line, offset }))).toEqual(
          bad.map(({ type, line, offset }) => ({ type, line, offset })),
        );

        const events = await cli(['inspect', 'events', '--path', path, '--json', '--limit', '1000']);
        expect(events.code).toBe(0);
        // Records as JSON (what --json prints), newest 1000 in file order.
        const decodedEvents = valid.map((e) => decodeRecord(e.bytes)).filter((r) => r.kind === 'event');
        expect((JSON.parse(events.stdout) as { events: unknown[] }).events).toEqual(JSON.parse(JSON.stringify(decodedEvents.slice(-1000))));

        const recover = await cli(['persistence', 'recover', '--mode', 'repair', '--path', path, '--json']);
        expect(recover.code).toBe(0);
        JSON.parse(recover.stdout);
        expect((await readFile(path).catch(() => Buffer.alloc(0))).equals(Buffer.concat(valid.flatMap((e) => [e.bytes, Buffer.from('\n')])))).toBe(true);
        const rescan = await cli(['persistence', 'scan', '--path', path, '--json']);
        expect(rescan.code).toBe(0);
        for (const out of [scan, events, recover, rescan]) expect(out.stderr).not.toMatch(/PAPYRA_INTERNAL|TypeError|RangeError/);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        commands += 4;
      }),
      { seed, numRuns: 60 },
    );
    reportFigures(test, { inputsTried: n, commandsRun: commands, recordsLost: 0 });
  }, 120_000);

  it('the real binary: damaged, Python, empty, missing and directory stores get the documented exit codes and one JSON document', async () => {
    const run = promisify(execFile);
    const papyra = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, [bin, ...args], { env: { PATH: process.env['PATH'] ?? '' } });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const dir = await dirs.make();
    const damaged = join(dir, 'damaged.ndjson');
    const python = await readFile(join(fixtures, 'system.ndjson'));
    await writeFile(
      damaged,
      Buffer.concat([
        python,
        Buffer.from([0xff, 0xfe, 10]),
        Buffer.from('[1,2]\n{"kind": "event", "__proto__": {"polluted": 1}, "timestamp": 3}\n{"kind": "ev'),
      ]),
    );
    await writeFile(join(dir, 'empty.ndjson'), '');
    await mkdir(join(dir, 'adir'));

    const scan = await papyra('persistence', 'scan', '--path', damaged, '--json');
    expect(scan.code).toBe(2);
    expect((JSON.parse(scan.stdout) as { anomalies: { type: string; line: number }[] }).anomalies.map((a) => [a.type, a.line])).toEqual([
      ['CORRUPTED_LINE', 18],
      ['INVALID_RECORD', 19],
      ['TRUNCATED_LINE', 21],
    ]);
    const quarantine = join(dir, 'q');
    expect((await papyra('persistence', 'recover', '--mode', 'quarantine', '--quarantine-dir', quarantine, '--path', damaged, '--json')).code).toBe(0);
    expect((await readFile(damaged)).equals(Buffer.concat([python, Buffer.from('{"kind": "event", "__proto__": {"polluted": 1}, "timestamp": 3}\n')]))).toBe(
      true,
    );
    expect(await readdir(quarantine)).toHaveLength(1);
    expect((await papyra('persistence', 'scan', '--path', damaged, '--json')).code).toBe(0);

    const cases: [string[], number][] = [
      [['persistence', 'scan', '--path', join(fixtures, 'system.ndjson'), '--json'], 0],
      [
        [
          'persistence',
          'scan',
          '--backend',
          'rotating',
          '--path',
          join(fixtures, 'rotating/system.ndjson'),
          '--max-bytes',
          '600',
          '--max-files',
          '3',
          '--json',
        ],
        0,
      ],
      [['persistence', 'scan', '--path', join(dir, 'empty.ndjson'), '--json'], 0],
      [['persistence', 'scan', '--path', join(dir, 'missing.ndjson'), '--json'], 0],
      [['persistence', 'scan', '--path', join(dir, 'adir'), '--json'], 78],
      [['inspect', 'summary', '--path', join(dir, 'adir'), '--json'], 78],
      [['persistence', 'recover', '--mode', 'quarantine', '--path', damaged, '--json'], 78],
    ];
    for (const [args, code] of cases) {
      const out = await papyra(...args);
      expect({ args, code: out.code }).toEqual({ args, code });
      expect(() => JSON.parse(out.stdout)).not.toThrow();
    }
    expect(await readdir(dir)).toEqual(['adir', 'damaged.ndjson', 'empty.ndjson', 'q']);
    reportFigures('fuzz cli binary', { commandsRun: 4 + cases.length });
  }, 60_000);
});
