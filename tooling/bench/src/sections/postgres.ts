import pg from 'pg';
import { PostgresBackend } from '@papyra/backend-postgres';
import { perSecond, repeat, timed, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';
import { makeEvents } from './ndjson.js';

const DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresSection(scale: Scale): Promise<Figure[]> {
  const schema = `papyra_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    const events = makeEvents(scale.postgresRecords);
    const rates = await repeat(scale.runs, async () => {
      const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema, table: `records_${Math.random().toString(36).slice(2)}` });
      await backend.ensureSchema();
      const ms = await timed(async () => {
        await Promise.all(events.map((e) => backend.recordEvent(e)));
        await backend.flush();
      });
      await backend.close();
      return perSecond(events.length, ms);
    });
    return [
      { section: 'postgres', name: `batched inserts, ${events.length.toLocaleString('en-US')} records`, subject: { label: 'PostgresBackend', unit: 'rec/s', values: rates }, note: 'no SPEC target; shown beside the other backends' },
    ];
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}
