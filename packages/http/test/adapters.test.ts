import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { serve as honoServe } from '@hono/node-server';
import { ActorSystem } from '@papyra/core';
import express from 'express';
import Fastify from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { Hono } from 'hono';
import { createPapyraHandler, PapyraEndpoints, papyraExpress, papyraFastify, papyraFetch, papyraHono, PROMETHEUS_CONTENT_TYPE } from '../src/index.js';
import { Counter, FaultyBackend, listen } from './helpers.js';

let system: ActorSystem;
let endpoints: PapyraEndpoints;

beforeAll(async () => {
  system = new ActorSystem({ systemId: 'adapters', persistence: new FaultyBackend() });
  await system.start();
  system.spawn(Counter);
  endpoints = new PapyraEndpoints({ system });
});

afterAll(async () => {
  endpoints.close();
  await system.close();
});

/** The same checks through every framework: `base` is where the endpoints are mounted. */
async function exercise(base: string): Promise<void> {
  for (const route of ['livez', 'readyz', 'healthz']) {
    const res = await fetch(`${base}/${route}`);
    expect([route, res.status, res.headers.get('content-type')]).toEqual([route, 200, 'application/json; charset=utf-8']);
    expect(res.headers.get('cache-control')).toBe('no-store');
    await res.json();
  }
  const metrics = await fetch(`${base}/metrics`);
  expect(metrics.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
  expect(await metrics.text()).toContain('papyra_actor_count{papyra_system_id="adapters",papyra_actor_state="running"} 1\n');
  expect((await (await fetch(`${base}/metrics?format=json`)).json()) as object).toMatchObject({ system: { id: 'adapters' } });

  const head = await fetch(`${base}/readyz`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
  const post = await fetch(`${base}/readyz`, { method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
  expect(await post.json()).toEqual({ error: 'method_not_allowed' });
}

describe('framework adapters (the real frameworks from npm)', () => {
  it('plain node:http', async () => {
    const server = await listen(createPapyraHandler(endpoints));
    try {
      await exercise(server.url);
      expect((await fetch(`${server.url}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('Express 5: middleware mounted under a path; other routes untouched', async () => {
    const app = express();
    app.get('/hello', (_req, res) => {
      res.send('hi');
    });
    app.use('/ops', papyraExpress(endpoints));
    const server = await listen(app);
    try {
      await exercise(`${server.url}/ops`);
      expect(await (await fetch(`${server.url}/hello`)).text()).toBe('hi');
      expect((await fetch(`${server.url}/ops/other`)).status).toBe(404); // Express's own 404: passed on
      expect((await fetch(`${server.url}/livez`)).status).toBe(404); // only under /ops
    } finally {
      await server.close();
    }
  });

  it('Fastify 5: a plugin, under a prefix, and wrapped by fastify-plugin at the root', async () => {
    const app = Fastify();
    app.get('/hello', async () => 'hi');
    await app.register(papyraFastify, { endpoints, prefix: '/ops' });
    await app.register(fastifyPlugin(papyraFastify), { endpoints });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    try {
      await exercise(`${url}/ops`);
      await exercise(url);
      expect(await (await fetch(`${url}/hello`)).text()).toBe('hi');
    } finally {
      await app.close();
    }
  });

  it('Fastify: a plugin given options makes its own endpoints', async () => {
    const app = Fastify();
    await app.register(papyraFastify, { system, probeTimeoutMs: 500 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    try {
      await exercise(`http://127.0.0.1:${port}`);
    } finally {
      await app.close();
    }
  });

  it('Hono on @hono/node-server: middleware and a fetch handler', async () => {
    const app = new Hono();
    app.get('/hello', (c) => c.text('hi'));
    app.use('/ops/*', papyraHono(endpoints, { prefix: '/ops' }));
    const fetchHandler = papyraFetch(endpoints, { prefix: '/raw' });
    app.all('/raw/*', async (c) => (await fetchHandler(c.req.raw)) ?? c.notFound());
    const server = await new Promise<ReturnType<typeof honoServe>>((resolve) => {
      const s = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    try {
      await exercise(`${url}/ops`);
      await exercise(`${url}/raw`);
      expect(await (await fetch(`${url}/hello`)).text()).toBe('hi');
      expect((await fetch(`${url}/ops/other`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
