import { spawn } from 'node:child_process';
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { PersistedRecord } from '@papyra/persistence-contract';
import { RotatingBackend } from '../src/index.js';
import { audit, event, tempDirs, write } from './helpers.js';

// The child runs the built package (dist/): build it first (`npx tsc -b`).
const script = fileURLToPath(new URL('./children/compact.mjs', import.meta.url));
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const MAX_BYTES = 32 * 1024;
const MAX_FILES = 200;
const KEEP = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a compaction in a child; kills it `killAfterMs` after it said "start" (null: let it finish). Resolves the ms from start to exit. */
function compactInChild(path: string, killAfterMs: number | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, String(MAX_BYTES), String(MAX_FILES), String(KEEP)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let began = 0;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (began === 0 && chunk.includes('start')) {
        began = Date.now();
        if (killAfterMs !== null) void sleep(killAfterMs).then(() => child.kill('SIGKILL'));
      }
    });
    child.on('close', (code, signal) => {
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`compaction child failed (${code}): ${stderr}`));
      else resolve(Date.now() - began);
    });
  });
}

const ids = (records: readonly PersistedRecord[]) => records.map((r) => r.id);

describe('compaction killed with SIGKILL', () => {
  it('leaves the old set or the new one; afterwards scan and repair yield every retained record exactly once', async () => {
    const dir = await dirs.make();
    const original = join(dir, 'original');
    // Events and audits interleaved: retention drops the older events, so most files are rewritten, not just deleted.
    const records: PersistedRecord[] = Array.from({ length: 12_000 }, (_, i) =>
      i % 4 === 3 ? audit(i) : event(i, { payload: { n: i, pad: 'z'.repeat(i % 150) } }),
    );
    const seed = new RotatingBackend({ path: join(original, 'store.ndjson'), maxBytes: MAX_BYTES, maxFiles: MAX_FILES, fsync: 'never' });
    await Promise.all(records.map((r) => write(seed, r)));
    expect((await seed.files()).length).toBeGreaterThan(40);
    expect(seed.metrics.snapshot().recordsDropped).toBe(0);
    await seed.close();
    const events = records.filter((r) => r.kind === 'event');
    const audits = records.filter((r) => r.kind === 'audit');
    const oldSet = [ids(events), ids(audits)];
    const newSet = [ids(events.slice(-KEEP)), ids(audits.slice(-KEEP))];

    const reference = join(dir, 'reference');
    await cp(original, reference, { recursive: true });
    const duration = await compactInChild(join(reference, 'store.ndjson'), null);
    const finished = new RotatingBackend({ path: join(reference, 'store.ndjson'), maxBytes: MAX_BYTES, maxFiles: MAX_FILES });
    expect([ids(await finished.listEvents()), ids(await finished.listAudits())]).toEqual(newSet);
    await finished.close();

    const outcomes: string[] = [];
    const killAt = async (run: number, fraction: number): Promise<string> => {
      const copy = join(dir, `run-${run}`);
      await cp(original, copy, { recursive: true });
      const path = join(copy, 'store.ndjson');
      await compactInChild(path, Math.round(fraction * duration));

      // Readers see the old set or the new one, never a mix, before anything is repaired.
      const all = new RotatingBackend({ path, maxBytes: MAX_BYTES, maxFiles: MAX_FILES });
      const seen = [ids(await all.listEvents()), ids(await all.listAudits())];
      await all.close();
      const outcome = JSON.stringify(seen) === JSON.stringify(oldSet) ? 'old' : JSON.stringify(seen) === JSON.stringify(newSet) ? 'new' : 'mixed';
      expect({ fraction, outcome }).not.toEqual({ fraction, outcome: 'mixed' });

      // Only our own leftovers are anomalies; repair (taking over the dead child's lock) ends clean.
      const backend = new RotatingBackend({ path, maxBytes: MAX_BYTES, maxFiles: MAX_FILES, retention: { maxRecords: KEEP } });
      const scan = await backend.scan();
      expect(scan.anomalies.filter((a) => a.type !== 'UNEXPECTED_FILE')).toEqual([]);
      const report = await backend.recover({ mode: 'repair' });
      expect(report.postScan.anomalies).toEqual([]);
      const events = ids(await backend.listEvents());
      expect(events).toEqual(newSet[0]);
      expect(ids(await backend.listAudits())).toEqual(newSet[1]);
      expect(new Set(events).size).toBe(KEEP);
      await backend.close();
      expect((await readdir(copy)).filter((n) => !/^store\.ndjson(\.\d+)?$/.test(n))).toEqual([]);
      await rm(copy, { recursive: true, force: true });
      return outcome;
    };
    const fractions = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1, 1.2];
    for (const [run, fraction] of fractions.entries()) outcomes.push(await killAt(run, fraction));
    // Kill times come from one measured run and IO speed varies: kill later until one lands after the commit.
    for (let fraction = 1.5; !outcomes.includes('new') && fraction < 40; fraction *= 1.5) {
      fractions.push(fraction);
      outcomes.push(await killAt(fractions.length, fraction));
    }
    expect(outcomes[0]).toBe('old');
    expect(outcomes).toContain('new');
    console.log(`compaction took ${duration} ms; outcomes by kill time: ${fractions.map((f, i) => `${f}:${outcomes[i]}`).join(' ')}`);
  }, 180_000);
});
