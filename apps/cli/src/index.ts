export { main } from './cli.js';
export { processIo, type Io } from './io.js';
export { ExitCode } from './errors.js';
