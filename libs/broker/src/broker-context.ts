import type { ConfigAlteration, DescribedConfig, LogManager } from '@tributary/storage';
import type { BrokerMetrics } from './broker-metrics';
import type { BrokerConfig } from './config/broker-config';
import type { BrokerConfigStore } from './config/broker-config-store';
import type { DynamicBrokerConfig } from './config/dynamic-broker-config';
import type { LoggerLevels } from './logger-levels';
import type { Connection } from './network/connection';
import type { ListenAddress } from './network/kafka-server';
import type { ProducerIdManager } from './producer-id-manager';
import type { ClientQuotas } from './quota/client-quotas';
import type { QuotaStore } from './quota/quota-store';
import type { FetchWaiters } from './replica/fetch-waiters';
import type { ReplicaManager } from './replica/replica-manager';
import type { SecurityManager } from './security/security-manager';
import type { SecurityStore } from './security/security-store';
import type { TxnBrokerChannel } from './txn/transaction-marker-channel-manager';

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionLeadership {
  /** -1 when the partition has no leader (every replica of its ISR is down). */
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
}

export interface TopicMetadata {
  readonly name: string;
  readonly topicId: string;
  readonly numPartitions: number;
  /** The topic's config overrides. */
  readonly configs: Readonly<Record<string, string>>;
}

/**
 * Who is in the cluster, which topics it has and who leads what. A lone broker leads every
 * partition it has; a broker of a replicated cluster answers from the state it follows.
 */
export interface ClusterView {
  readonly clusterId: string;
  /** -1 while no broker is the controller. */
  readonly controllerId: number;
  /** The live brokers, with the addresses clients should use (`connection`: the one asking). */
  brokers(connection: Connection | null): BrokerNode[];
  topics(): TopicMetadata[];
  topic(name: string): TopicMetadata | undefined;
  leadership(topic: string, partition: number): PartitionLeadership;
}

export interface CreateTopicRequest {
  readonly name: string;
  /** -1: num.partitions. */
  readonly numPartitions: number;
  /** -1: default.replication.factor. */
  readonly replicationFactor: number;
  /** Explicit replicas per partition (CreateTopics' assignments); then both counts are -1. */
  readonly assignments?: readonly (readonly number[])[];
  readonly configs: Readonly<Record<string, string>>;
  readonly validateOnly?: boolean;
}

export interface CreatedTopic {
  readonly topicId: string | null;
  readonly numPartitions: number;
  readonly replicationFactor: number;
}

/**
 * Topic life cycle for CreateTopics, auto-creation, DeleteTopics, CreatePartitions and topic
 * configs: local on a lone broker, agreed through the cluster's coordination otherwise.
 * Failures are KafkaProtocolErrors with Kafka's codes.
 */
export interface TopicAdmin {
  create(req: CreateTopicRequest): Promise<CreatedTopic>;
  delete(name: string): Promise<void>;
  /** Grows a topic; `assignments`: replicas of each new partition. */
  createPartitions(
    name: string,
    totalCount: number,
    assignments: readonly (readonly number[])[] | null,
    validateOnly: boolean,
  ): Promise<void>;
  alterConfigs(
    name: string,
    alterations: readonly ConfigAlteration[],
    options: { incremental: boolean; validateOnly: boolean },
  ): Promise<void>;
  describeConfigs(
    name: string,
    keys: readonly string[] | null,
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean },
  ): DescribedConfig[];
  /** Creates a topic on first use when auto.create.topics.enable allows; false when it may not. */
  autoCreate(name: string): Promise<boolean>;
  /**
   * An internal topic (__consumer_offsets) exists and can be used: true at once, or false
   * while it is being created (the caller answers COORDINATOR_NOT_AVAILABLE, clients retry).
   */
  ensureInternalTopic(
    name: string,
    numPartitions: number,
    replicationFactor: number,
    configs: Readonly<Record<string, string>>,
  ): boolean;
}

/** ElectLeaders' election types. */
export const ElectionType = { PREFERRED: 0, UNCLEAN: 1 } as const;

export interface PartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface OngoingReassignment {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

/** The controller's admin operations (Kafka sends these to the controller; others answer NOT_CONTROLLER). */
export interface ControllerAdmin {
  isController(): boolean;
  electLeaders(
    electionType: number,
    partitions: readonly { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]>;
  /** `replicas` null cancels the partition's ongoing reassignment. */
  alterReassignments(
    requests: readonly { topic: string; partition: number; replicas: readonly number[] | null }[],
  ): Promise<PartitionResult[]>;
  /** null: every ongoing reassignment. */
  listReassignments(
    partitions: readonly { topic: string; partition: number }[] | null,
  ): OngoingReassignment[];
}

export interface BrokerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /**
   * Present only while debug lines are wanted: hot paths call `logger.debug?.(`...`)`, which
   * builds no string when it is absent.
   */
  readonly debug?: (message: string) => void;
}

/** What request handlers share. */
export interface BrokerContext {
  /** The static configuration (file and flags); `dynamicConfig.current` has the dynamic settings applied. */
  readonly config: BrokerConfig;
  /** Dynamic broker configs: the BROKER resources of DescribeConfigs and (Incremental)AlterConfigs. */
  readonly dynamicConfig: DynamicBrokerConfig;
  /** The process' loggers, for BROKER_LOGGER resources; absent when the host does not expose them. */
  readonly loggerLevels?: LoggerLevels;
  readonly logs: LogManager;
  readonly waiters: FetchWaiters;
  readonly cluster: ClusterView;
  readonly replicas: ReplicaManager;
  readonly topics: TopicAdmin;
  readonly controller: ControllerAdmin;
  readonly logger: BrokerLogger;
  /** ACLs (the authorizer every handler asks), SCRAM credentials, PLAIN users. */
  readonly security: SecurityManager;
  /** Client quotas: byte rates, request time and controller mutations per user and client id. */
  readonly quotas: ClientQuotas;
  /** Present when the broker reports metrics (the replica manager bumps its ISR counters directly). */
  readonly metrics?: BrokerMetrics;
}

/** What a cluster membership is built from. */
export interface MembershipDeps {
  readonly config: BrokerConfig;
  readonly clusterId: string;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly logger: BrokerLogger;
}

/**
 * How a broker takes part in its cluster: a lone broker's local membership, or a replicated
 * cluster's (libs/cluster) with registration, controller election and replication.
 */
export interface ClusterMembership {
  readonly view: ClusterView;
  readonly topics: TopicAdmin;
  readonly controller: ControllerAdmin;
  readonly producerIds: ProducerIdManager;
  /** Whether the broker's partitions are replicated (high watermarks follow the ISR, not the log end). */
  readonly replicated: boolean;
  /** Where ACLs and SCRAM credentials are kept: the data dir of a lone broker, the cluster's shared store. */
  readonly securityStore: SecurityStore;
  /** Where dynamic broker configs are kept: the data dir of a lone broker, the cluster's shared store. */
  readonly brokerConfigStore: BrokerConfigStore;
  /** New dynamic settings that the membership applies (follower.replication.throttled.rate). */
  reconfigure?(config: BrokerConfig): void;
  /** Where client quotas are kept: the data dir of a lone broker, the cluster's shared store. */
  readonly quotaStore: QuotaStore;
  /** Transactions' requests to other brokers (WriteTxnMarkers, verification); a lone broker leads every partition. */
  readonly txnChannel?: TxnBrokerChannel;
  /** After the listeners are bound: join the cluster and take up the partitions' roles. */
  start(addresses: readonly ListenAddress[]): Promise<void>;
  /** Before the listeners close: controlled shutdown (leadership moves away), then leave the cluster. */
  shutdown(): Promise<void>;
}

export type MembershipFactory = (deps: MembershipDeps) => ClusterMembership;
