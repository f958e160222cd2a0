import { errorCode } from './errors.js';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, render, wantsOpenMetrics } from './exposition.js';
import { health, ScanCache } from './health.js';
import { backendFamilies, metricsJson, runtimeFamilies, SampleRecorder } from './metrics.js';
import { resolveOptions, type PapyraEndpointsOptions, type ResolvedOptions } from './options.js';
import { Readiness, type ReadinessReport } from './readiness.js';

export type Route = 'livez' | 'readyz' | 'healthz' | 'metrics';
export const ROUTES: readonly Route[] = ['livez', 'readyz', 'healthz', 'metrics'];

export interface EndpointRequest {
  method: string;
  /** The query string (`?format=json`), or empty. */
  search?: string;
  /** The request's `Accept` header. */
  accept?: string | undefined;
}

export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  /** The body of a GET; adapters send none for HEAD (the headers are the same). */
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function reply(status: number, body: string, contentType: string, extra: Record<string, string> = {}): EndpointResponse {
  return {
    status,
    body,
    headers: {
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(body)),
      // Probes must see the live state, never a proxy's copy.
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...extra,
    },
  };
}

const json = (status: number, payload: unknown, extra?: Record<string, string>) => reply(status, JSON.stringify(payload), JSON_TYPE, extra);

/** The answer for paths that are not ours, where the adapter has nothing to pass them on to. */
export const NOT_FOUND: EndpointResponse = json(404, { error: 'not_found' });

/** The path of a request URL if it is one of ours (`/livez`, `/readyz`, `/healthz`, `/metrics`), else null. */
export function routeOf(url: string): { route: Route; search: string } | null {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const route = path.startsWith('/') ? path.slice(1) : null;
  return route !== null && (ROUTES as readonly string[]).includes(route) ? { route: route as Route, search: q === -1 ? '' : url.slice(q) } : null;
}

/**
 * The framework-neutral core: answers `/livez`, `/readyz`, `/healthz` and `/metrics` from the
 * system's and backend's public signals. Every adapter wraps one of these; one instance keeps the
 * scan cache, the progress watch and the latency histogram, so share it between adapters.
 */
export class PapyraEndpoints implements Disposable {
  readonly options: ResolvedOptions;
  readonly #readiness: Readiness;
  readonly #scans: ScanCache | null;
  readonly #recorder: SampleRecorder | null;

  constructor(options: PapyraEndpointsOptions) {
    this.options = resolveOptions(options);
    const backend = this.options.backend;
    this.#scans = backend?.capabilities.scan ? new ScanCache(backend, this.options) : null;
    this.#recorder = backend ? new SampleRecorder(backend) : null;
    this.#readiness = new Readiness(this.options, this.#scans);
  }

  /** Set while the service shuts down: `/readyz` answers 503 `shutting_down`. */
  get draining(): boolean {
    return this.#readiness.draining;
  }
  set draining(value: boolean) {
    this.#readiness.draining = value;
  }

  /** Tells readiness and health that `system.start()` failed (the service lifecycle calls this). */
  startupFailed(error: unknown): void {
    this.#readiness.startupFailure = errorCode(error);
  }

  readiness(): Promise<ReadinessReport> {
    return this.#readiness.evaluate();
  }

  /** Answers one request for `route`; never rejects (an error becomes a JSON 500). */
  async respond(route: Route, request: EndpointRequest): Promise<EndpointResponse> {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return json(405, { error: 'method_not_allowed' }, { allow: 'GET, HEAD' });
    try {
      switch (route) {
        case 'livez':
          return this.#livez();
        case 'readyz': {
          const report = await this.#readiness.evaluate();
          return json(report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not_ready', ...report });
        }
        case 'healthz': {
          const answer = await health(this.options, this.#scans, this.#readiness.startupFailure);
          return json(answer.status, answer.body);
        }
        case 'metrics':
          return this.#metrics(request);
      }
    } catch (error) {
      this.options.logger.error({ err: error, route }, 'papyra endpoint failed');
      return json(500, { error: 'internal_error', code: errorCode(error) });
    }
  }

  #livez(): EndpointResponse {
    // The event loop answered, so it turns; the system is alive unless it was closed for good.
    const state = this.options.system.state;
    return state === 'closed' ? json(503, { status: 'dead', reasons: ['system_closed'], state }) : json(200, { status: 'alive', state });
  }

  #metrics(request: EndpointRequest): EndpointResponse {
    const format = new URLSearchParams(request.search ?? '').get('format');
    const { system, backend } = this.options;
    if (format === 'json') return json(200, metricsJson(system, backend));
    if (format !== null && format !== 'prometheus' && format !== 'openmetrics')
      return json(400, { error: 'unknown_format', formats: ['prometheus', 'openmetrics', 'json'] });
    const families = [
      ...runtimeFamilies(system.systemId, system.metrics.snapshot()),
      ...(backend ? backendFamilies(backend.name, backend.metrics.snapshot(), this.#recorder) : []),
    ];
    const openMetrics = format === 'openmetrics' || (format === null && wantsOpenMetrics(request.accept));
    return reply(200, render(families, openMetrics), openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, { vary: 'Accept' });
  }

  /** Stops recording write latencies (unsubscribes from the backend's metrics). Idempotent. */
  close(): void {
    this.#recorder?.unsubscribe();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** The options, or endpoints already made from them (to share one instance between adapters). */
export type EndpointsOrOptions = PapyraEndpoints | PapyraEndpointsOptions;

export function endpointsOf(value: EndpointsOrOptions): PapyraEndpoints {
  return value instanceof PapyraEndpoints ? value : new PapyraEndpoints(value);
}
