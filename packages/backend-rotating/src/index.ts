export { RotatingBackend, type RotatingBackendOptions } from './backend.js';
export type { FsyncMode } from '@papyra/backend-ndjson/segments';
