import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from '@jest/globals';
import { Actor, ActorSystem } from '@papyra/core';
import { PostgresBackend } from '../src/index.js';
import { DATABASE_URL, describeDb, freshTable, testSchema } from './db.js';

class Echo extends Actor<string, string> {
  receive(message: string): string {
    return message;
  }
}

describeDb('an actor system persisting to PostgreSQL', () => {
  const db = testSchema('actors');
  afterAll(() => db.drop());

  it('keeps running and loses no lifecycle fact when the server cuts its connections', async () => {
    const app = `papyra-actors-${randomBytes(4).toString('hex')}`;
    const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema: db.name, table: freshTable(), applicationName: app, batchSize: 10 });
    await backend.ensureSchema();
    const system = new ActorSystem({ systemId: 'shop', persistence: backend });
    await system.start();
    let killed = 0;
    const addresses: string[] = [];
    for (let round = 0; round < 5; round++) {
      const refs = Array.from({ length: 20 }, () => system.spawn(Echo));
      for (const ref of refs) {
        addresses.push(ref.address);
        expect(await ref.ask('ping', { timeoutMs: 5_000 })).toBe('ping');
      }
      killed += (await db.sql<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]))
        .rows[0]!.n;
      for (const ref of refs) await system.stop(ref);
      await Promise.all(refs.map((r) => r.terminated));
    }
    await system.close();
    expect(killed).toBeGreaterThan(0);

    const events = await backend.listEvents();
    const of = (type: string) => events.filter((e) => e.eventType === type).map((e) => e.actorAddress);
    expect(of('ActorStarted')).toEqual(addresses);
    expect(of('ActorStopped').sort()).toEqual([...addresses].sort());
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(backend.metrics.snapshot().recordsDropped).toBe(0);
    await backend.close();
  });
});
