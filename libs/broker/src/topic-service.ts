import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { LogManager } from '@tributary/storage';
import type { BrokerConfig } from './config/broker-config';

export interface CreateTopicRequest {
  readonly name: string;
  /** -1: num.partitions. */
  readonly numPartitions: number;
  /** -1: default.replication.factor. */
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly validateOnly?: boolean;
}

/** Topic life cycle shared by CreateTopics, auto-creation on Metadata, and the admin APIs. */
export class TopicService {
  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
    private readonly brokerIds: () => readonly number[],
  ) {}

  private brokerCount(): number {
    return this.brokerIds().length;
  }

  create(req: CreateTopicRequest): { numPartitions: number; replicationFactor: number } {
    const numPartitions = req.numPartitions === -1 ? this.config.numPartitions : req.numPartitions;
    const replicationFactor =
      req.replicationFactor === -1 ? this.config.defaultReplicationFactor : req.replicationFactor;
    if (numPartitions < 1) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_PARTITIONS,
        `number of partitions ${numPartitions} must be at least 1`,
      );
    }
    if (replicationFactor < 1) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${replicationFactor} must be at least 1`,
      );
    }
    if (replicationFactor > this.brokerCount()) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `replication factor ${replicationFactor} is larger than the ${this.brokerCount()} available broker(s)`,
      );
    }
    if (req.validateOnly) {
      this.logs.validateNewTopic(req.name, numPartitions, req.configs);
    } else {
      this.logs.createTopic(req.name, numPartitions, req.configs);
    }
    return { numPartitions, replicationFactor };
  }

  /** Replica assignments name only known brokers, each once per partition, all of one length. */
  checkAssignments(assignments: readonly { brokerIds: readonly number[] }[]): void {
    const known = new Set(this.brokerIds());
    const width = assignments[0]?.brokerIds.length ?? 0;
    assignments.forEach((a, i) => {
      if (a.brokerIds.length === 0 || a.brokerIds.length !== width) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `partition ${i} has ${a.brokerIds.length} replicas where the others have ${width}`,
        );
      }
      if (new Set(a.brokerIds).size !== a.brokerIds.length) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `partition ${i} names a broker twice`,
        );
      }
      const unknown = a.brokerIds.find((id) => !known.has(id));
      if (unknown !== undefined) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `partition ${i} names unknown broker ${unknown}`,
        );
      }
    });
  }

  delete(name: string): void {
    this.logs.deleteTopic(name);
  }

  createPartitions(name: string, totalCount: number, validateOnly: boolean): void {
    this.logs.createPartitions(name, totalCount, { validateOnly });
  }

  /** Creates a topic on first use when auto.create.topics.enable is on; false when it may not. */
  autoCreate(name: string): boolean {
    if (!this.config.autoCreateTopicsEnable || name.startsWith('__')) return false;
    try {
      this.create({ name, numPartitions: -1, replicationFactor: -1, configs: {} });
    } catch (err) {
      if (err instanceof KafkaProtocolError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) return true;
      throw err;
    }
    return true;
  }
}
