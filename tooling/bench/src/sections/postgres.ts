import pg from 'pg';
import { PostgresBackend } from '@papyra/backend-postgres';
import { makeEvents } from '../files.js';
import { perSecond, repeat, timed, verify, type Figure } from '../harness.js';
import type { Scale } from '../scale.js';
import { DATABASE_URL } from '../services.js';

export async function postgresSection(scale: Scale): Promise<Figure[]> {
  const schema = `papyra_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    const events = makeEvents(scale.postgresRecords);
    const rates = await repeat(scale.runs, async () => {
      const table = `records_${Math.random().toString(36).slice(2)}`;
      const backend = new PostgresBackend({ connectionString: DATABASE_URL, schema, table });
      await backend.ensureSchema();
      const ms = await timed(async () => {
        await Promise.all(events.map((e) => backend.recordEvent(e)));
        await backend.flush();
      });
      await backend.close();
      const { rows } = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${schema}"."${table}"`);
      verify('PostgresBackend rows', events.length, Number(rows[0]!.n));
      return perSecond(events.length, ms);
    });
    return [
      {
        id: 'postgres.batched',
        section: 'postgres',
        name: `batched inserts, ${events.length.toLocaleString('en-US')} records`,
        subject: { label: 'PostgresBackend', unit: 'rec/s', values: rates },
        note: 'no SPEC target; shown beside the other backends; counted as rows afterwards',
      },
    ];
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}
