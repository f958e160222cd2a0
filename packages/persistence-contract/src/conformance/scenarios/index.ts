import type { ConformanceScenario } from '../types.js';
import { compactionScenarios } from './compaction.js';
import { durabilityScenarios } from './durability.js';
import { lifecycleScenarios } from './lifecycle.js';
import { metricsScenarios } from './metrics.js';
import { orderingScenarios } from './ordering.js';
import { queryScenarios } from './query.js';
import { recoveryScenarios } from './recovery.js';
import { retentionScenarios } from './retention.js';
import { roundTripScenarios } from './round-trip.js';
import { scanScenarios } from './scan.js';
import { sharedScenarios } from './shared.js';

/** Every scenario of the suite, grouped by topic, in the order they are registered. */
export const conformanceScenarios: readonly ConformanceScenario[] = Object.freeze([
  ...lifecycleScenarios,
  ...roundTripScenarios,
  ...orderingScenarios,
  ...queryScenarios,
  ...retentionScenarios,
  ...compactionScenarios,
  ...scanScenarios,
  ...recoveryScenarios,
  ...metricsScenarios,
  ...durabilityScenarios,
  ...sharedScenarios,
]);
