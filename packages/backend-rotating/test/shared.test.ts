import { describe, it } from '@jest/globals';
import { probeCapabilities, runScenario } from '@papyra/persistence-contract/conformance';
// Not yet part of the default suite: run here until the contract registers them.
import { sharedScenarios } from '../../persistence-contract/dist/conformance/scenarios/shared.js';
import { harness } from './harness.js';

const capabilities = await probeCapabilities(harness);

describe('rotating: shared behaviour of the kit', () => {
  for (const scenario of sharedScenarios) it(scenario.name, () => runScenario(harness, scenario, capabilities));
});
