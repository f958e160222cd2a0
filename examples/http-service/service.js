// A small service: an actor system persisting to an NDJSON file, its own /count route, and the
// Papyra endpoints, run by runService (SIGTERM/SIGINT drain, close and exit with a meaningful code).
//   node service.js      then   curl -s localhost:8080/readyz   (and /livez, /healthz, /metrics, /count)
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NdjsonBackend } from '@papyra/backend-ndjson';
import { Actor, ActorSystem } from '@papyra/core';
import { runService } from '@papyra/http';

const port = Number(process.env.PORT ?? 8080);
const dir = process.env.PAPYRA_DIR ?? (await mkdtemp(join(tmpdir(), 'papyra-http-service-')));

/** Counts the requests to /count; answers with the total. */
class Hits extends Actor {
  total = 0;
  receive() {
    this.total += 1;
    return this.total;
  }
}

/** A minimal pino-compatible logger (JSON lines on stderr); use pino itself in a real service. */
function stderrLogger(bindings = {}) {
  const at = (level) => (obj, msg) => {
    const fields = typeof obj === 'string' ? { msg: obj } : { ...obj, msg };
    if (fields.err instanceof Error) fields.err = { name: fields.err.name, code: fields.err.code, message: fields.err.message };
    if (level !== 'debug' && level !== 'trace') process.stderr.write(`${JSON.stringify({ level, time: Date.now(), ...bindings, ...fields })}\n`);
  };
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  return { ...Object.fromEntries(levels.map((l) => [l, at(l)])), child: (more) => stderrLogger({ ...bindings, ...more }) };
}
const logger = stderrLogger();

const backend = new NdjsonBackend({ path: join(dir, 'papyra.ndjson'), logger });
// Refuse to start on a corrupted store; /readyz then also fails if anomalies appear later.
const system = new ActorSystem({ systemId: 'http-service', persistence: backend, startup: { mode: 'fail_on_anomaly' }, logger });
let hits;

const service = await runService({
  system,
  port,
  host: process.env.HOST,
  drainDelayMs: Number(process.env.DRAIN_DELAY_MS ?? 0),
  scanTtlMs: 10_000,
  logger,
  // The service's own routes; the four Papyra endpoints are answered before these.
  app: async (req, res) => {
    const json = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'GET' || req.url !== '/count') return json(404, { error: 'not_found' });
    if (hits === undefined) return json(503, { error: 'starting' });
    try {
      json(200, { total: await hits.ask(undefined) });
    } catch (error) {
      json(503, { error: error.code ?? 'error' }); // e.g. PAPYRA_ACTOR_STOPPED while shutting down
    }
  },
  // The backend belongs to us, not to the system: close it once the system has flushed.
  onShutdown: () => backend.close(),
});

if (system.state === 'running') {
  hits = system.spawn(Hits, { name: 'hits' });
  console.log(`listening on ${service.url} (records in ${backend.path}); try /livez /readyz /healthz /metrics /count`);
}
