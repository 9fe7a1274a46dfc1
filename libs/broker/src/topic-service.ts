import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { ConfigAlteration, DescribedConfig, LogManager } from '@tributary/storage';
import type { CreatedTopic, CreateTopicRequest, TopicAdmin } from './broker-context';
import type { BrokerConfig } from './config/broker-config';

/**
 * The partition count and replication factor a CreateTopics item asks for, with -1 resolved
 * to num.partitions / default.replication.factor, checked against the brokers there are.
 */
export function resolveTopicShape(
  config: BrokerConfig,
  req: CreateTopicRequest,
  brokerIds: readonly number[],
): { numPartitions: number; replicationFactor: number } {
  if (req.assignments !== undefined && req.assignments.length > 0) {
    if (req.numPartitions !== -1 || req.replicationFactor !== -1) {
      throw KafkaProtocolError.invalidRequest(
        'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      );
    }
    checkAssignments(req.assignments, brokerIds);
    return { numPartitions: req.assignments.length, replicationFactor: req.assignments[0].length };
  }
  const numPartitions = req.numPartitions === -1 ? config.numPartitions : req.numPartitions;
  const replicationFactor =
    req.replicationFactor === -1 ? config.defaultReplicationFactor : req.replicationFactor;
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
  if (replicationFactor > brokerIds.length) {
    throw new KafkaProtocolError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `replication factor ${replicationFactor} is larger than the ${brokerIds.length} available broker(s)`,
    );
  }
  return { numPartitions, replicationFactor };
}

/** Replica assignments name only known brokers, each once per partition, all of one length. */
export function checkAssignments(
  assignments: readonly (readonly number[])[],
  brokerIds: readonly number[],
): void {
  const known = new Set(brokerIds);
  const width = assignments[0]?.length ?? 0;
  assignments.forEach((a, i) => {
    if (a.length === 0 || a.length !== width) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `partition ${i} has ${a.length} replicas where the others have ${width}`,
      );
    }
    if (new Set(a).size !== a.length) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `partition ${i} names a broker twice`,
      );
    }
    const unknown = a.find((id) => !known.has(id));
    if (unknown !== undefined) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        `partition ${i} names unknown broker ${unknown}`,
      );
    }
  });
}

/** Whether a topic may be auto-created on first use: auto.create.topics.enable, and never an internal name. */
export function mayAutoCreate(config: BrokerConfig, name: string): boolean {
  return config.autoCreateTopicsEnable && !name.startsWith('__');
}

/** A lone broker's topics: created, changed and deleted in its own LogManager. */
export class LocalTopicAdmin implements TopicAdmin {
  constructor(
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
  ) {}

  private createNow(req: CreateTopicRequest): CreatedTopic {
    const shape = resolveTopicShape(this.config, req, [this.config.nodeId]);
    if (req.validateOnly) {
      this.logs.validateNewTopic(req.name, shape.numPartitions, req.configs);
      return { topicId: null, ...shape };
    }
    const created = this.logs.createTopic(req.name, shape.numPartitions, req.configs);
    return { topicId: created.topicId, ...shape };
  }

  async create(req: CreateTopicRequest): Promise<CreatedTopic> {
    return this.createNow(req);
  }

  async delete(name: string): Promise<void> {
    this.logs.deleteTopic(name);
  }

  async createPartitions(
    name: string,
    totalCount: number,
    assignments: readonly (readonly number[])[] | null,
    validateOnly: boolean,
  ): Promise<void> {
    if (assignments !== null) {
      const existing = this.logs.topic(name)?.numPartitions ?? 0;
      if (assignments.length !== totalCount - existing) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Increasing the number of partitions by ${totalCount - existing} but ${assignments.length} assignments provided.`,
        );
      }
      checkAssignments(assignments, [this.config.nodeId]);
    }
    this.logs.createPartitions(name, totalCount, { validateOnly });
  }

  async alterConfigs(
    name: string,
    alterations: readonly ConfigAlteration[],
    options: { incremental: boolean; validateOnly: boolean },
  ): Promise<void> {
    this.logs.alterTopicConfigs(name, alterations, options);
  }

  describeConfigs(
    name: string,
    keys: readonly string[] | null,
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean },
  ): DescribedConfig[] {
    return this.logs.describeTopicConfigs(name, keys, options);
  }

  async autoCreate(name: string): Promise<boolean> {
    if (!mayAutoCreate(this.config, name)) return false;
    if (this.logs.topic(name) !== undefined) return true;
    this.createNow({ name, numPartitions: -1, replicationFactor: -1, configs: {} });
    return true;
  }

  ensureInternalTopic(
    name: string,
    numPartitions: number,
    _rf: number,
    configs: Readonly<Record<string, string>>,
  ): boolean {
    if (this.logs.topic(name) === undefined) this.logs.createTopic(name, numPartitions, configs);
    return true;
  }
}
