export { PapyraEndpoints, ROUTES, routeOf, type EndpointRequest, type EndpointResponse, type EndpointsOrOptions, type Route } from './endpoints.js';
export type { PapyraEndpointsOptions, ObservedBackend, ObservedSystem } from './options.js';
export { READINESS_REASONS, type ReadinessReason, type ReadinessReport, type CheckResult } from './readiness.js';
export { createPapyraHandler, type NodeHandler, type PapyraHandler } from './node.js';
export { papyraExpress } from './express.js';
export { papyraFastify, type PapyraFastifyOptions, type FastifyInstanceLike } from './fastify.js';
export { papyraFetch, papyraHono, type FetchOptions, type HonoContextLike } from './fetch.js';
export { PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE } from './exposition.js';
export {
  ExitCode,
  PapyraService,
  runService,
  serve,
  type ObservedServiceSystem,
  type RunServiceOptions,
  type ServeOptions,
  type SignalSource,
} from './service.js';
