export { main } from './cli.js';
export { processIo, type Io } from './io.js';
export { ExitCode } from './errors.js';
export { configLayer, envLayer, flagLayer, resolveStore, type Layer } from './settings.js';
export { BACKENDS, STORES, describeStore, openStore, type StoreDescription, type StoreModule, type StoreSpec } from './stores/index.js';
