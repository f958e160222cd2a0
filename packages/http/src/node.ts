import type { IncomingMessage, ServerResponse } from 'node:http';
import { endpointsOf, NOT_FOUND, routeOf, type EndpointResponse, type EndpointsOrOptions, type PapyraEndpoints } from './endpoints.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface PapyraHandler extends NodeHandler, Disposable {
  readonly endpoints: PapyraEndpoints;
  /** Stops recording write latencies (see `PapyraEndpoints.close`). */
  close(): void;
}

/** Writes an endpoint's answer; a HEAD gets the same status and headers, no body. */
export function send(req: IncomingMessage, res: ServerResponse, answer: EndpointResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(answer.status, answer.headers);
  res.end(req.method === 'HEAD' ? undefined : answer.body);
}

/**
 * A `node:http` request listener serving `/livez`, `/readyz`, `/healthz` and `/metrics` (404 for
 * any other path): `http.createServer(createPapyraHandler({ system }))`.
 */
export function createPapyraHandler(options: EndpointsOrOptions): PapyraHandler {
  const endpoints = endpointsOf(options);
  const handler: NodeHandler = (req, res) => {
    const match = routeOf(req.url ?? '/');
    if (match === null) {
      send(req, res, NOT_FOUND);
      return;
    }
    void endpoints
      .respond(match.route, { method: req.method ?? 'GET', search: match.search, accept: req.headers.accept })
      .then((answer) => send(req, res, answer));
  };
  const close = () => endpoints.close();
  return Object.assign(handler, { endpoints, close, [Symbol.dispose]: close });
}
