import { describe, expect, it } from '@jest/globals';
import { PersistenceMetrics } from '@papyra/persistence-contract';
import { WriteQueue, type Row } from '../src/writer.js';
import { recordingLogger } from './faults.js';

const row = (i: number): Row => ({
  id: `r${i}`,
  kind: 'event',
  systemId: 'local',
  timestampMs: i,
  data: '{}',
  bytes: 3,
  actor: null,
  eventType: null,
  target: null,
});
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** The retry delays a queue schedules while every insert fails, for a given jitter source. */
async function retryDelays(random: () => number, retries: number): Promise<number[]> {
  const { logger, lines } = recordingLogger();
  const queue = new WriteQueue({
    insert: () => Promise.reject(refused()),
    batchSize: 10,
    bufferLimit: 10,
    metrics: new PersistenceMetrics(),
    logger,
    minRetryDelayMs: 1,
    maxRetryDelayMs: 16,
    random,
  });
  const delays = () => lines.filter((l) => l.msg === 'retrying PostgreSQL writes').map((l) => (l.obj as { retryInMs: number }).retryInMs);
  await queue.push(row(0));
  while (delays().length < retries) await new Promise((r) => setTimeout(r, 5));
  await queue.close().catch(() => {});
  return delays().slice(0, retries);
}

describe('write queue reconnect backoff', () => {
  it('doubles up to the maximum with equal jitter: between half and all of each step', async () => {
    const base = [1, 2, 4, 8, 16, 16];
    const low = await retryDelays(() => 0, base.length);
    const high = await retryDelays(() => 0.999, base.length);
    expect(low).toEqual(base.map((d) => Math.round(d * 0.5)));
    expect(high).toEqual(base.map((d) => Math.round(d * 0.9995)));
    // Two processes cut off by the same outage do not retry in lockstep.
    expect(low).not.toEqual(high);
  });
});
