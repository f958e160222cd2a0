import { afterAll, it } from '@jest/globals';
import { probeCapabilities, runScenario } from '@papyra/persistence-contract/conformance';
// Not in the default suite yet: the contract's shared-behaviour scenarios (kit behaviour), from its build.
import { sharedScenarios } from '../../persistence-contract/dist/conformance/scenarios/shared.js';
import { describeDb } from './db.js';
import { postgresHarness } from './harness.js';

describeDb('shared behaviour scenarios (postgres)', () => {
  const { harness, end } = postgresHarness();
  afterAll(() => end());
  for (const scenario of sharedScenarios) {
    it(scenario.name, async () => {
      await runScenario(harness, scenario, await probeCapabilities(harness));
    });
  }
});
