import {
  checkAssignments,
  mayAutoCreate,
  resolveTopicShape,
  type BrokerConfig,
  type BrokerLogger,
  type CreatedTopic,
  type CreateTopicRequest,
  type PartitionState,
  type TopicAdmin,
} from '@tributary/broker';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import {
  applyConfigAlterations,
  newTopicId,
  type TopicConfig,
  validateTopicName,
  type ConfigAlteration,
  type DescribedConfig,
} from '@tributary/storage';
import { assignReplicas } from './assignment';
import type { ClusterMetadata } from './cluster-metadata';
import type { ClusterStore, TopicRecord } from './redis/cluster-store';
import { ScriptError, ScriptRefusal } from './redis/scripts';

/** A new partition's first state: the first replica leads, every replica is in sync (there is nothing to copy yet). */
export function initialState(replicas: readonly number[]): PartitionState {
  return {
    leaderId: replicas[0],
    leaderEpoch: 0,
    partitionEpoch: 0,
    replicas,
    isr: replicas,
    addingReplicas: [],
    removingReplicas: [],
  };
}

export interface ClusterTopicsOptions {
  readonly config: BrokerConfig;
  /** A topic's configuration over the broker's current (static and dynamic) settings; INVALID_CONFIG. */
  readonly resolveTopicConfig: (configs: Readonly<Record<string, string>>) => TopicConfig;
  readonly store: ClusterStore;
  readonly metadata: ClusterMetadata;
  readonly logger: BrokerLogger;
  /** The topic was written to Redis by this broker: take it up at once, without waiting for the notification. */
  readonly onTopicChanged: (record: TopicRecord) => void;
  readonly onTopicDeleted: (name: string, topicId: string) => void;
}

const unknownTopic = (name: string) =>
  new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);

/**
 * Topics of a replicated cluster, agreed through Redis: any broker creates a topic (its
 * replicas assigned over the live brokers, by rack, each partition led by its first
 * replica), deletes one, adds partitions or changes configs with one compare-and-set script;
 * every broker then creates or deletes its own logs as the state it observes says.
 */
export class ClusterTopics implements TopicAdmin {
  private readonly creating = new Set<string>();

  constructor(private readonly options: ClusterTopicsOptions) {}

  private liveBrokers() {
    return this.options.metadata.liveBrokers().filter((b) => !b.shuttingDown);
  }

  private validateNew(name: string, configs: Readonly<Record<string, string>>): void {
    validateTopicName(name);
    if (this.options.metadata.topic(name) !== undefined) {
      throw new KafkaProtocolError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    const collisionKey = name.replace(/\./g, '_');
    for (const other of this.options.metadata.topics()) {
      if (other.name.replace(/\./g, '_') === collisionKey) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${name}' collides with existing topic: ${other.name}`,
        );
      }
    }
    this.options.resolveTopicConfig(configs);
  }

  async create(req: CreateTopicRequest): Promise<CreatedTopic> {
    const brokers = this.liveBrokers();
    const shape = resolveTopicShape(
      this.options.config,
      req,
      brokers.map((b) => b.id),
    );
    this.validateNew(req.name, req.configs);
    if (req.validateOnly) return { topicId: null, ...shape };
    const assignment =
      req.assignments !== undefined && req.assignments.length > 0
        ? req.assignments.map((a) => [...a])
        : assignReplicas(brokers, shape.numPartitions, shape.replicationFactor);
    const topicId = newTopicId();
    const record: TopicRecord = {
      name: req.name,
      topicId,
      configs: { ...req.configs },
      configVersion: 1,
      partitions: assignment.map(initialState),
    };
    await this.options.store.createTopic(req.name, topicId, req.configs, record.partitions);
    this.options.logger.log(
      `created topic ${req.name}: ${assignment.map((r, p) => `${p}=[${r}]`).join(' ')}`,
    );
    this.options.onTopicChanged(record);
    return { topicId, ...shape };
  }

  async delete(name: string): Promise<void> {
    const topicId = this.options.metadata.topic(name)?.topicId;
    await this.options.store.deleteTopic(name);
    if (topicId !== undefined) this.options.onTopicDeleted(name, topicId);
  }

  async createPartitions(
    name: string,
    totalCount: number,
    assignments: readonly (readonly number[])[] | null,
    validateOnly: boolean,
  ): Promise<void> {
    const record = this.options.metadata.record(name);
    if (record === undefined) throw unknownTopic(name);
    const existing = record.partitions.length;
    if (!Number.isInteger(totalCount) || totalCount <= existing) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_PARTITIONS,
        totalCount === existing
          ? `Topic already has ${existing} partitions.`
          : `Topic currently has ${existing} partitions, which is higher than the requested ${totalCount}.`,
      );
    }
    const brokers = this.liveBrokers();
    const replicationFactor = record.partitions[0].replicas.length;
    let added: number[][];
    if (assignments !== null) {
      if (assignments.length !== totalCount - existing) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `Increasing the number of partitions by ${totalCount - existing} but ${assignments.length} assignments provided.`,
        );
      }
      checkAssignments(
        assignments,
        brokers.map((b) => b.id),
      );
      added = assignments.map((a) => [...a]);
    } else {
      added = assignReplicas(brokers, totalCount - existing, replicationFactor, { startPartition: existing });
    }
    if (validateOnly) return;
    await this.options.store.addPartitions(name, existing, added.map(initialState));
    this.options.onTopicChanged({
      ...record,
      partitions: [...record.partitions, ...added.map(initialState)],
    });
  }

  async alterConfigs(
    name: string,
    alterations: readonly ConfigAlteration[],
    options: { incremental: boolean; validateOnly: boolean },
  ): Promise<void> {
    const resolve = this.options.resolveTopicConfig;
    for (let attempt = 0; ; attempt++) {
      const record = await this.options.store.readTopic(name);
      if (record === null) throw unknownTopic(name);
      const current = resolve(record.configs);
      const next = applyConfigAlterations(record.configs, current, alterations, options.incremental);
      resolve(next);
      if (options.validateOnly) return;
      try {
        const version = await this.options.store.alterTopicConfigs(name, record.configVersion, next);
        this.options.logger.log(`topic ${name} configs are now ${JSON.stringify(next)}`);
        this.options.onTopicChanged({ ...record, configs: next, configVersion: version });
        return;
      } catch (err) {
        // Another broker changed the configs in between: apply ours to theirs.
        if (!(err instanceof ScriptRefusal && err.result === ScriptError.VersionMismatch) || attempt >= 5)
          throw err;
      }
    }
  }

  describeConfigs(
    name: string,
    keys: readonly string[] | null,
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean },
  ): DescribedConfig[] {
    const record = this.options.metadata.record(name);
    if (record === undefined) throw unknownTopic(name);
    return this.options.resolveTopicConfig(record.configs).describe(keys, options);
  }

  async autoCreate(name: string): Promise<boolean> {
    if (!mayAutoCreate(this.options.config, name)) return false;
    if (this.options.metadata.topic(name) !== undefined) return true;
    try {
      await this.create({ name, numPartitions: -1, replicationFactor: -1, configs: {} });
    } catch (err) {
      if (err instanceof KafkaProtocolError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) return true;
      throw err;
    }
    return true;
  }

  ensureInternalTopic(
    name: string,
    numPartitions: number,
    replicationFactor: number,
    configs: Readonly<Record<string, string>>,
  ): boolean {
    if (this.options.metadata.topic(name) !== undefined) return true;
    if (this.creating.has(name)) return false;
    const brokers = this.liveBrokers().length;
    if (brokers === 0) return false;
    this.creating.add(name);
    this.create({ name, numPartitions, replicationFactor: Math.min(replicationFactor, brokers), configs })
      .catch((err: unknown) => {
        if (!(err instanceof KafkaProtocolError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) {
          this.options.logger.warn(`creating ${name} failed: ${(err as Error).message}`);
        }
      })
      .finally(() => this.creating.delete(name));
    return false;
  }
}
