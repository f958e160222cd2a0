import { describe, it } from '@jest/globals';
import { runScenario } from '../src/conformance/index.js';
import { sharedScenarios } from '../src/conformance/scenarios/shared.js';
import { lineStoreHarness } from './support/line-store.js';

// The shared-behaviour scenarios on the reference backend, while backends adopt the kit.
describe('shared behaviour scenarios (reference backend)', () => {
  for (const scenario of sharedScenarios) {
    it(scenario.name, async () => {
      await runScenario(lineStoreHarness('shared'), scenario, { scan: true, recover: true, quarantine: true, compact: true, metrics: true, durable: true });
    });
  }
});
