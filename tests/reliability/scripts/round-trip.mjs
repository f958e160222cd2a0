#!/usr/bin/env node
// The round trip of issue 19 at scale, outside the test suite: N generated records (default
// 1,000,000) go ndjson → postgres (export + import) → redis (migrate) → rotating (export + import)
// → ndjson (migrate), with diffSources after every hop and a byte comparison of the two NDJSON
// ends. Prints time per hop, records/s and this process's peak RSS (VmHWM) after each hop.
//
//   node tests/reliability/scripts/round-trip.mjs [--records N] [--batch-size N] [--keep]
//
// Uses the shared servers (PAPYRA_TEST_POSTGRES_URL, PAPYRA_TEST_REDIS_URL; defaults
// 127.0.0.1) with a fresh schema and key prefix, removed at the end. Run the built packages.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import { diffSources, exportArchive, importArchive, migrateStore, verifyArchive } from '@papyra/persistence-contract/archive';
import { POSTGRES_URL, REDIS_URL, closeStore, openStore } from '../test/children/transfer-backends.mjs';
import { fill } from '../test/children/transfer-records.mjs';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'batch-size': { type: 'string', default: '1000' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const records = Number(values.records);
const batchSize = Number(values['batch-size']);
const seed = values.seed === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(values.seed);

const peakRssMb = async () => Number(/VmHWM:\s+(\d+) kB/.exec(await readFile('/proc/self/status', 'utf8'))[1]) / 1024;
const dir = await mkdtemp(join(tmpdir(), 'papyra-round-trip-'));
const schema = `round_trip_${randomBytes(4).toString('hex')}`;
const prefix = `round-trip-${randomBytes(4).toString('hex')}`;
const specs = {
  start: { ndjson: join(dir, 'start.ndjson') },
  postgres: { postgres: schema },
  redis: { redis: prefix },
  rotating: { rotating: join(dir, 'rotating', 'set.ndjson'), maxBytes: 64 * 1024 * 1024, maxFiles: 1000 },
  end: { ndjson: join(dir, 'end.ndjson') },
};
const stores = Object.fromEntries(await Promise.all(Object.entries(specs).map(async ([name, spec]) => [name, await openStore(spec)])));
const rows = [];

async function hop(name, step, diffWith) {
  const began = performance.now();
  await step();
  const seconds = (performance.now() - began) / 1000;
  const diffBegan = performance.now();
  const diff = diffWith ? await diffSources(...diffWith) : null;
  const row = {
    hop: name,
    seconds: Number(seconds.toFixed(1)),
    recordsPerSecond: Math.round(records / seconds),
    differences: diff?.differences ?? null,
    diffSeconds: diff ? Number(((performance.now() - diffBegan) / 1000).toFixed(1)) : null,
    peakRssMb: Math.round(await peakRssMb()),
  };
  rows.push(row);
  console.log(JSON.stringify(row));
  if (diff && !diff.equal) throw new Error(`${name}: ${diff.differences} differences, first ${JSON.stringify(diff.first.slice(0, 3))}`);
}

console.log(JSON.stringify({ records, batchSize, seed, dir, schema, prefix }));
try {
  const options = (journal) => ({ journal: join(dir, journal), batchSize });
  await hop('fill ndjson', () => fill(stores.start, records, seed));
  const first = join(dir, 'archive-1');
  await hop('export ndjson', () => exportArchive(stores.start, first));
  await hop('verify archive', async () => {
    const v = await verifyArchive(first);
    if (!v.ok) throw new Error(JSON.stringify(v.problems.slice(0, 3)));
  });
  await hop('import → postgres', () => importArchive(first, stores.postgres, options('j1')), [stores.start, stores.postgres]);
  await hop('migrate postgres → redis', () => migrateStore(stores.postgres, stores.redis, options('j2')), [stores.postgres, stores.redis]);
  const second = join(dir, 'archive-2');
  await hop('export redis', () => exportArchive(stores.redis, second));
  await hop('import → rotating', () => importArchive(second, stores.rotating, options('j3')), [stores.redis, stores.rotating]);
  await hop('migrate rotating → ndjson', () => migrateStore(stores.rotating, stores.end, options('j4')), [stores.start, stores.end]);
  await closeStore(stores.end);
  const [a, b] = [await readFile(specs.start.ndjson), await readFile(specs.end.ndjson)];
  console.log(JSON.stringify({ byteIdentical: a.equals(b), bytes: (await stat(specs.start.ndjson)).size, peakRssMb: Math.round(await peakRssMb()) }));
  if (!a.equals(b)) process.exitCode = 2;
} finally {
  for (const store of Object.values(stores)) await closeStore(store).catch(() => undefined);
  if (!values.keep) {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    const redis = new Redis(REDIS_URL);
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 })) if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
}
