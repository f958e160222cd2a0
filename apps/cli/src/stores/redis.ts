import { redactSecrets, type RetentionPolicy } from '@papyra/persistence-contract';
import { configError, usageError } from '../errors.js';
import { SYSTEM_ID_OPTION, backendClass, defined } from './shared.js';
import type { StoreModule } from './types.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisSpec {
  backend: 'redis';
  /** The server, or with `cluster` one seed node of the cluster. Absent when `nodes` is given. */
  url?: string;
  /** Seed nodes of a Redis Cluster (`host:port`). */
  nodes?: string[];
  cluster?: true;
  prefix?: string;
  systemId?: string;
  retention: RetentionPolicy;
}

/** Redis Streams, a single server or a Redis Cluster. */
export const redisStore: StoreModule<RedisSpec> = {
  backend: 'redis',
  options: [
    { key: 'redisUrl', kind: 'url', secret: true, describe: `Redis URL (default ${DEFAULT_REDIS_URL}); with --redis-cluster, one seed node` },
    { key: 'redisCluster', kind: 'boolean', describe: 'Redis: the server is a Redis Cluster node (keys get a hash tag)' },
    { key: 'redisNodes', kind: 'hosts', secret: true, describe: 'Redis Cluster seed nodes, host:port,host:port (or redis:// URLs; implies --redis-cluster)' },
    { key: 'prefix', kind: 'string', describe: 'Redis key prefix (default papyra)' },
    SYSTEM_ID_OPTION,
  ],
  implies: (v) => v['redisUrl'] !== undefined || v['redisNodes'] !== undefined || v['redisCluster'] === true,
  spec(options, retention) {
    const url = options.get<string>('redisUrl');
    const nodes = options.get<readonly string[]>('redisNodes');
    const cluster = options.get<boolean>('redisCluster');
    if (nodes !== undefined && url !== undefined) {
      throw usageError('Give the Redis Cluster either as seed nodes (--redis-nodes) or as one seed URL (--redis-cluster --redis-url), not both.');
    }
    if (nodes !== undefined && cluster === false) throw configError('--redis-nodes names a Redis Cluster; it cannot be combined with redisCluster false.');
    const prefix = options.get<string>('prefix');
    const systemId = options.get<string>('systemId');
    return {
      backend: 'redis',
      ...(nodes === undefined ? { url: url ?? DEFAULT_REDIS_URL } : { nodes: [...nodes] }),
      ...((cluster === true || nodes !== undefined) && { cluster: true as const }),
      ...(prefix !== undefined && { prefix }),
      ...(systemId !== undefined && { systemId }),
      retention,
    };
  },
  async open(spec, common) {
    const RedisBackend = await backendClass(() => import('@papyra/backend-redis'), 'RedisBackend', '@papyra/backend-redis');
    return new RedisBackend({
      ...common,
      ...defined({ url: spec.url, nodes: spec.nodes, cluster: spec.cluster, prefix: spec.prefix, systemId: spec.systemId }),
    });
  },
  describe: (spec) => ({
    backend: 'redis',
    ...(spec.url !== undefined && { url: redactSecrets(spec.url) }),
    ...(spec.nodes !== undefined && { nodes: spec.nodes.map(redactSecrets) }),
    cluster: spec.cluster === true,
    prefix: spec.prefix ?? 'papyra',
    systemId: spec.systemId ?? 'local',
  }),
  label: (spec) =>
    `redis ${spec.nodes ? `cluster ${spec.nodes.join(',')}` : `${spec.cluster ? 'cluster ' : ''}${spec.url}`} (prefix ${spec.prefix ?? 'papyra'}, system ${spec.systemId ?? 'local'})`,
  // URLs may hold passwords: point at the options rather than repeat them.
  args: () => '--backend redis <same store options>',
};
