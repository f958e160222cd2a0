import { describe, expect, it } from '@jest/globals';
import { configLayer, envLayer, flagLayer, resolveStore } from '../src/settings.js';

const CWD = '/work/here';
const flags = (argv: Record<string, unknown>) => flagLayer(argv, CWD);
const env = (vars: Record<string, string>) => envLayer(vars, CWD);

describe('resolveStore', () => {
  it('treats --path alone as ndjson, resolved against the working directory', () => {
    expect(resolveStore([flags({ path: 'papyra.ndjson' })])).toEqual({ backend: 'ndjson', path: '/work/here/papyra.ndjson', retention: {} });
  });

  it('implies rotating from --max-bytes / --max-files and requires both', () => {
    expect(resolveStore([flags({ path: '/x', maxBytes: '1000', maxFiles: '3' })])).toMatchObject({ backend: 'rotating', maxBytes: 1000, maxFiles: 3 });
    expect(() => resolveStore([flags({ path: '/x', maxBytes: '1000' })])).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE' }));
  });

  it('implies redis and postgres from their URLs, with redis defaults left to the backend', () => {
    expect(resolveStore([flags({ redisUrl: 'redis://h:6379' })])).toEqual({ backend: 'redis', url: 'redis://h:6379', retention: {} });
    expect(resolveStore([flags({ backend: 'redis', prefix: 'p', systemId: 's' })])).toEqual({
      backend: 'redis',
      url: 'redis://127.0.0.1:6379',
      prefix: 'p',
      systemId: 's',
      retention: {},
    });
    expect(resolveStore([flags({ databaseUrl: 'postgres://u@h/db' })])).toEqual({ backend: 'postgres', connectionString: 'postgres://u@h/db', retention: {} });
  });

  it('passes PostgreSQL schema, table and system id from flags or PAPYRA_SCHEMA / PAPYRA_TABLE / PAPYRA_SYSTEM_ID', () => {
    expect(
      resolveStore([flags({ databaseUrl: 'postgres://u@h/db', table: 't' }), env({ PAPYRA_SCHEMA: 'ops', PAPYRA_TABLE: 'ignored', PAPYRA_SYSTEM_ID: 'shop' })]),
    ).toEqual({
      backend: 'postgres',
      connectionString: 'postgres://u@h/db',
      schema: 'ops',
      table: 't',
      systemId: 'shop',
      retention: {},
    });
  });

  it('is a usage error when nothing or two different stores are named', () => {
    expect(() => resolveStore([flags({}), env({})])).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE' }));
    expect(() => resolveStore([flags({ path: '/x', redisUrl: 'redis://h' })])).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE' }));
    expect(() => resolveStore([flags({ backend: 'postgres' })])).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE' }));
  });

  it('lets flags win over the environment, and the environment over the config file', () => {
    const file = configLayer({ path: 'from-config.ndjson', retention: { maxRecords: 5, maxAgeMs: 1000 } }, 'papyra.json', '/etc/papyra');
    const vars = env({ PAPYRA_PATH: 'from-env.ndjson', PAPYRA_MAX_RECORDS: '7' });
    expect(resolveStore([flags({}), vars, file])).toEqual({
      backend: 'ndjson',
      path: '/work/here/from-env.ndjson',
      retention: { maxRecords: 7, maxAgeMs: 1000 },
    });
    expect(resolveStore([flags({ path: 'flag.ndjson' }), vars, file])).toMatchObject({ path: '/work/here/flag.ndjson' });
    // Paths in a config file are relative to the file.
    expect(resolveStore([flags({}), env({}), file])).toMatchObject({ path: '/etc/papyra/from-config.ndjson' });
  });

  it('takes the backend from the highest layer that names a store', () => {
    expect(resolveStore([flags({ path: '/x' }), env({ PAPYRA_REDIS_URL: 'redis://h' })])).toMatchObject({ backend: 'ndjson' });
    expect(resolveStore([flags({ prefix: 'p' }), env({ PAPYRA_REDIS_URL: 'redis://h' })])).toMatchObject({ backend: 'redis', prefix: 'p' });
  });

  it('parses retention flags, durations included', () => {
    expect(resolveStore([flags({ backend: 'memory', maxRecords: '10', maxAge: '7d', maxTotalBytes: '4096' })])).toEqual({
      backend: 'memory',
      retention: { maxRecords: 10, maxAgeMs: 604_800_000, maxTotalBytes: 4096 },
    });
  });
});

describe('Redis Cluster', () => {
  const file = (options: Record<string, unknown>) => configLayer(options, 'papyra.json', '/etc/papyra');

  it('--redis-cluster makes --redis-url a seed node: { url, cluster: true }', () => {
    const expected = { backend: 'redis', url: 'redis://10.0.0.1:7000', cluster: true, retention: {} };
    expect(resolveStore([flags({ redisUrl: 'redis://10.0.0.1:7000', redisCluster: true })])).toEqual(expected);
    expect(resolveStore([env({ PAPYRA_REDIS_URL: 'redis://10.0.0.1:7000', PAPYRA_REDIS_CLUSTER: 'true' })])).toEqual(expected);
    expect(resolveStore([file({ redisUrl: 'redis://10.0.0.1:7000', redisCluster: true })])).toEqual(expected);
  });

  it('--redis-nodes lists seed nodes: { nodes, cluster: true }, from flags, PAPYRA_REDIS_NODES or redisNodes', () => {
    const expected = { backend: 'redis', nodes: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7001'], cluster: true, retention: {} };
    expect(resolveStore([flags({ redisNodes: '10.0.0.1:7000,10.0.0.2:7001' })])).toEqual(expected);
    expect(resolveStore([env({ PAPYRA_REDIS_NODES: '10.0.0.1:7000, 10.0.0.2:7001' })])).toEqual(expected);
    expect(resolveStore([file({ redisNodes: ['10.0.0.1:7000', 'redis://10.0.0.2:7001'] })])).toEqual(expected);
    expect(resolveStore([flags({ redisNodes: 'redis://u:pw@h1:7000,h2:7000', systemId: 'shop' })])).toMatchObject({
      nodes: ['redis://u:pw@h1:7000', 'redis://h2:7000'],
      systemId: 'shop',
    });
  });

  it('rejects malformed nodes and nodes combined with a URL, without echoing them', () => {
    expect(() => flags({ redisNodes: 'h1,h2:x' })).toThrow(
      expect.objectContaining({ code: 'PAPYRA_USAGE', message: expect.stringContaining('--redis-nodes') }),
    );
    expect(() => env({ PAPYRA_REDIS_NODES: 'pw-secret' })).toThrow(
      expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG', message: expect.not.stringContaining('pw-secret') }),
    );
    expect(() => env({ PAPYRA_REDIS_CLUSTER: 'maybe' })).toThrow(
      expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG', message: expect.stringContaining('PAPYRA_REDIS_CLUSTER') }),
    );
    expect(() => resolveStore([flags({ redisNodes: 'h1:7000', redisUrl: 'redis://h2:7000' })])).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE' }));
  });
});

describe('layers', () => {
  it('ignores unknown PAPYRA_* variables and empty ones', () => {
    const layer = env({ PAPYRA_SOMETHING_ELSE: 'x', PAPYRA_PATH: '', PAPYRA_BACKEND: 'memory' });
    expect(layer.values).toEqual({ backend: 'memory' });
  });

  it('reports a bad flag as a usage error and a bad variable or config value as a configuration error', () => {
    expect(() => flags({ maxFiles: 'three' })).toThrow(expect.objectContaining({ code: 'PAPYRA_USAGE', message: expect.stringContaining('--max-files') }));
    expect(() => env({ PAPYRA_MAX_FILES: '0' })).toThrow(
      expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG', message: expect.stringContaining('PAPYRA_MAX_FILES') }),
    );
    expect(() => env({ PAPYRA_MAX_AGE: 'a week' })).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => configLayer({ pth: 'x' }, 'c.json', '/')).toThrow(
      expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG', message: expect.stringContaining('"pth"') }),
    );
    expect(() => configLayer({ retention: { maxRecord: 1 } }, 'c.json', '/')).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
    expect(() => resolveStore([env({ PAPYRA_BACKEND: 'sqlite' })])).toThrow(expect.objectContaining({ code: 'PAPYRA_INVALID_CONFIG' }));
  });

  it('never echoes a URL it rejects (it may hold a password)', () => {
    let message = '';
    try {
      resolveStore([flags({ redisUrl: 'not a url secretpw' })]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('--redis-url is not a URL');
    expect(message).not.toContain('secretpw');
  });
});
