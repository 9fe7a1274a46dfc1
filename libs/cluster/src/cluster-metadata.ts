import type {
  BrokerConnection,
  BrokerNode,
  ClusterView,
  PartitionLeadership,
  PartitionState,
  TopicMetadata,
} from '@tributary/broker';
import type { BrokerRegistration, ControllerLease, TopicRecord } from './redis/cluster-store';

const NO_LEADERSHIP: PartitionLeadership = {
  leaderId: -1,
  leaderEpoch: -1,
  replicas: [],
  isr: [],
  offlineReplicas: [],
};

/**
 * What this broker knows of its cluster (Kafka's MetadataCache): the live brokers, the
 * controller, every topic with its configs and partition states. Filled from Redis by full
 * reads and by the change notifications; Metadata, FindCoordinator and the replica roles
 * are answered from it, so a broker keeps serving from its last known state while Redis is
 * unreachable.
 */
export class ClusterMetadata implements ClusterView {
  private readonly brokersById = new Map<number, BrokerRegistration>();
  private readonly topicsByName = new Map<string, TopicRecord>();
  private controller: ControllerLease | null = null;

  constructor(readonly clusterId: string) {}

  get controllerId(): number {
    return this.controller !== null && this.brokersById.has(this.controller.id) ? this.controller.id : -1;
  }

  get controllerEpoch(): number {
    return this.controller?.epoch ?? -1;
  }

  /** Each broker's address on the listener the asking client came through (the inter-broker one for none). */
  brokers(connection: BrokerConnection | null): BrokerNode[] {
    const listener = connection?.session.listenerName;
    return [...this.brokersById.values()].map((b) => {
      const e = (listener === undefined ? undefined : b.endpoints.get(listener)) ?? b;
      return { nodeId: b.id, host: e.host, port: e.port, rack: b.rack };
    });
  }

  registration(id: number): BrokerRegistration | undefined {
    return this.brokersById.get(id);
  }

  isAlive(id: number): boolean {
    return this.brokersById.has(id);
  }

  liveBrokers(): BrokerRegistration[] {
    return [...this.brokersById.values()].sort((a, b) => a.id - b.id);
  }

  topics(): TopicMetadata[] {
    return [...this.topicsByName.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((t) => this.describe(t));
  }

  topic(name: string): TopicMetadata | undefined {
    const t = this.topicsByName.get(name);
    return t === undefined ? undefined : this.describe(t);
  }

  record(name: string): TopicRecord | undefined {
    return this.topicsByName.get(name);
  }

  records(): TopicRecord[] {
    return [...this.topicsByName.values()];
  }

  private describe(t: TopicRecord): TopicMetadata {
    return { name: t.name, topicId: t.topicId, numPartitions: t.partitions.length, configs: t.configs };
  }

  state(topic: string, partition: number): PartitionState | undefined {
    return this.topicsByName.get(topic)?.partitions[partition];
  }

  /**
   * A leader that is not registered is reported as none, as Kafka's metadata cache does;
   * replicas of brokers that are not registered or whose log dir failed are offline.
   */
  leadership(topic: string, partition: number): PartitionLeadership {
    const s = this.state(topic, partition);
    if (s === undefined) return NO_LEADERSHIP;
    return {
      leaderId: this.isAlive(s.leaderId) ? s.leaderId : -1,
      leaderEpoch: s.leaderEpoch,
      replicas: s.replicas,
      isr: s.isr,
      offlineReplicas: s.replicas.filter((r) => (this.brokersById.get(r)?.offlineLogDirs.length ?? 1) > 0),
    };
  }

  setBrokers(brokers: readonly BrokerRegistration[]): void {
    this.brokersById.clear();
    for (const b of brokers) this.brokersById.set(b.id, b);
  }

  setController(lease: ControllerLease | null): void {
    this.controller = lease;
  }

  /**
   * Takes a topic as read from Redis. Reads may finish out of order: of the same topic, each
   * partition keeps its newer state and the configs their newer version.
   */
  setTopic(record: TopicRecord): TopicRecord {
    const current = this.topicsByName.get(record.name);
    let merged = record;
    if (current !== undefined && current.topicId === record.topicId) {
      const count = Math.max(current.partitions.length, record.partitions.length);
      const partitions = Array.from({ length: count }, (_, p) => {
        const a = current.partitions[p];
        const b = record.partitions[p];
        if (a === undefined) return b;
        if (b === undefined) return a;
        return b.partitionEpoch >= a.partitionEpoch ? b : a;
      });
      const newerConfigs = record.configVersion >= current.configVersion;
      merged = {
        ...record,
        partitions,
        configs: newerConfigs ? record.configs : current.configs,
        configVersion: Math.max(record.configVersion, current.configVersion),
      };
    }
    this.topicsByName.set(record.name, merged);
    return merged;
  }

  removeTopic(name: string): void {
    this.topicsByName.delete(name);
  }

  /** Takes a partition's newer state (a notification); false for an older one. */
  setPartition(topic: string, partition: number, state: PartitionState): boolean {
    const t = this.topicsByName.get(topic);
    if (t === undefined || partition >= t.partitions.length) return false;
    const current = t.partitions[partition];
    if (state.partitionEpoch <= current.partitionEpoch) return false;
    const partitions = [...t.partitions];
    partitions[partition] = state;
    this.topicsByName.set(topic, { ...t, partitions });
    return true;
  }
}
