import { describe, expect, it } from '@jest/globals';
import { RedisBackend } from '../src/index.js';
import { backoffMs } from '../src/connection.js';
import { classifyFailure } from '../src/errors.js';
import { settlesWithin } from './support/records.js';
import { assertOurPort } from './support/servers.js';

const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });

describe('reconnect backoff', () => {
  it('grows from 50 ms to a 2 s cap, with half of each delay random (jitter)', () => {
    expect([1, 2, 3, 6, 20].map((n) => backoffMs(n, () => 1))).toEqual([100, 200, 400, 2_000, 2_000]);
    expect([1, 2, 3, 6, 20].map((n) => backoffMs(n, () => 0))).toEqual([50, 100, 200, 1_000, 1_000]);
    const spread = new Set(Array.from({ length: 50 }, () => backoffMs(6)));
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('classifying a failed write', () => {
  it('server states are transient, a refusal of the entry is not, credentials and MOVED without cluster mode are configuration', () => {
    for (const m of [
      'CLUSTERDOWN The cluster is down',
      'BUSY Redis is busy running a script',
      'LOADING Redis is loading',
      'MISCONF Errors writing to disk',
      "READONLY You can't write against a read only replica.",
      'TRYAGAIN Multiple keys',
      'OOM command not allowed',
    ]) {
      expect(classifyFailure(reply(m), false)).toBe('transient');
    }
    expect(classifyFailure(new Error('Connection is closed.'), false)).toBe('transient');
    expect(classifyFailure(reply('WRONGTYPE Operation against a key holding the wrong kind of value'), false)).toBe('refused');
    expect(classifyFailure(reply('ERR Invalid stream ID specified as stream command argument'), false)).toBe('refused');
    expect(classifyFailure(reply('WRONGPASS invalid username-password pair or user is disabled.'), false)).toBe('config');
    expect(classifyFailure(reply('NOAUTH Authentication required.'), false)).toBe('config');
    expect(classifyFailure(reply('MOVED 3999 127.0.0.1:7001'), false)).toBe('config');
    expect(classifyFailure(reply('MOVED 3999 127.0.0.1:7001'), true)).toBe('transient');
  });
});

describe('probe() against a port nothing listens on', () => {
  it('rejects promptly, every time, with the refusal as its cause (not as a timeout)', async () => {
    const port = 17020; // our range; nothing is started on it
    assertOurPort(port);
    const b = new RedisBackend({ url: `redis://127.0.0.1:${port}`, prefix: 'papyra-test:probe' });
    try {
      // Right after construction (no connection error seen yet), then while reconnecting.
      for (let attempt = 0; attempt < 4; attempt++) {
        const result = await settlesWithin(b.probe({ timeoutMs: 20_000 }), 10_000);
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as {
          code: string;
          message: string;
          details: Record<string, unknown>;
          cause?: { code?: string };
        };
        expect(error).toMatchObject({ code: 'PAPYRA_BACKEND_UNAVAILABLE', cause: { code: 'ECONNREFUSED' } });
        expect(error.message).toContain('ECONNREFUSED');
        expect(error.details['timeout']).toBeUndefined();
        await new Promise((resolve) => setTimeout(resolve, attempt * 150));
      }
    } finally {
      await b.close().catch(() => undefined);
    }
  }, 60_000);
});
