export { NdjsonBackend, type NdjsonBackendOptions } from './backend.js';
export type { FsyncMode } from './segments/writer.js';
