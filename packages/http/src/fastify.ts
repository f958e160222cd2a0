import type { PapyraEndpointsOptions } from './options.js';
import { endpointsOf, ROUTES, type PapyraEndpoints } from './endpoints.js';

/** The slices of Fastify's instance, request and reply the plugin uses (no runtime dependency on fastify). */
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}
interface FastifyRequestLike {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}
export interface FastifyInstanceLike {
  route(options: {
    method: string[];
    url: string;
    exposeHeadRoute?: boolean;
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;
  }): unknown;
  addHook(name: 'onClose', hook: (instance: unknown) => Promise<void>): unknown;
}

export type PapyraFastifyOptions = (PapyraEndpointsOptions | { endpoints: PapyraEndpoints }) & { prefix?: string };

// Every method is routed to us so that the others get our 405 rather than Fastify's 404.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * A Fastify plugin: `await app.register(papyraFastify, { system, prefix: '/ops' })`. It stays
 * encapsulated (so `prefix` works) and carries the metadata fastify-plugin would add (name, Fastify
 * version range).
 */
export async function papyraFastify(fastify: FastifyInstanceLike, options: PapyraFastifyOptions): Promise<void> {
  const owned = !('endpoints' in options);
  const endpoints = 'endpoints' in options ? options.endpoints : endpointsOf(options);
  for (const route of ROUTES) {
    fastify.route({
      method: METHODS,
      url: `/${route}`,
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const q = request.url.indexOf('?');
        const accept = request.headers.accept;
        const answer = await endpoints.respond(route, {
          method: request.method,
          search: q === -1 ? '' : request.url.slice(q),
          accept: Array.isArray(accept) ? accept.join(',') : accept,
        });
        return reply
          .code(answer.status)
          .headers(answer.headers)
          .send(request.method === 'HEAD' ? undefined : answer.body);
      },
    });
  }
  if (owned) fastify.addHook('onClose', async () => endpoints.close());
}

Object.assign(papyraFastify, {
  [Symbol.for('plugin-meta')]: { name: '@papyra/http', fastify: '4.x || 5.x' },
  [Symbol.for('fastify.display-name')]: '@papyra/http',
});
