export { PapyraError, backendClosedError, unsupportedError, type PapyraErrorCode, type PapyraErrorOptions } from './errors.js';
export { toJsonValue, isJsonObject, type JsonValue, type JsonObject, type JsonPrimitive } from './json.js';
export { newRecordId, contentId } from './ids.js';
export {
  RECORD_KINDS,
  createEvent,
  createAudit,
  createDeadLetter,
  type RecordKind,
  type RecordBase,
  type PersistedRecord,
  type PersistedEvent,
  type PersistedAudit,
  type PersistedDeadLetter,
} from './records.js';
export {
  encodeRecord,
  decodeRecord,
  inspectLine,
  isValidTimestamp,
  MAX_TIMESTAMP_MS,
  encodedSize,
  toWire,
  formatAddress,
  parseAddress,
  type LineVerdict,
  type WireAddress,
} from './codec.js';
export {
  AnomalyType,
  ANOMALY_TYPES,
  type Anomaly,
  type ScanReport,
  type RecoveryMode,
  type RecoveryConfig,
  type RecoveryReport,
  type CompactionReport,
  type Progress,
  type OperationOptions,
} from './anomalies.js';
export { normalizeRetention, hasRetention, retainedMask, applyRetention, type RetentionPolicy, type RetentionItem } from './retention.js';
export { normalizeListQuery, applyListQuery, matchesQuery, hasFilters, type ListQuery } from './query.js';
export { readRecords, type ReadOptions, type StoredRecord } from './read.js';
export { storeStats, totalOf, type StoreStats, type KindStats } from './stats.js';
export { PAPYRA_INSTRUMENTS, prometheusName, type InstrumentDefinition, type InstrumentKind } from './instruments.js';
export { PersistenceMetrics, type PersistenceMetricsSnapshot, type LatencySummary, type MetricsSample, type FailedOperation } from './metrics.js';
export { silentLogger, redactSecrets, redactError, type Logger } from './logger.js';
export { systemClock, type PersistenceBackend, type BackendCapabilities, type WallClock } from './backend.js';
export {
  runStartupCheck,
  checkStartup,
  startupFailureOf,
  STARTUP_MODES,
  type StartupMode,
  type StartupCheckOptions,
  type StartupCheckResult,
  type StartupOutcome,
  type StartupFailure,
} from './startup.js';
