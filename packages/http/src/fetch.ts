import { endpointsOf, routeOf, type EndpointResponse, type EndpointsOrOptions } from './endpoints.js';

function toResponse(method: string, answer: EndpointResponse): Response {
  return new Response(method === 'HEAD' ? null : answer.body, { status: answer.status, headers: answer.headers });
}

function strip(path: string, prefix: string): string | null {
  if (prefix === '' || prefix === '/') return path;
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path.startsWith(p + '/') ? path.slice(p.length) : null;
}

export interface FetchOptions {
  /** A path prefix the endpoints live under, e.g. `/ops` for `/ops/readyz`. Default none. */
  prefix?: string;
}

/**
 * A fetch-API handler (`Request` → `Response`), for Hono, Bun, Deno and other fetch-based servers.
 * Resolves to null for paths that are not ours.
 */
export function papyraFetch(options: EndpointsOrOptions, fetchOptions: FetchOptions = {}): (request: Request) => Promise<Response | null> {
  const endpoints = endpointsOf(options);
  return async (request) => {
    const url = new URL(request.url);
    const path = strip(url.pathname, fetchOptions.prefix ?? '');
    const match = path === null ? null : routeOf(path);
    if (match === null) return null;
    const answer = await endpoints.respond(match.route, { method: request.method, search: url.search, accept: request.headers.get('accept') ?? undefined });
    return toResponse(request.method, answer);
  };
}

/** The slice of Hono's `Context` the middleware uses. */
export interface HonoContextLike {
  req: { raw: Request };
}

/**
 * Hono middleware: `app.use(papyraHono({ system }))` answers the four endpoints and passes every
 * other request on (`next()`). Runs under `@hono/node-server` or any other Hono runtime.
 */
export function papyraHono(
  options: EndpointsOrOptions,
  fetchOptions: FetchOptions = {},
): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | void> {
  const handle = papyraFetch(options, fetchOptions);
  return async (c, next) => {
    const response = await handle(c.req.raw);
    if (response === null) return next();
    return response;
  };
}
