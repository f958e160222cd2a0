import { afterEach, beforeEach, describe, it } from '@jest/globals';
import { runBackendConformance } from '../src/conformance/index.js';
import { lineStoreHarness } from './support/line-store.js';

// The whole suite under Jest against the reference backend: every scenario runs (reopen and every
// corruption kind included), none is skipped.
await runBackendConformance({ describe, it, beforeEach, afterEach }, lineStoreHarness('reference line store'));
