import type { IncomingMessage, ServerResponse } from 'node:http';
import { endpointsOf, routeOf, type EndpointsOrOptions } from './endpoints.js';
import { send } from './node.js';

/**
 * Express middleware (Express 4 and 5): `app.use(papyraExpress({ system }))`, or under a path with
 * `app.use('/ops', papyraExpress(...))`. Answers the four endpoints; every other request goes to `next()`.
 */
export function papyraExpress(options: EndpointsOrOptions): (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void {
  const endpoints = endpointsOf(options);
  return (req, res, next) => {
    const match = routeOf(req.url ?? '/');
    if (match === null) {
      next();
      return;
    }
    endpoints
      .respond(match.route, { method: req.method ?? 'GET', search: match.search, accept: req.headers.accept })
      .then((answer) => send(req, res, answer), next);
  };
}
