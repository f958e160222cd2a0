import type { BackendCapabilities, PersistenceBackend } from '../backend.js';
import { conformanceScenarios } from './scenarios/index.js';
import { probeCapabilities, runScenario } from './session.js';
import type { ConformanceHarness, ConformanceRunner, ConformanceScenario } from './types.js';

/**
 * Why `scenario` cannot run against this harness and backend, or null when it can. A missing
 * feature is a reason to skip, never a silent pass.
 */
export function skipReason<B extends PersistenceBackend>(
  scenario: ConformanceScenario,
  harness: ConformanceHarness<B>,
  capabilities: BackendCapabilities,
): string | null {
  const lacking = (scenario.needs.capabilities ?? []).filter((flag) => !capabilities[flag]);
  if (lacking.length > 0) return `backend lacks capability ${lacking.join(', ')}`;
  if (scenario.needs.reopen && !harness.reopen) return 'harness has no reopen';
  const kind = scenario.needs.corruption;
  if (kind && (!harness.corrupt || !harness.corruptions?.includes(kind))) return `harness cannot inflict ${kind}`;
  return null;
}

/**
 * Registers the whole suite on `runner` (SPEC §8). Probes one backend for its capabilities first,
 * so await it at the top level of the test module. Every test makes its own backends and tears
 * them down itself, so the suite needs no hooks from the runner.
 */
export async function runBackendConformance<B extends PersistenceBackend>(runner: ConformanceRunner, harness: ConformanceHarness<B>): Promise<void> {
  const capabilities = await probeCapabilities(harness);
  const topics = [...new Set(conformanceScenarios.map((s) => s.topic))];
  runner.describe(`${harness.name} conformance`, () => {
    for (const topic of topics) {
      runner.describe(topic, () => {
        for (const scenario of conformanceScenarios.filter((s) => s.topic === topic)) {
          const reason = skipReason(scenario, harness, capabilities);
          if (reason === null) runner.it(scenario.name, () => runScenario(harness, scenario, capabilities));
          else runner.it.skip(`${scenario.name} [skipped: ${reason}]`, async () => {});
        }
      });
    }
  });
}
