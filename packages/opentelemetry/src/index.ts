export { registerPapyraMetrics, type PapyraMetricsOptions, type PapyraMetricsRegistration } from './register.js';
export type { MetricsBackend } from './backend.js';
export type { MetricsSystem } from './runtime.js';
