import {
  ConfigResourceType,
  Consumer,
  ErrorCode,
  KafkaProtocolError,
  type Admin,
  type Cluster,
  type ClientQuotaEntity,
  type ConsumerMessage,
  type TopicInfo,
  type TopicPartition,
} from '@tributary/client';
import { checkpointsTopic, readCheckpoints } from '@tributary/mirror';
import { clientOptionsOf, type ClusterConfig } from '../config/console-config';
import { OperationError } from './operation-error';
import type {
  BrokerView,
  ClusterOverview,
  ClusterSummary,
  ConfigView,
  GroupDetail,
  GroupPartitionLag,
  GroupSummary,
  PartitionView,
  QuotaView,
  RecordPage,
  RecordView,
  ResetOffsetsResult,
  ResetTarget,
  TopicDetail,
  TopicSummary,
} from './views';

/** DescribeConfigs' configSource numbers, by Kafka's names. */
const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
];

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
const splitTpKey = (key: string): TopicPartition => {
  const [topic, partition] = key.split('\u0000');
  return { topic, partition: Number(partition) };
};

/**
 * What operators do to one cluster, through our client: the REST API and the CLI both call
 * these, so a figure means the same in a browser, a script and a terminal.
 */
export class ClusterOperations {
  constructor(
    readonly config: ClusterConfig,
    readonly cluster: Cluster,
    readonly admin: Admin,
  ) {}

  get alias(): string {
    return this.config.alias;
  }

  private async metadata(): Promise<TopicInfo[]> {
    await this.cluster.refreshMetadata({ allowAutoTopicCreation: false });
    return this.cluster.topics();
  }

  // ---- cluster and brokers ---------------------------------------------------------------

  /** Brokers as Metadata lists them (alive), plus replicas' ids it does not list (not alive). */
  async brokers(): Promise<BrokerView[]> {
    const topics = await this.metadata();
    return this.brokerViews(topics);
  }

  private brokerViews(topics: readonly TopicInfo[]): BrokerView[] {
    const controller = this.cluster.controllerId;
    const listed = this.cluster.brokers();
    const out: BrokerView[] = listed.map((b) => ({
      nodeId: b.nodeId,
      host: b.host,
      port: b.port,
      rack: b.rack,
      isController: b.nodeId === controller,
      alive: true,
    }));
    const known = new Set(listed.map((b) => b.nodeId));
    const missing = new Set<number>();
    for (const t of topics)
      for (const p of t.partitions) for (const r of p.replicas) if (!known.has(r)) missing.add(r);
    for (const nodeId of [...missing].sort((a, b) => a - b))
      out.push({ nodeId, host: null, port: null, rack: null, isController: false, alive: false });
    return out;
  }

  /** What Metadata says about the cluster; a cluster that cannot be reached says so instead of failing. */
  async summary(): Promise<ClusterSummary> {
    const base = {
      alias: this.alias,
      bootstrapServers: [...this.config.bootstrapServers],
      datacenter: this.config.datacenter,
    };
    let topics: TopicInfo[];
    try {
      topics = await this.metadata();
    } catch (err) {
      return {
        ...base,
        reachable: false,
        error: (err as Error).message,
        clusterId: null,
        controllerId: null,
        brokers: [],
        topics: 0,
        internalTopics: 0,
        partitions: 0,
        underReplicatedPartitions: 0,
        offlinePartitions: 0,
      };
    }
    let partitions = 0;
    let underReplicated = 0;
    let offline = 0;
    for (const t of topics) {
      for (const p of t.partitions) {
        partitions++;
        if (p.leader < 0) offline++;
        if (p.isr.length < p.replicas.length) underReplicated++;
      }
    }
    return {
      ...base,
      reachable: true,
      error: null,
      clusterId: this.cluster.clusterId,
      controllerId: this.cluster.controllerId,
      brokers: this.brokerViews(topics),
      topics: topics.filter((t) => !t.isInternal).length,
      internalTopics: topics.filter((t) => t.isInternal).length,
      partitions,
      underReplicatedPartitions: underReplicated,
      offlinePartitions: offline,
    };
  }

  /** The summary plus groups, total consumer lag and the sum of log end offsets (for throughput). */
  async overview(): Promise<ClusterOverview> {
    const snap = await this.snapshot();
    let logEndOffsetSum = 0;
    for (const o of snap.endOffsets) logEndOffsetSum += o.offset;
    let consumerLag = 0;
    for (const g of snap.groupLags.values()) for (const p of g) consumerLag += p.lag ?? 0;
    return {
      ...snap.summary,
      groups: snap.groupLags.size,
      consumerLag,
      logEndOffsetSum,
      sampledAt: Date.now(),
    };
  }

  /** Everything the overview and the metrics read: the summary, end offsets, every group's lag. */
  async snapshot(): Promise<{
    summary: ClusterSummary;
    endOffsets: { topic: string; partition: number; offset: number }[];
    groupLags: Map<string, GroupPartitionLag[]>;
  }> {
    const summary = await this.summary();
    if (!summary.reachable) return { summary, endOffsets: [], groupLags: new Map() };
    const topics = this.cluster.topics().filter((t) => !t.isInternal);
    const [ends, groups] = await Promise.all([this.endOffsets(topics), this.admin.listGroups()]);
    const groupLags = await this.groupLags(groups.map((g) => g.groupId));
    const endOffsets = [...ends].map(([key, offset]) => {
      const [topic, partition] = key.split('\u0000');
      return { topic, partition: Number(partition), offset };
    });
    return { summary, endOffsets, groupLags };
  }

  // ---- client quotas -----------------------------------------------------------------------

  /** Every entity with client quotas (DescribeClientQuotas), users first, defaults before names. */
  async clientQuotas(): Promise<QuotaView[]> {
    const entries = await this.admin.describeClientQuotas();
    return entries
      .map((e) => ({
        entity: { user: e.entity.user, clientId: e.entity.clientId },
        description: quotaEntityText(e.entity),
        values: { ...e.values },
      }))
      .sort((a, b) => (quotaSortKey(a.entity) < quotaSortKey(b.entity) ? -1 : 1));
  }

  /**
   * Sets and removes one entity's quotas (AlterClientQuotas); answers the entity's quotas
   * after the change (an empty map once every key is removed).
   */
  async alterClientQuotas(
    entity: ClientQuotaEntity,
    set: Readonly<Record<string, number>>,
    remove: readonly string[],
    validateOnly: boolean,
  ): Promise<QuotaView> {
    if (entity.user === undefined && entity.clientId === undefined)
      throw new OperationError('invalid', 'the entity must name a user, a client id or both (body.entity)');
    const both = remove.filter((k) => k in set);
    if (both.length > 0)
      throw new OperationError('invalid', `body sets and removes the same quota: ${both.join(', ')}`);
    if (Object.keys(set).length === 0 && remove.length === 0)
      throw new OperationError(
        'invalid',
        'the request body must set or remove at least one quota (body.set, body.remove)',
      );
    await this.admin.alterClientQuotas(
      [
        {
          entity,
          ops: [
            ...Object.entries(set).map(([key, value]) => ({ key, value })),
            ...remove.map((key) => ({ key, value: null })),
          ],
        },
      ],
      { validateOnly },
    );
    const [after] = await this.admin.describeClientQuotas({
      components: [
        ...(entity.user === undefined ? [] : [{ entityType: 'user' as const, match: entity.user }]),
        ...(entity.clientId === undefined
          ? []
          : [{ entityType: 'client-id' as const, match: entity.clientId }]),
      ],
      strict: true,
    });
    return {
      entity: { user: entity.user, clientId: entity.clientId },
      description: quotaEntityText(entity),
      values: { ...(after?.values ?? {}) },
    };
  }

  async brokerConfigs(nodeId: number): Promise<ConfigView[]> {
    await this.metadata();
    if (this.cluster.broker(nodeId) === undefined)
      throw new OperationError('not-found', `broker ${nodeId} is not in cluster ${this.alias}'s metadata`);
    const entries = await this.admin.describeConfigs({
      type: ConfigResourceType.BROKER,
      name: String(nodeId),
    });
    return entries.map(configView).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  // ---- topics ----------------------------------------------------------------------------

  async listTopics(options: { includeInternal?: boolean; search?: string } = {}): Promise<TopicSummary[]> {
    const topics = await this.metadata();
    const needle = options.search?.toLowerCase();
    return topics
      .filter((t) => options.includeInternal || !t.isInternal)
      .filter((t) => needle === undefined || t.name.toLowerCase().includes(needle))
      .map(topicSummary)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  private async topicInfo(name: string): Promise<TopicInfo> {
    await this.metadata();
    const t = this.cluster.topic(name);
    if (t === undefined)
      throw new OperationError('not-found', `topic "${name}" does not exist in cluster ${this.alias}`);
    return t;
  }

  /** Log end offsets of every partition that has a leader. */
  private async endOffsets(topics: readonly TopicInfo[]): Promise<Map<string, number>> {
    const partitions = topics.flatMap((t) =>
      t.partitions.filter((p) => p.leader >= 0).map((p) => ({ topic: t.name, partition: p.partition })),
    );
    if (partitions.length === 0) return new Map();
    const found = await this.admin.listOffsets(partitions, 'latest');
    return new Map(found.map((o) => [tpKey(o.topic, o.partition), o.offset]));
  }

  async describeTopic(name: string): Promise<TopicDetail> {
    const t = await this.topicInfo(name);
    const led = t.partitions
      .filter((p) => p.leader >= 0)
      .map((p) => ({ topic: name, partition: p.partition }));
    const [starts, ends] =
      led.length === 0
        ? [[], []]
        : await Promise.all([this.admin.listOffsets(led, 'earliest'), this.admin.listOffsets(led, 'latest')]);
    const startOf = new Map(starts.map((o) => [o.partition, o.offset]));
    const endOf = new Map(ends.map((o) => [o.partition, o.offset]));
    const partitions: PartitionView[] = t.partitions.map((p) => {
      const start = startOf.get(p.partition) ?? null;
      const end = endOf.get(p.partition) ?? null;
      return {
        partition: p.partition,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicas: [...p.replicas],
        isr: [...p.isr],
        offlineReplicas: [...p.offlineReplicas],
        underReplicated: p.isr.length < p.replicas.length,
        logStartOffset: start,
        logEndOffset: end,
        records: start !== null && end !== null ? end - start : null,
      };
    });
    return {
      ...topicSummary(t),
      topicId: t.topicId,
      partitions,
      records: partitions.reduce((n, p) => n + (p.records ?? 0), 0),
    };
  }

  async createTopic(spec: {
    name: string;
    partitions?: number;
    replicationFactor?: number;
    configs?: Record<string, string>;
  }): Promise<TopicDetail> {
    await this.admin.createTopics([
      {
        name: spec.name,
        numPartitions: spec.partitions ?? -1,
        replicationFactor: spec.replicationFactor ?? -1,
        configs: spec.configs ?? {},
      },
    ]);
    return this.describeTopic(spec.name);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.admin.deleteTopics([name]);
    await this.metadata();
  }

  /** Grows a topic to `count` partitions. */
  async addPartitions(name: string, count: number): Promise<TopicDetail> {
    const t = await this.topicInfo(name);
    if (count <= t.partitions.length)
      throw new OperationError(
        'invalid',
        `body.count must be more than the ${t.partitions.length} partitions topic "${name}" has, got ${count}`,
      );
    await this.admin.createPartitions([{ topic: name, count }]);
    return this.describeTopic(name);
  }

  async topicConfigs(name: string): Promise<ConfigView[]> {
    await this.topicInfo(name);
    const entries = await this.admin.describeConfigs({ type: ConfigResourceType.TOPIC, name });
    return entries.map(configView).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Sets and removes topic config overrides (IncrementalAlterConfigs); answers the configs after. */
  async alterTopicConfigs(
    name: string,
    set: Record<string, string>,
    remove: readonly string[],
  ): Promise<ConfigView[]> {
    await this.topicInfo(name);
    const both = remove.filter((k) => k in set);
    if (both.length > 0)
      throw new OperationError('invalid', `body sets and deletes the same config: ${both.join(', ')}`);
    await this.admin.alterConfigs({ type: ConfigResourceType.TOPIC, name }, [
      ...Object.entries(set).map(([k, value]) => ({ name: k, value, op: 'set' as const })),
      ...remove.map((k) => ({ name: k, op: 'delete' as const })),
    ]);
    return this.topicConfigs(name);
  }

  // ---- records ---------------------------------------------------------------------------

  /**
   * Reads a partition from an offset with our consumer (assign, seek), up to `limit` records
   * or the log end as it was when asked, waiting at most `maxWaitMs`. An offset below the log
   * start reads from the log start (records there were deleted); records come as stored, so a
   * compacted partition may skip offsets.
   */
  async readRecords(
    topic: string,
    partition: number,
    options: { offset?: number; limit: number; maxWaitMs: number },
  ): Promise<RecordPage> {
    const t = await this.topicInfo(topic);
    if (partition >= t.partitions.length)
      throw new OperationError(
        'not-found',
        `partition ${partition} does not exist: topic "${topic}" has partitions 0 to ${t.partitions.length - 1}`,
      );
    const tp = { topic, partition };
    const [[start], [end]] = await Promise.all([
      this.admin.listOffsets([tp], 'earliest'),
      this.admin.listOffsets([tp], 'latest'),
    ]);
    const from = Math.max(options.offset ?? start.offset, start.offset);
    const page = (records: RecordView[], nextOffset: number): RecordPage => ({
      topic,
      partition,
      requestedOffset: options.offset ?? null,
      logStartOffset: start.offset,
      logEndOffset: end.offset,
      records,
      nextOffset,
    });
    if (from >= end.offset) return page([], from);
    const read = await this.consume(tp, from, end.offset, options.limit, options.maxWaitMs);
    const records = read.messages.slice(0, options.limit).map(recordView);
    const last = records.length > 0 ? records[records.length - 1].offset + 1 : from;
    const next = read.messages.length > options.limit ? last : Math.max(last, read.position);
    return page(records, next);
  }

  private async consume(
    tp: TopicPartition,
    from: number,
    end: number,
    limit: number,
    maxWaitMs: number,
  ): Promise<{ messages: ConsumerMessage[]; position: number }> {
    const consumer = new Consumer(
      { ...clientOptionsOf(this.config), autoOffsetReset: 'none', fetchMaxWaitMs: 100 },
      this.cluster,
    );
    consumer.assign([tp]);
    consumer.seek({ ...tp, offset: from });
    const collected: ConsumerMessage[] = [];
    let poll: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const enough = (): boolean => collected.length >= limit || consumer.position(tp) >= end;
    try {
      await new Promise<void>((resolve, reject) => {
        // Batches that hold only control records or compacted gaps move the position without records.
        poll = setInterval(() => enough() && resolve(), 20);
        deadline = setTimeout(resolve, maxWaitMs);
        consumer
          .run({
            eachBatch: (batch) => {
              collected.push(...batch.messages);
              if (collected.length >= limit || batch.messages[batch.messages.length - 1].offset + 1 >= end)
                resolve();
            },
          })
          .then(() => resolve(), reject);
      });
    } finally {
      clearInterval(poll);
      clearTimeout(deadline);
      await consumer.stop();
    }
    const position = consumer.position(tp);
    await consumer.close();
    return { messages: collected, position };
  }

  // ---- groups ----------------------------------------------------------------------------

  async listGroups(search?: string): Promise<GroupSummary[]> {
    const needle = search?.toLowerCase();
    const groups = await this.admin.listGroups();
    return groups
      .filter((g) => needle === undefined || g.groupId.toLowerCase().includes(needle))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: g.state }));
  }

  /** Members and lag for a page of groups (one describe and one offset fetch each). */
  async groupsWithLag(
    groups: readonly GroupSummary[],
  ): Promise<(GroupSummary & { members: number; lag: number })[]> {
    if (groups.length === 0) return [];
    const ids = groups.map((g) => g.groupId);
    const [described, lags] = await Promise.all([this.admin.describeGroups(ids), this.groupLags(ids)]);
    return groups.map((g, i) => ({
      ...g,
      state: described[i].state,
      members: described[i].members.length,
      lag: (lags.get(g.groupId) ?? []).reduce((n, p) => n + (p.lag ?? 0), 0),
    }));
  }

  /** Per group, per committed partition: log end offset - committed offset. */
  async groupLags(groupIds: readonly string[]): Promise<Map<string, GroupPartitionLag[]>> {
    const committed = await Promise.all(groupIds.map((g) => this.admin.fetchOffsets(g)));
    await this.metadata();
    const all = new Map<string, TopicPartition>();
    for (const list of committed)
      for (const o of list)
        if (o.offset >= 0 && this.partitionLed(o.topic, o.partition))
          all.set(tpKey(o.topic, o.partition), { topic: o.topic, partition: o.partition });
    const ends =
      all.size === 0
        ? new Map<string, number>()
        : new Map(
            (await this.admin.listOffsets([...all.values()], 'latest')).map((o) => [
              tpKey(o.topic, o.partition),
              o.offset,
            ]),
          );
    const out = new Map<string, GroupPartitionLag[]>();
    groupIds.forEach((g, i) => {
      out.set(
        g,
        committed[i]
          .filter((o) => o.offset >= 0)
          .map((o) =>
            lagOf(o.topic, o.partition, o.offset, ends.get(tpKey(o.topic, o.partition)) ?? null, null),
          ),
      );
    });
    return out;
  }

  private partitionLed(topic: string, partition: number): boolean {
    const p = this.cluster.topic(topic)?.partitions[partition];
    return p !== undefined && p.leader >= 0;
  }

  async describeGroup(groupId: string): Promise<GroupDetail> {
    const [[d], committed] = await Promise.all([
      this.admin.describeGroups([groupId]),
      this.admin.fetchOffsets(groupId),
    ]);
    const withOffsets = committed.filter((o) => o.offset >= 0);
    if (d.state === 'Dead' && withOffsets.length === 0)
      throw new OperationError(
        'not-found',
        `consumer group "${groupId}" does not exist in cluster ${this.alias}`,
      );
    const owner = new Map<string, string>();
    for (const m of d.members)
      for (const a of m.assignment) owner.set(tpKey(a.topic, a.partition), m.memberId);
    const partitions = new Map<string, { topic: string; partition: number; committed: number | null }>();
    for (const o of withOffsets) partitions.set(tpKey(o.topic, o.partition), { ...o, committed: o.offset });
    for (const m of d.members)
      for (const a of m.assignment)
        if (!partitions.has(tpKey(a.topic, a.partition)))
          partitions.set(tpKey(a.topic, a.partition), { ...a, committed: null });
    await this.metadata();
    const led = [...partitions.values()].filter((p) => this.partitionLed(p.topic, p.partition));
    const ends = new Map(
      led.length === 0
        ? []
        : (await this.admin.listOffsets(led, 'latest')).map((o) => [tpKey(o.topic, o.partition), o.offset]),
    );
    const offsets = [...partitions.values()]
      .map((p) =>
        lagOf(
          p.topic,
          p.partition,
          p.committed,
          ends.get(tpKey(p.topic, p.partition)) ?? null,
          owner.get(tpKey(p.topic, p.partition)) ?? null,
        ),
      )
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    return {
      groupId: d.groupId,
      state: d.state,
      protocolType: d.protocolType,
      protocol: d.protocol,
      members: d.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: m.assignment.map((a) => ({ topic: a.topic, partition: a.partition })),
      })),
      offsets,
      totalLag: offsets.reduce((n, o) => n + (o.lag ?? 0), 0),
    };
  }

  /**
   * Moves a group's committed offsets, as kafka-consumer-groups --reset-offsets does: only for
   * a group without active members (409 otherwise); explicit offsets are clamped to the
   * partition's log start and end. Without topics, every partition the group committed moves.
   */
  async resetGroupOffsets(
    groupId: string,
    target: ResetTarget,
    topics: readonly { topic: string; partitions?: readonly number[] }[] | undefined,
    dryRun: boolean,
  ): Promise<ResetOffsetsResult> {
    const [[d], committed] = await Promise.all([
      this.admin.describeGroups([groupId]),
      this.admin.fetchOffsets(groupId),
    ]);
    if (d.state !== 'Empty' && d.state !== 'Dead')
      throw new OperationError(
        'conflict',
        `consumer group "${groupId}" is ${d.state} with ${d.members.length} member${d.members.length === 1 ? '' : 's'}: stop its consumers before resetting its offsets`,
        { state: d.state, members: d.members.length },
      );
    const mirrored = target.to === 'checkpoints' ? target.source : null;
    const checkpoints =
      mirrored !== null
        ? new Map(
            (await readCheckpoints(clientOptionsOf(this.config), mirrored, groupId)).map((c) => [
              tpKey(c.topic, c.partition),
              c.offset,
            ]),
          )
        : null;
    let partitions: TopicPartition[];
    if (topics === undefined || topics.length === 0) {
      partitions =
        checkpoints !== null
          ? [...checkpoints.keys()].map(splitTpKey)
          : committed.filter((o) => o.offset >= 0).map((o) => ({ topic: o.topic, partition: o.partition }));
      if (partitions.length === 0)
        throw new OperationError(
          mirrored !== null ? 'not-found' : 'invalid',
          mirrored !== null
            ? `cluster ${this.alias} holds no checkpoint of group "${groupId}" from ${mirrored} (${checkpointsTopic(mirrored)})`
            : `consumer group "${groupId}" has no committed offsets; name the topics to reset`,
        );
    } else {
      partitions = [];
      for (const t of topics) {
        const info = await this.topicInfo(t.topic);
        const wanted = t.partitions ?? info.partitions.map((p) => p.partition);
        for (const p of wanted) {
          if (p >= info.partitions.length)
            throw new OperationError(
              'not-found',
              `partition ${p} does not exist: topic "${t.topic}" has partitions 0 to ${info.partitions.length - 1}`,
            );
          partitions.push({ topic: t.topic, partition: p });
        }
      }
    }
    const [starts, ends] = await Promise.all([
      this.admin.listOffsets(partitions, 'earliest'),
      this.admin.listOffsets(partitions, 'latest'),
    ]);
    let targets: number[];
    if (target.to === 'earliest') targets = starts.map((o) => o.offset);
    else if (target.to === 'latest') targets = ends.map((o) => o.offset);
    else if (target.to === 'timestamp') {
      const byTime = await this.admin.listOffsets(partitions, { timestamp: target.timestamp });
      // No record at or after the time: the end, as Kafka's tool does.
      targets = byTime.map((o, i) => (o.offset < 0 ? ends[i].offset : o.offset));
    } else if (target.to === 'checkpoints') {
      targets = partitions.map((p, i) => {
        const offset = checkpoints?.get(tpKey(p.topic, p.partition));
        if (offset === undefined)
          throw new OperationError(
            'not-found',
            `no checkpoint of group "${groupId}" for ${p.topic}-${p.partition} from ${target.source}`,
          );
        return Math.min(Math.max(offset, starts[i].offset), ends[i].offset);
      });
    } else
      targets = partitions.map((_, i) => Math.min(Math.max(target.offset, starts[i].offset), ends[i].offset));
    const before = new Map(committed.map((o) => [tpKey(o.topic, o.partition), o.offset]));
    const offsets = partitions.map((p, i) => {
      const previous = before.get(tpKey(p.topic, p.partition));
      return {
        topic: p.topic,
        partition: p.partition,
        previousOffset: previous === undefined || previous < 0 ? null : previous,
        newOffset: targets[i],
        logStartOffset: starts[i].offset,
        logEndOffset: ends[i].offset,
      };
    });
    if (!dryRun) {
      await this.admin.resetOffsets(groupId, partitions, {
        offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.newOffset })),
      });
    }
    return { groupId, dryRun, offsets };
  }

  async deleteGroup(groupId: string): Promise<void> {
    try {
      await this.admin.deleteGroups([groupId]);
    } catch (err) {
      if (err instanceof KafkaProtocolError && err.code === ErrorCode.NON_EMPTY_GROUP)
        throw new OperationError(
          'conflict',
          `consumer group "${groupId}" has active members: stop its consumers before deleting it`,
        );
      if (err instanceof KafkaProtocolError && err.code === ErrorCode.GROUP_ID_NOT_FOUND)
        throw new OperationError(
          'not-found',
          `consumer group "${groupId}" does not exist in cluster ${this.alias}`,
        );
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.admin.close();
    await this.cluster.close();
  }
}

function topicSummary(t: TopicInfo): TopicSummary {
  return {
    name: t.name,
    internal: t.isInternal,
    partitions: t.partitions.length,
    replicationFactor: t.partitions.reduce((n, p) => Math.max(n, p.replicas.length), 0),
    underReplicatedPartitions: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
    offlinePartitions: t.partitions.filter((p) => p.leader < 0).length,
  };
}

function configView(c: {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
}): ConfigView {
  return {
    name: c.name,
    value: c.isSensitive ? null : c.value,
    source: CONFIG_SOURCES[c.source] ?? 'UNKNOWN',
    isDefault: c.source === 5,
    readOnly: c.readOnly,
    sensitive: c.isSensitive,
  };
}

function lagOf(
  topic: string,
  partition: number,
  committed: number | null,
  end: number | null,
  memberId: string | null,
): GroupPartitionLag {
  return {
    topic,
    partition,
    committedOffset: committed,
    logEndOffset: end,
    lag: committed !== null && end !== null ? Math.max(0, end - committed) : null,
    memberId,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Control characters other than tab and line breaks: such text is shown as base64. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** Text when the bytes are printable UTF-8, base64 otherwise. */
export function encodeBytes(b: Buffer | null): { data: string | null; encoding: 'utf8' | 'base64' | null } {
  if (b === null) return { data: null, encoding: null };
  try {
    const text = utf8.decode(b);
    if (!hasControl(text)) return { data: text, encoding: 'utf8' };
  } catch {
    // not UTF-8: shown as base64
  }
  return { data: b.toString('base64'), encoding: 'base64' };
}

function recordView(m: ConsumerMessage): RecordView {
  const key = encodeBytes(m.key);
  const value = encodeBytes(m.value);
  return {
    offset: m.offset,
    timestamp: m.timestamp,
    time: new Date(m.timestamp).toISOString(),
    key: key.data,
    keyEncoding: key.encoding,
    value: value.data,
    valueEncoding: value.encoding,
    size: (m.key?.length ?? 0) + (m.value?.length ?? 0),
    headers: m.headers.map((h) => {
      const v = encodeBytes(h.value);
      return { key: h.key, value: v.data, valueEncoding: v.encoding };
    }),
  };
}

/** An entity as Kafka's tools print it: user 'alice', client-id <default>. */
export function quotaEntityText(entity: ClientQuotaEntity): string {
  const name = (n: string | null) => (n === null ? '<default>' : `'${n}'`);
  return [
    ...(entity.user === undefined ? [] : [`user ${name(entity.user)}`]),
    ...(entity.clientId === undefined ? [] : [`client-id ${name(entity.clientId)}`]),
  ].join(', ');
}

/** Users before client ids alone; within a type the default first. */
function quotaSortKey(entity: ClientQuotaEntity): string {
  const part = (n: string | null | undefined) => (n === undefined ? '2' : n === null ? '0' : `1${n}`);
  return `${entity.user === undefined ? 1 : 0}${part(entity.user)}\u0000${part(entity.clientId)}`;
}
