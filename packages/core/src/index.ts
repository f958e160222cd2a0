export { ActorSystem, RuntimeMetrics, type SpawnOptions, type RuntimeMetricsSnapshot } from './system.js';
export {
  Actor,
  Terminated,
  isTerminated,
  type ActorContext,
  type ActorClass,
  type ActorFactory,
  type ChildFailure,
  type MessageOf,
  type ReplyOf,
  type RefOf,
} from './actor.js';
export { ActorRef, type AskOptions, type TellOptions } from './ref.js';
export type { RuntimeCounters, RecordListener, SystemState } from './runtime.js';
export type { WriterCounters } from './writer.js';
export type {
  ActorSystemOptions,
  BackoffOptions,
  Clock,
  FailureInfo,
  Hooks,
  MailboxOptions,
  OverflowPolicy,
  PersistenceWriterOptions,
  StartupOptions,
  SupervisionOptions,
  SupervisionStrategy,
  SupervisorDecision,
  SystemDefaults,
} from './types.js';
export type { CoreErrorCode } from './errors.js';
// Re-exported so that users of core can match errors without depending on the contract package.
export { PapyraError, type PapyraErrorCode, type StartupCheckResult } from '@papyra/persistence-contract';
