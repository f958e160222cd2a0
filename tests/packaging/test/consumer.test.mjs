// Packs every published package and installs the tarballs into a consumer project outside the
// workspace, then uses them the ways a user does. See ../README.md.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;
const bin = (name) => join(root, 'node_modules/.bin', name);
const PUBLISHED = [
  'packages/persistence-contract',
  'packages/core',
  'packages/backend-memory',
  'packages/backend-ndjson',
  'packages/backend-rotating',
  'packages/backend-redis',
  'packages/backend-postgres',
  'packages/opentelemetry',
  'packages/http',
  'apps/cli',
];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `papyra-pack-${process.pid}`;

const work = mkdtempSync(join(tmpdir(), 'papyra-consumer-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');

const run = (cmd, args, cwd, env = {}) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, maxBuffer: 64 << 20 });

function runOrExplain(cmd, args, cwd, env) {
  try {
    return run(cmd, args, cwd, env);
  } catch (error) {
    assert.fail(`${cmd} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
}

const CONSUMER_TS = `
import { createEvent, PapyraError, type PersistenceBackend } from '@papyra/persistence-contract';
import { ActorSystem, Actor } from '@papyra/core';
import { MemoryBackend } from '@papyra/backend-memory';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { RotatingBackend } from '@papyra/backend-rotating';
import { RedisBackend } from '@papyra/backend-redis';
import { PostgresBackend } from '@papyra/backend-postgres';
import { registerPapyraMetrics } from '@papyra/opentelemetry';
import * as http from '@papyra/http';
import { Redis as Redis6 } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';

class Echo extends Actor<string, string> {
  receive(message: string): string {
    return message;
  }
}
const backends: PersistenceBackend[] = [
  new MemoryBackend(),
  new NdjsonBackend({ path: 'x.ndjson' }),
  new RotatingBackend({ path: 'r.ndjson', maxBytes: 1024, maxFiles: 2 }),
  new RedisBackend({ client: new Redis6({ lazyConnect: true }) }),
  new RedisBackend({ client: new Redis5({ lazyConnect: true }) }),
  new PostgresBackend({ connectionString: 'postgres://localhost/none' }),
];
export const used = [backends, createEvent, PapyraError, ActorSystem, Echo, registerPapyraMetrics, http];
`;

const ESM_SCRIPT = (ext) => `
${
  ext === 'cjs'
    ? "const contract = require('@papyra/persistence-contract');\nconst core = require('@papyra/core');\nconst { MemoryBackend } = require('@papyra/backend-memory');\nrequire('@papyra/backend-ndjson'); require('@papyra/backend-rotating'); require('@papyra/backend-redis'); require('@papyra/backend-postgres'); require('@papyra/opentelemetry'); require('@papyra/http');"
    : "import * as contract from '@papyra/persistence-contract';\nimport * as core from '@papyra/core';\nimport { MemoryBackend } from '@papyra/backend-memory';\nimport '@papyra/backend-ndjson'; import '@papyra/backend-rotating'; import '@papyra/backend-redis'; import '@papyra/backend-postgres'; import '@papyra/opentelemetry'; import '@papyra/http';"
}
async function main() {
  const backend = new MemoryBackend();
  class Echo extends core.Actor { receive(message) { return message; } }
  const system = new core.ActorSystem({ persistence: backend });
  await system.start();
  const reply = await system.spawn(Echo).ask('hello');
  await system.close();
  const events = await backend.listEvents();
  if (reply !== 'hello' || events.length === 0 || !contract.PapyraError) throw new Error('unexpected');
  console.log('${ext} ok', events.length);
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

const IOREDIS_SCRIPT = `
import { RedisBackend } from '@papyra/backend-redis';
import { createEvent } from '@papyra/persistence-contract';
import { Redis as Redis6 } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
for (const [name, Client] of [['ioredis6', Redis6], ['ioredis5', Redis5]]) {
  const client = new Client(process.env.REDIS_URL);
  const backend = new RedisBackend({ client, prefix: '${prefix}-' + name });
  await backend.recordEvent(createEvent({ systemId: 'local', actorAddress: 'local:1', eventType: 'ActorStarted', payload: {} }));
  await backend.flush();
  const events = await backend.listEvents();
  if (events.length !== 1) throw new Error(name + ': expected 1 event, got ' + events.length);
  await client.del(...(await client.keys('${prefix}-' + name + ':*')));
  await backend.close();
  client.disconnect();
  console.log(name, 'ok');
}
`;

describe('published packages, installed as a user would', () => {
  before(() => {
    for (const dir of PUBLISHED) runOrExplain('pnpm', ['pack', '--pack-destination', tarballs], join(root, dir));
    const files = readdirSync(tarballs).map((f) => `file:${join(tarballs, f)}`);
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }, null, 2));
    runOrExplain(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...files,
        'typescript@5.9.3',
        '@types/node@20.19.43',
        'ioredis@6.0.0',
        'ioredis5@npm:ioredis@5.9.3',
        'pg@8.23.1',
      ],
      app,
    );
    writeFileSync(join(app, 'index.ts'), CONSUMER_TS);
    writeFileSync(join(app, 'esm.mjs'), ESM_SCRIPT('mjs'));
    writeFileSync(join(app, 'cjs.cjs'), ESM_SCRIPT('cjs'));
    writeFileSync(join(app, 'ioredis.mjs'), IOREDIS_SCRIPT);
    const base = { strict: true, noEmit: true, target: 'ES2022', lib: ['ES2023', 'ESNext.Disposable'], types: ['node'], skipLibCheck: false };
    writeFileSync(
      join(app, 'tsconfig.nodenext.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'NodeNext', moduleResolution: 'NodeNext' }, files: ['index.ts'] }),
    );
    writeFileSync(
      join(app, 'tsconfig.bundler.json'),
      JSON.stringify({ compilerOptions: { ...base, module: 'ESNext', moduleResolution: 'Bundler' }, files: ['index.ts'] }),
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const dir of PUBLISHED) {
    test(`publint --strict: ${dir}`, () => {
      runOrExplain(bin('publint'), ['run', '--strict', '--pack', 'pnpm', join(root, dir)], root);
    });
  }
  test('attw (esm-only profile) on every tarball', () => {
    for (const file of readdirSync(tarballs)) {
      runOrExplain(bin('attw'), [join(tarballs, file), '--profile', 'esm-only', '--no-emoji', '--no-color', '--format', 'ascii'], root);
    }
  });
  test('tarballs ship no build info and no workspace: ranges', () => {
    for (const file of readdirSync(tarballs)) {
      const listing = run('tar', ['-tzf', join(tarballs, file)], root);
      assert.doesNotMatch(listing, /tsbuildinfo/, file);
      const manifest = run('tar', ['-xzOf', join(tarballs, file), 'package/package.json'], root);
      assert.doesNotMatch(manifest, /workspace:/, file);
      assert.match(manifest, /"repository"/, file);
    }
  });
  test('type-checks under strict NodeNext', () => {
    runOrExplain(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.nodenext.json'], app);
  });
  test('type-checks under strict Bundler resolution', () => {
    runOrExplain(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.bundler.json'], app);
  });
  test('runs as ESM', () => {
    assert.match(runOrExplain('node', ['esm.mjs'], app), /mjs ok/);
  });
  test('runs from CommonJS with require()', () => {
    assert.match(runOrExplain('node', ['cjs.cjs'], app), /cjs ok/);
  });
  test("takes the app's own ioredis 5.x and 6.x clients", () => {
    const out = runOrExplain('node', ['ioredis.mjs'], app, { REDIS_URL });
    assert.match(out, /ioredis6 ok/);
    assert.match(out, /ioredis5 ok/);
  });
  test('npx papyra --help', () => {
    assert.match(runOrExplain('npx', ['--no-install', 'papyra', '--help'], app), /papyra/);
  });
});
