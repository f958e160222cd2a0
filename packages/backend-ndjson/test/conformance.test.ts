import { afterEach, beforeEach, describe, it } from '@jest/globals';
import { runBackendConformance } from '@papyra/persistence-contract/conformance';
import { harness } from './harness.js';

await runBackendConformance({ describe, it, beforeEach, afterEach }, harness);
