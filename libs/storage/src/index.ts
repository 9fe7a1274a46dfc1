export type { StorageLogger } from './logger';
export { readFileIfExists, writeFileAtomicSync } from './atomic-file';
export { giveReadBuffer, takeReadBuffer } from './read-buffers';
export {
  PartitionLog,
  type PartitionLogOptions,
  type AppendResult,
  type AppendedTxnMarker,
  type ReadOptions,
  type ReadResult,
  type TimestampOffset,
  RecordValidationError,
} from './partition-log';
export { LogCleaner, type CleanerStats, type LogCleanerOptions } from './log-cleaner';
export { NO_VERIFICATION_GUARD, type ProducerBatch, type ProducerEntry } from './producer-state';
export type { AbortedTxn } from './transaction-index';
export {
  LogManager,
  AlterConfigOp,
  applyConfigAlterations,
  newTopicId,
  validateTopicName,
  type LogDirFailureListener,
  type LogManagerOptions,
  type TopicDescription,
  type ConfigAlteration,
} from './log-manager';
export {
  TopicConfig,
  ConfigSource,
  ConfigType,
  brokerLevelLogKeys,
  brokerLogKeys,
  type BrokerConfigLayer,
  type BrokerLogKey,
  isTopicConfig,
  validateTopicConfigs,
  type DescribedConfig,
  type ConfigSynonym,
} from './topic-config';
export type { EpochEndOffset, EpochEntry } from './leader-epoch-cache';
