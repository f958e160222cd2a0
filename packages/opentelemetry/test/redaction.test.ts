import { describe, expect, it } from '@jest/globals';
import { PersistenceMetrics, type Logger } from '@papyra/persistence-contract';
import { registerPapyraMetrics } from '../src/index.js';
import { MAX_LABELS } from '../src/tally.js';
import { testMeterProvider } from './helpers.js';

/**
 * pino is not resolvable from this package (it is no dependency of it), so this is a pino-compatible
 * logger that serialises every call as pino would (bindings + object + msg, one JSON line) into a buffer.
 */
function bufferLogger(lines: string[], bindings: Record<string, unknown> = {}): Logger {
  const log =
    (level: string) =>
    (objOrMsg: object | string, ...rest: unknown[]): void => {
      const fields = typeof objOrMsg === 'string' ? { msg: objOrMsg } : { ...objOrMsg, msg: rest[0] };
      lines.push(JSON.stringify({ level, ...bindings, ...fields }));
    };
  return {
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    fatal: log('fatal'),
    child: (more) => bufferLogger(lines, { ...bindings, ...more }),
  };
}

describe('secrets', () => {
  it('never logs nor exports the password of a Redis URL that a backend puts in a drop reason or error', async () => {
    const secret = 's3cr3t-pa55';
    const url = `redis://papyra:${secret}@cache.internal:6379/0`;
    const lines: string[] = [];
    const { provider, collect } = testMeterProvider();
    const metrics = new PersistenceMetrics();
    const reg = registerPapyraMetrics({ meterProvider: provider, backend: { name: 'redis', metrics }, logger: bufferLogger(lines) });

    // Fill the label budget so the next distinct value is logged (the one log line this package writes).
    for (let i = 0; i < MAX_LABELS; i++) metrics.dropped(1, `reason ${i}`);
    metrics.dropped(2, `cannot reach ${url}`);
    metrics.writeFailed(3, { name: `ReplyError from ${url}` });

    const exported = JSON.stringify((await collect()).points('papyra.persistence.write.errors'));
    const logged = lines.join('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      component: 'opentelemetry',
      backend: 'redis',
      label: 'cannot reach redis://papyra:***@cache.internal:6379/0',
    });
    expect(exported).toContain('ReplyError from redis://papyra:***@cache.internal:6379/0');
    expect(logged).not.toContain(secret);
    expect(exported).not.toContain(secret);
    reg.unregister();
    await provider.shutdown();
  });
});
