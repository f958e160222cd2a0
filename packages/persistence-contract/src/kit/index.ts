/*
 * The backend kit: what every backend does around its storage, in one place. A third-party
 * backend uses it too (see docs/adding-a-backend.md); the conformance suite pins the behaviour.
 */
export { ClosedGuard } from './guard.js';
export { validateRecord, checkRecoveryConfig, throwIfAborted } from './validate.js';
export { observeScan, observeRecovery, observeCompaction, compactionReport, cleanRecovery } from './observe.js';
export { matchesQuery } from '../query.js';
