export * from './broker';
export * from './broker.module';
export * from './broker-context';
export * from './broker-metrics';
export * from './config/broker-config';
export * from './config/config-error';
export * from './config/broker-config-store';
export {
  DynamicBrokerConfig,
  updateMode,
  validateDynamicConfigs,
  type ConfigChange,
  type Reconfigurable,
  type UpdateMode,
} from './config/dynamic-broker-config';
export * from './logger-levels';
export * from './config/replication-config';
export * from './network/kafka-server';
export { advertisedAddress } from './local-cluster';
export {
  LocalProducerIdManager,
  producerIdBase,
  PRODUCER_ID_BLOCK_SIZE,
  type ProducerIdManager,
} from './producer-id-manager';
export { checkAssignments, mayAutoCreate, resolveTopicShape } from './topic-service';
export { GroupStore, OFFSETS_TOPIC } from './group/group-store';
export { FetchWaiters } from './replica/fetch-waiters';
export { Partition, type IsrProposal, type PartitionState, type FollowerState } from './replica/partition';
export {
  ReplicaManager,
  type PartitionStateChannel,
  type TopicPartition,
  type TransactionMarkerEvent,
  type TransactionMarkerListener,
  type TransactionVerification,
  type TransactionVerifier,
  type TxnMarkerEntry,
  type TxnMarkerResult,
} from './replica/replica-manager';
export type { Connection as BrokerConnection } from './network/connection';
export * from './config/security-config';
export { SecurityManager } from './security/security-manager';
export { AclAuthorizer } from './security/acl-authorizer';
export { Session } from './security/session';
export {
  FileSecurityStore,
  credentialKey,
  decodeAcl,
  decodeCredential,
  encodeAcl,
  encodeCredential,
  type SecurityState,
  type SecurityStore,
  type StoredCredential,
} from './security/security-store';
export { ClientQuotas } from './quota/client-quotas';
export {
  QUOTA_KEYS,
  QuotaEntityType,
  describeEntity,
  entityComponents,
  entityPath,
  isQuotaKey,
  parseEntityPath,
  type QuotaAlteration,
  type QuotaEntity,
  type QuotaKey,
  type QuotaValues,
} from './quota/quota-entity';
export {
  FileQuotaStore,
  applyAlterations,
  parseStoredValues,
  type QuotaState,
  type QuotaStore,
} from './quota/quota-store';
export {
  TRANSACTION_STATE_TOPIC,
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from './txn/transaction-log';
export type { MarkerPartitionResult, TxnBrokerChannel } from './txn/transaction-marker-channel-manager';
