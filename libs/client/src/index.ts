export { Connection, ConnectionError, SslHandshakeError, type ConnectionOptions } from './network/connection';
export {
  securityFromProperties,
  SECURITY_PROPERTY_KEYS,
  SECRET_PROPERTY_KEYS,
  type SecurityOptions,
  type SslOptions,
  type SaslOptions,
  type SaslMechanism,
} from './security';
export type { ClientOptions, ClientLogger } from './options';
export { Cluster, type BrokerInfo, type PartitionInfo, type TopicInfo } from './cluster/cluster';
export {
  Producer,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
  type Compression,
} from './producer/producer';
export type { ConsumerGroupMetadata } from './producer/transaction-manager';
export { murmur2, murmur2Partition, DefaultPartitioner, type Partitioner } from './producer/partitioner';
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerMessage,
  type ConsumerBatch,
  type TopicPartition,
  type RebalanceListener,
  type RunOptions,
} from './consumer/consumer';
export {
  ASSIGNORS,
  rangeAssignor,
  roundRobinAssignor,
  cooperativeStickyAssignor,
  type Assignor,
  type MemberSubscription,
} from './consumer/assignors';
export type { TopicPartitionOffset } from './consumer/group-offsets';
export {
  Admin,
  ConfigResourceType,
  type NewTopic,
  type ConfigEntry,
  type ConfigOperation,
  type GroupListing,
  type GroupDescription,
  type OffsetSpec,
  type PartitionReassignment,
  type ElectionResult,
  type ScramCredentialInfo,
  type ScramUpsertion,
  type ClientQuotaAlteration,
  type ClientQuotaEntity,
  type ClientQuotaEntry,
  type ClientQuotaFilterComponent,
} from './admin/admin';
// The errors the client throws carry Kafka's codes; callers match on them without importing the protocol.
export { ErrorCode, errorName, KafkaProtocolError } from '@tributary/protocol';
// ACLs in Kafka's model, for Admin's createAcls, describeAcls and deleteAcls.
export {
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  type AclBinding,
  type AclBindingFilter,
  type ScramMechanism,
} from '@tributary/protocol';
