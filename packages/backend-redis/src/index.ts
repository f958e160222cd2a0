export { RedisBackend, type RedisBackendOptions } from './backend.js';
export type { StreamKeys } from './keys.js';
export type { RedisClientLike } from './client.js';
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
