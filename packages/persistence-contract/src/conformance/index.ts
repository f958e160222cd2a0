export type {
  ConformanceRunner,
  ConformanceContext,
  CorruptionKind,
  ConformanceHarness,
  ConformanceScenario,
  ScenarioContext,
  ScenarioNeeds,
} from './types.js';
export { runBackendConformance, skipReason } from './run.js';
export { runScenario, probeCapabilities } from './session.js';
export { conformanceScenarios } from './scenarios/index.js';
export { EXPECTED_ANOMALIES, CORRUPTION_KINDS } from './check.js';
