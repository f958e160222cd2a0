// A busy actor system whose Papyra metrics are served as Prometheus text through OpenTelemetry.
//   node server.js            then   curl -s localhost:9464/metrics | grep papyra_
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { Actor, ActorSystem } from '@papyra/core';
import { registerPapyraMetrics } from '@papyra/opentelemetry';

const port = Number(process.env.PORT ?? 9464);
const dir = process.env.PAPYRA_DIR ?? (await mkdtemp(join(tmpdir(), 'papyra-prometheus-')));
const path = join(dir, 'papyra.ndjson');

/** Adds up what it is told; answers with the total. */
class Counter extends Actor {
  total = 0;
  receive(n) {
    this.total += n;
    return this.total;
  }
}

/** Fails now and then; supervision restarts it (it is named). */
class Flaky extends Actor {
  receive(n) {
    if (n % 7 === 0) throw new Error(`cannot handle ${n}`);
    return n;
  }
}

const exporter = new PrometheusExporter({ port });
const meterProvider = new MeterProvider({ readers: [exporter] });
const backend = new NdjsonBackend({ path });
const system = new ActorSystem({ systemId: 'demo', persistence: backend, defaults: { supervision: { maxRestarts: 1_000_000 } } });
await system.start();
const metrics = registerPapyraMetrics({ meterProvider, system, backend });

const counters = [1, 2, 3].map((i) => system.spawn(Counter, { name: `counter-${i}` }));
const flaky = system.spawn(Flaky, { name: 'flaky' });

let tick = 0;
const timer = setInterval(async () => {
  tick += 1;
  try {
    await Promise.all(counters.map((ref) => ref.ask(tick)));
    await flaky.tell(tick);
    if (tick % 10 === 0) {
      // A short-lived actor, and a message sent after its stop: one dead letter.
      const temp = system.spawn(Counter);
      await system.stop(temp);
      await temp.terminated;
      await temp.tell(0).catch(() => {});
    }
    if (tick % 50 === 0) await backend.scan();
  } catch (err) {
    console.error('tick failed:', err);
  }
}, 100);

console.log(`Papyra metrics at http://localhost:${port}/metrics (records in ${path}); Ctrl-C to stop.`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  clearInterval(timer);
  metrics.unregister();
  await system.close();
  await backend.close();
  await meterProvider.shutdown(); // also stops the exporter's HTTP server
  if (process.env.PAPYRA_DIR === undefined) await rm(dir, { recursive: true, force: true });
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
