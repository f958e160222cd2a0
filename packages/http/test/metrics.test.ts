import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { Actor, ActorSystem, type RuntimeMetricsSnapshot } from '@papyra/core';
import { PAPYRA_INSTRUMENTS, prometheusName, type PersistenceMetricsSnapshot } from '@papyra/persistence-contract';
import { tempDirs } from '@papyra/test-support';
import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import { createPapyraHandler, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from '../src/index.js';
import { Counter, eventually, listen } from './helpers.js';

/** Throws on multiples of 3; named, so supervision restarts it. */
class Flaky extends Actor<number, number> {
  receive(n: number): number {
    if (n % 3 === 0) throw new Error(`no ${n}`);
    return n;
  }
}

const dirs = tempDirs('papyra-http-metrics-');
let system: ActorSystem;
let backend: NdjsonBackend;
let handler: ReturnType<typeof createPapyraHandler>;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  backend = new NdjsonBackend({ path: join(await dirs.make(), 'papyra.ndjson') });
  system = new ActorSystem({ systemId: 'metrics-run', persistence: backend, defaults: { supervision: { maxRestarts: 1000 } } });
  // Created before any write: its histogram sees every write of the run.
  handler = createPapyraHandler({ system });
  server = await listen(handler);
  await system.start();
  const counters = [1, 2, 3].map((i) => system.spawn(Counter, { name: `c${i}` }));
  const flaky = system.spawn(Flaky, { name: 'flaky' });
  for (let i = 1; i <= 200; i++) {
    await Promise.all(counters.map((ref) => ref.ask(i)));
    await flaky.ask(i).catch(() => undefined);
  }
  const temp = system.spawn(Counter);
  await system.stop(temp);
  await temp.terminated;
  await temp.tell(1).catch(() => undefined); // a dead letter
  system.audit();
  await backend.scan();
  // Quiescent: nothing pending, so the snapshots below describe the same state as the scrape.
  await eventually(
    async () => system.metrics.snapshot().persistence!.pending,
    (n) => n === 0,
  );
  await backend.flush();
});

afterAll(async () => {
  handler.close();
  await server.close();
  await system.close();
  await backend.close();
  await dirs.cleanup();
});

/** Families by name; series of one name split by others (untyped histogram parts) are merged. */
function byName(families: ParsedFamily[]): Map<string, ParsedFamily> {
  const out = new Map<string, ParsedFamily>();
  for (const f of families) {
    const seen = out.get(f.name);
    if (seen) seen.metrics.push(...f.metrics);
    else out.set(f.name, { ...f, metrics: [...f.metrics] });
  }
  return out;
}

function value(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (!family) throw new Error(`no family ${name}`);
  const matching = family.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return matching.reduce((sum, m) => sum + Number(m.value), 0);
}

/** What each series must equal, read from the snapshots by this test's own table (not the package's). */
function expected(rt: RuntimeMetricsSnapshot, be: PersistenceMetricsSnapshot): Array<[string, Record<string, string>, number]> {
  const sys = { papyra_system_id: 'metrics-run' };
  const b = { papyra_backend: 'ndjson' };
  const p = rt.persistence!;
  return [
    ['papyra_actor_count', sys, rt.actorsAlive],
    ['papyra_actor_count', { ...sys, papyra_actor_state: 'running' }, rt.actorsAlive - rt.actorsStopping - rt.actorsRestarting],
    ['papyra_actor_spawned_total', sys, rt.actorsSpawned],
    ['papyra_actor_stopped_total', sys, rt.actorsStopped],
    ['papyra_actor_crashes_total', sys, rt.crashes],
    ['papyra_actor_restarts_total', sys, rt.restarts],
    ['papyra_mailbox_depth', sys, rt.mailboxDepth],
    ['papyra_mailbox_fill', sys, rt.mailboxMaxFill],
    ['papyra_message_processed_total', sys, rt.messagesProcessed],
    ['papyra_message_processing_time_total', sys, rt.processingTimeMs / 1000],
    ['papyra_message_dead_letters_total', sys, rt.deadLetters],
    ['papyra_ask_timeouts_total', sys, rt.askTimeouts],
    ['papyra_system_persistence_pending', sys, p.pending],
    ['papyra_system_persistence_oldest_pending_age', sys, (p.oldestPendingAgeMs ?? 0) / 1000],
    ['papyra_system_persistence_errors_total', sys, p.writeErrors],
    ['papyra_system_persistence_dropped_total', sys, p.dropped],
    ['papyra_persistence_record_written_total', b, be.recordsWritten],
    ['papyra_persistence_record_written_total', { ...b, papyra_record_kind: 'event' }, be.recordsWrittenByKind.event],
    ['papyra_persistence_record_written_total', { ...b, papyra_record_kind: 'audit' }, be.recordsWrittenByKind.audit],
    ['papyra_persistence_record_written_total', { ...b, papyra_record_kind: 'dead_letter' }, be.recordsWrittenByKind.dead_letter],
    ['papyra_persistence_record_size_total', b, be.bytesWritten],
    ['papyra_persistence_write_errors_total', b, be.writeErrors],
    ['papyra_persistence_record_dropped_total', b, be.recordsDropped],
    ['papyra_persistence_scans_total', b, be.scans + be.scanErrors],
    ['papyra_persistence_anomalies_total', b, be.anomaliesDetected],
    ['papyra_persistence_recoveries_total', b, be.recoveries + be.recoveryErrors],
    ['papyra_persistence_compactions_total', b, be.compactions + be.compactionErrors],
  ];
}

describe('/metrics', () => {
  it('Prometheus text 0.0.4 that an independent parser reads, matching the snapshots of the same run', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await res.text();
    const rt = system.metrics.snapshot();
    const be = backend.metrics.snapshot();
    const families = byName(parsePrometheusTextFormat(text));

    // The run did something worth comparing.
    expect(rt.messagesProcessed).toBeGreaterThanOrEqual(600);
    expect(rt.restarts).toBeGreaterThan(0);
    expect(rt.deadLetters).toBeGreaterThan(0);
    expect(be.recordsWritten).toBeGreaterThan(100);
    for (const [name, labels, want] of expected(rt, be)) {
      expect([name, labels, value(families, name, labels)]).toEqual([name, labels, want]);
    }
    expect(families.get('papyra_actor_count')!.type).toBe('GAUGE');
    expect(families.get('papyra_persistence_record_written_total')!.type).toBe('COUNTER');
    expect(families.get('papyra_persistence_write_duration')!.type).toBe('HISTOGRAM');

    // The histogram saw every write of the run, per kind, with cumulative buckets ending at +Inf.
    // (This parser keeps the labels of histogram series only when read as untyped samples.)
    expect(families.get('papyra_persistence_write_duration')!.type).toBe('HISTOGRAM');
    const raw = byName(parsePrometheusTextFormat(text.replace('# TYPE papyra_persistence_write_duration histogram\n', '')));
    const counts = raw.get('papyra_persistence_write_duration_count')!.metrics;
    expect(counts.map((m) => m.labels!.papyra_record_kind).sort()).toEqual(['audit', 'dead_letter', 'event']);
    expect(counts.reduce((sum, m) => sum + Number(m.value), 0)).toBe(be.writeLatencyMs.count);
    expect(be.writeLatencyMs.count).toBe(be.recordsWritten);
    for (const kind of ['event', 'audit', 'dead_letter']) {
      const buckets = raw.get('papyra_persistence_write_duration_bucket')!.metrics.filter((m) => m.labels!.papyra_record_kind === kind);
      const values = buckets.map((m) => Number(m.value));
      expect(values).toEqual([...values].sort((x, y) => x - y));
      expect(buckets.at(-1)!.labels!.le).toBe('+Inf');
      expect(values.at(-1)).toBe(value(raw, 'papyra_persistence_write_duration_count', { papyra_record_kind: kind }));
    }
  });

  it('serves every instrument of the shared table (PAPYRA_INSTRUMENTS), typed as @papyra/opentelemetry types it', async () => {
    const families = byName(parsePrometheusTextFormat(await (await fetch(`${server.url}/metrics`)).text()));
    const types = { counter: 'COUNTER', updowncounter: 'GAUGE', gauge: 'GAUGE', histogram: 'HISTOGRAM' } as const;
    for (const instrument of Object.values(PAPYRA_INSTRUMENTS)) {
      const name = prometheusName(instrument);
      expect([name, families.get(name)?.type]).toEqual([name, types[instrument.kind]]);
      expect(families.get(name)!.help).toBe(instrument.description);
    }
  });

  it('OpenMetrics 1.0 when the Accept header asks for it: the same samples, counter families without _total, # EOF', async () => {
    const prom = await (await fetch(`${server.url}/metrics`)).text();
    const res = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5' } });
    expect(res.headers.get('content-type')).toBe(OPENMETRICS_CONTENT_TYPE);
    const om = await res.text();
    expect(om.endsWith('# EOF\n')).toBe(true);
    expect(om).toContain('# TYPE papyra_message_processed counter\npapyra_message_processed_total{papyra_system_id="metrics-run"}');
    const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('papyra_persistence_write_duration'));
    expect(samples(om)).toEqual(samples(prom));
    // q=0 is a refusal.
    const refused = await fetch(`${server.url}/metrics`, { headers: { accept: 'application/openmetrics-text;q=0, text/plain' } });
    expect(refused.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
  });

  it('JSON with ?format=json: the same two snapshots', async () => {
    const body = (await (await fetch(`${server.url}/metrics?format=json`)).json()) as any;
    const rt = system.metrics.snapshot();
    expect(body.system).toMatchObject({
      id: 'metrics-run',
      state: 'running',
      messagesProcessed: rt.messagesProcessed,
      restarts: rt.restarts,
      deadLetters: rt.deadLetters,
    });
    expect(body.backend).toMatchObject({ name: 'ndjson', recordsWritten: backend.metrics.snapshot().recordsWritten, scans: backend.metrics.snapshot().scans });
    expect((await fetch(`${server.url}/metrics?format=xml`)).status).toBe(400);
  });
});
