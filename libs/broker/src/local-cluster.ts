import { ErrorCode } from '@tributary/protocol';
import type { LogManager } from '@tributary/storage';
import type { BrokerConfig, Listener } from './config/broker-config';
import {
  ElectionType,
  type BrokerNode,
  type ClusterMembership,
  type ClusterView,
  type ControllerAdmin,
  type MembershipDeps,
  type OngoingReassignment,
  type PartitionLeadership,
  type PartitionResult,
  type TopicMetadata,
} from './broker-context';
import type { Connection } from './network/connection';
import { LocalProducerIdManager, producerIdBase } from './producer-id-manager';
import { FileBrokerConfigStore } from './config/broker-config-store';
import { FileQuotaStore } from './quota/quota-store';
import { FileSecurityStore } from './security/security-store';
import { LocalTopicAdmin } from './topic-service';

/**
 * The cluster of one broker with no coordination configured: it is the controller and
 * the leader of every partition, with leader epoch 0.
 */
export class LocalCluster implements ClusterView {
  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
    readonly clusterId: string,
  ) {}

  get controllerId(): number {
    return this.config.nodeId;
  }

  brokers(connection: Connection | null): BrokerNode[] {
    const address =
      connection === null
        ? { host: this.config.listeners[0].host, port: this.config.listeners[0].port }
        : advertisedAddress(this.config, connection);
    return [{ nodeId: this.config.nodeId, ...address, rack: this.config.rack }];
  }

  topics(): TopicMetadata[] {
    return this.logs.topics();
  }

  topic(name: string): TopicMetadata | undefined {
    return this.logs.topic(name);
  }

  leadership(): PartitionLeadership {
    const self = this.config.nodeId;
    // Its only replica is on a failed log dir: the partition has no leader (Kafka's offline partition).
    if (!this.logs.isOnline)
      return { leaderId: -1, leaderEpoch: 0, replicas: [self], isr: [self], offlineReplicas: [self] };
    return { leaderId: self, leaderEpoch: 0, replicas: [self], isr: [self], offlineReplicas: [] };
  }
}

/**
 * A lone broker's answers to the controller's admin APIs: every partition already has its
 * only possible leader and replica set.
 */
class LocalControllerAdmin implements ControllerAdmin {
  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
  ) {}

  isController(): boolean {
    return true;
  }

  private result(
    topic: string,
    partition: number,
    errorCode: number,
    errorMessage: string | null,
  ): PartitionResult {
    return { topic, partition, errorCode, errorMessage };
  }

  private exists(topic: string, partition: number): boolean {
    return this.logs.partition(topic, partition) !== undefined;
  }

  async electLeaders(
    electionType: number,
    partitions: readonly { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]> {
    const all =
      partitions ??
      this.logs
        .topics()
        .flatMap((t) =>
          Array.from({ length: t.numPartitions }, (_, partition) => ({ topic: t.name, partition })),
        );
    return all.map(({ topic, partition }) => {
      if (!this.exists(topic, partition))
        return this.result(
          topic,
          partition,
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `${topic}-${partition} does not exist`,
        );
      const what = electionType === ElectionType.UNCLEAN ? 'has a leader' : 'is led by its preferred replica';
      return this.result(topic, partition, ErrorCode.ELECTION_NOT_NEEDED, `${topic}-${partition} ${what}`);
    });
  }

  async alterReassignments(
    requests: readonly { topic: string; partition: number; replicas: readonly number[] | null }[],
  ): Promise<PartitionResult[]> {
    const self = this.config.nodeId;
    return requests.map(({ topic, partition, replicas }) => {
      if (!this.exists(topic, partition))
        return this.result(
          topic,
          partition,
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `${topic}-${partition} does not exist`,
        );
      if (replicas === null)
        return this.result(
          topic,
          partition,
          ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
          'no reassignment is in progress',
        );
      if (replicas.length !== 1 || replicas[0] !== self)
        return this.result(
          topic,
          partition,
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `a broker with no cluster has only itself (${self}) to hold replicas`,
        );
      return this.result(topic, partition, ErrorCode.NONE, null);
    });
  }

  listReassignments(): OngoingReassignment[] {
    return [];
  }
}

/** A lone broker's membership: no Redis, nothing replicated. */
export function localMembership(deps: MembershipDeps): ClusterMembership {
  const { config, logs, clusterId } = deps;
  return {
    view: new LocalCluster(config, logs, clusterId),
    topics: new LocalTopicAdmin(config, logs),
    controller: new LocalControllerAdmin(config, logs),
    producerIds: new LocalProducerIdManager(config.logDirs, config.nodeId, producerIdBase(clusterId)),
    replicated: false,
    securityStore: new FileSecurityStore(config.logDirs),
    brokerConfigStore: new FileBrokerConfigStore(config.logDirs),
    quotaStore: new FileQuotaStore(config.logDirs),
    start: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}

/**
 * The address a client should use: the advertised listener, or else the address the
 * client reached us on (so a broker bound to 0.0.0.0 still advertises something reachable).
 */
export function advertisedAddress(
  config: BrokerConfig,
  connection: Connection,
): { host: string; port: number } {
  const listeners: readonly Listener[] = config.advertisedListeners ?? config.listeners;
  const match =
    listeners.find((l) => l.name === connection.session.listenerName) ??
    listeners.find((l) => l.port === connection.localPort) ??
    listeners[0];
  const unspecified = match.host === '' || match.host === '0.0.0.0' || match.host === '::';
  return {
    host:
      unspecified || config.advertisedListeners === null
        ? connection.localAddress.replace(/^::ffff:/, '')
        : match.host,
    port: config.advertisedListeners === null ? connection.localPort : match.port,
  };
}
