import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DATABASE_URL, REDIS_URL } from './services.js';

export interface Environment {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** Each peer the figures are compared with or run against, and its version (or why it is unknown). */
  peers: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** The version in a dependency's package.json, found from its entry point (exports maps hide the file). */
function packageVersion(name: string): string {
  try {
    let dir = dirname(require.resolve(name));
    while (dir !== dirname(dir)) {
      const manifest = join(dir, 'package.json');
      if (existsSync(manifest)) {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (json.name === name) return json.version ?? 'unknown';
      }
      dir = dirname(dir);
    }
  } catch {
    // reported below
  }
  return 'not installed';
}

async function redisVersion(): Promise<string> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    redis.disconnect();
  }
}

async function postgresVersion(): Promise<string> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } catch {
    return 'unreachable';
  } finally {
    await client.end().catch(() => {});
  }
}

export async function environment(): Promise<Environment> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown CPU',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    peers: {
      ioredis: packageVersion('ioredis'),
      pg: packageVersion('pg'),
      pino: packageVersion('pino'),
      nact: packageVersion('nact'),
      'redis-server': await redisVersion(),
      PostgreSQL: await postgresVersion(),
    },
  };
}

export function environmentTable(env: Environment): string {
  const rows: [string, string][] = [
    ['CPU', `${env.cpu} × ${env.cores} cores`],
    ['memory', `${env.memoryGiB} GiB`],
    ['Node', `${env.node} (${env.platform})`],
    ...Object.entries(env.peers),
  ];
  return ['| component | version |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}
