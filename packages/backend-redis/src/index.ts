export { RedisBackend, type RedisBackendOptions } from './backend.js';
export type { StreamKeys } from './streams.js';
export {
  ensureGroup,
  consume,
  ack,
  claim,
  autoClaim,
  pendingSummary,
  StreamConsumer,
  type ConsumedEntry,
  type ConsumeOptions,
  type GroupOptions,
  type PoisonOptions,
  type PendingSummary,
  type AutoClaimResult,
} from './groups.js';
