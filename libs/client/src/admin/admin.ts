import crypto from 'node:crypto';
import {
  AclOperation,
  AclPatternType,
  AclPermissionType,
  AclResourceType,
  AlterClientQuotas,
  AlterPartitionReassignments,
  AlterUserScramCredentials,
  DescribeClientQuotas,
  ConsumerProtocolAssignment,
  CreateAcls,
  DeleteAcls,
  DescribeAcls,
  DescribeUserScramCredentials,
  SCRAM_MIN_ITERATIONS,
  scramMechanismOfType,
  scramMechanismType,
  scramSaltedPassword,
  type AclBinding,
  type AclBindingFilter,
  type ScramMechanism,
  CreatePartitions,
  CreateTopics,
  decodeMessage,
  DeleteGroups,
  DeleteRecords,
  DeleteTopics,
  DescribeCluster,
  DescribeConfigs,
  DescribeGroups,
  ElectLeaders,
  ErrorCode,
  IncrementalAlterConfigs,
  KafkaProtocolError,
  ListGroups,
  ListPartitionReassignments,
  OffsetDelete,
} from '@tributary/protocol';
import { Cluster, type BrokerInfo, type TopicInfo } from '../cluster/cluster';
import { listOffsets, type TopicPartition } from '../consumer/consumer';
import {
  byTopic,
  commitOffsets,
  fetchOffsets,
  NO_MEMBER,
  type TopicPartitionOffset,
} from '../consumer/group-offsets';
import type { ClientOptions } from '../options';

/** Config resources: a topic; a broker by id, or '' for the cluster-wide default; a broker's loggers. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export interface NewTopic {
  readonly name: string;
  /** -1: the broker's num.partitions. */
  readonly numPartitions?: number;
  /** -1: the broker's default.replication.factor. */
  readonly replicationFactor?: number;
  readonly configs?: Readonly<Record<string, string>>;
  /** Explicit replicas per partition (then numPartitions and replicationFactor are left out). */
  readonly assignments?: readonly (readonly number[])[];
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  /** DescribeConfigs' configSource: 1 topic override, 2 dynamic broker, 3 dynamic default, 4 static broker config, 5 default, 6 logger. */
  readonly source: number;
  readonly isSensitive: boolean;
  /** Where else the value is set, by precedence; only with `includeSynonyms`. */
  readonly synonyms?: readonly { name: string; value: string | null; source: number }[];
}

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: string | null;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly assignment: TopicPartition[];
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: GroupMemberDescription[];
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

/** A partition whose replicas are moving: `replicas` is every replica during the move. */
export interface PartitionReassignment extends TopicPartition {
  readonly replicas: number[];
  readonly addingReplicas: number[];
  readonly removingReplicas: number[];
}

/** One partition's election: NONE when it now has the leader asked for, else why not (ELECTION_NOT_NEEDED...). */
export interface ElectionResult extends TopicPartition {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface ScramCredentialInfo {
  readonly user: string;
  readonly mechanism: ScramMechanism;
  readonly iterations: number;
}

export interface ScramUpsertion {
  readonly user: string;
  readonly mechanism: ScramMechanism;
  /** Hashed here with a fresh salt: only the salted password is sent, as Kafka's admin client does. */
  readonly password: string;
  readonly iterations?: number;
}

/**
 * A client quota entity (Kafka's ClientQuotaEntity): a user, a client id, or both; null
 * names the default of that type (the quota of every user or client id without its own).
 */
export interface ClientQuotaEntity {
  readonly user?: string | null;
  readonly clientId?: string | null;
}

/** An entity and its quotas: producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate. */
export interface ClientQuotaEntry {
  readonly entity: ClientQuotaEntity;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * One part of a quota filter (Kafka's ClientQuotaFilterComponent): `match` a name (exact),
 * null (the default entity), or left out (any named entity of the type).
 */
export interface ClientQuotaFilterComponent {
  readonly entityType: 'user' | 'client-id';
  readonly match?: string | null;
}

/** Changes to one entity's quotas; a null value removes the key. */
export interface ClientQuotaAlteration {
  readonly entity: ClientQuotaEntity;
  readonly ops: readonly { readonly key: string; readonly value: number | null }[];
}

function quotaEntityWire(entity: ClientQuotaEntity): { entityType: string; entityName: string | null }[] {
  const out: { entityType: string; entityName: string | null }[] = [];
  if (entity.user !== undefined) out.push({ entityType: 'user', entityName: entity.user });
  if (entity.clientId !== undefined) out.push({ entityType: 'client-id', entityName: entity.clientId });
  return out;
}

function quotaEntityOf(
  wire: readonly { entityType: string; entityName: string | null }[],
): ClientQuotaEntity {
  const user = wire.find((c) => c.entityType === 'user');
  const clientId = wire.find((c) => c.entityType === 'client-id');
  return {
    ...(user === undefined ? {} : { user: user.entityName }),
    ...(clientId === undefined ? {} : { clientId: clientId.entityName }),
  };
}

/** A filter that matches everything its fields do not narrow (Kafka's AclBindingFilter.ANY). */
const ANY_ACL: AclBindingFilter = {
  resourceType: AclResourceType.ANY,
  resourceName: null,
  patternType: AclPatternType.ANY,
  principal: null,
  host: null,
  operation: AclOperation.ANY,
  permissionType: AclPermissionType.ANY,
};

/** Item errors that mean "ask again" (the controller moved), not "this item failed". */
const ASK_AGAIN = new Set<number>([ErrorCode.NOT_CONTROLLER, ErrorCode.REQUEST_TIMED_OUT]);

/** Throws Kafka's error for a failed item, naming what failed. */
function check(errorCode: number, what: string, message?: string | null): void {
  if (errorCode !== ErrorCode.NONE)
    throw new KafkaProtocolError(errorCode, message ? `${what}: ${message}` : what);
}

/** Admin operations on one cluster: topics, configs, groups, offsets, and the cluster itself. */
export class Admin {
  private readonly cluster: Cluster;
  private readonly ownsCluster: boolean;

  constructor(options: ClientOptions, cluster?: Cluster) {
    this.cluster = cluster ?? new Cluster(options);
    this.ownsCluster = cluster === undefined;
  }

  private get timeoutMs(): number {
    return this.cluster.options.requestTimeoutMs ?? 30000;
  }

  // ---- topics ----------------------------------------------------------------------------

  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    await this.cluster
      .retry('CreateTopics', async () => {
        const conn = await this.cluster.controllerConnection();
        const r = await conn.request(CreateTopics, {
          topics: topics.map((t) => ({
            name: t.name,
            numPartitions: t.assignments ? -1 : (t.numPartitions ?? -1),
            replicationFactor: t.assignments ? -1 : (t.replicationFactor ?? -1),
            assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({
              partitionIndex,
              brokerIds: [...brokerIds],
            })),
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
          timeoutMs: this.timeoutMs,
          validateOnly: options.validateOnly ?? false,
        });
        for (const t of r.topics)
          if (ASK_AGAIN.has(t.errorCode)) check(t.errorCode, `creating topic ${t.name}`);
        return r;
      })
      .then((r) => {
        for (const t of r.topics) check(t.errorCode, `creating topic ${t.name}`, t.errorMessage);
      });
    this.cluster.want(topics.map((t) => t.name));
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    await this.cluster
      .retry('DeleteTopics', async () => {
        const conn = await this.cluster.controllerConnection();
        const r = await conn.request(DeleteTopics, {
          topicNames: [...names],
          topics: names.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
          timeoutMs: this.timeoutMs,
        });
        for (const t of r.responses)
          if (ASK_AGAIN.has(t.errorCode)) check(t.errorCode, `deleting topic ${t.name}`);
        return r;
      })
      .then((r) => {
        for (const t of r.responses) check(t.errorCode, `deleting topic ${t.name}`, t.errorMessage);
      });
  }

  /** Grows topics to `count` partitions each. */
  async createPartitions(
    topics: readonly { topic: string; count: number }[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    await this.cluster
      .retry('CreatePartitions', async () => {
        const conn = await this.cluster.controllerConnection();
        const r = await conn.request(CreatePartitions, {
          topics: topics.map((t) => ({ name: t.topic, count: t.count, assignments: null })),
          timeoutMs: this.timeoutMs,
          validateOnly: options.validateOnly ?? false,
        });
        for (const t of r.results)
          if (ASK_AGAIN.has(t.errorCode)) check(t.errorCode, `adding partitions to ${t.name}`);
        return r;
      })
      .then((r) => {
        for (const t of r.results) check(t.errorCode, `adding partitions to ${t.name}`, t.errorMessage);
      });
  }

  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    this.cluster.wantAllTopics();
    await this.cluster.refreshMetadata({ allowAutoTopicCreation: false });
    return this.cluster
      .topics()
      .filter((t) => options.includeInternal || !t.isInternal)
      .map((t) => t.name)
      .sort();
  }

  async describeTopics(names: readonly string[]): Promise<TopicInfo[]> {
    this.cluster.want(names);
    await this.cluster.refreshMetadata({ allowAutoTopicCreation: false });
    return names.map((n) => {
      const t = this.cluster.topic(n);
      if (t === undefined)
        throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${n} does not exist`);
      return t;
    });
  }

  // ---- configs ---------------------------------------------------------------------------

  /** A broker's own resources go to that broker, as Kafka's admin client sends them. */
  private configConnection(resource: { type: number; name: string }) {
    const own =
      (resource.type === ConfigResourceType.BROKER || resource.type === ConfigResourceType.BROKER_LOGGER) &&
      resource.name !== '';
    return own ? this.cluster.connection(Number(resource.name)) : this.cluster.anyConnection();
  }

  async describeConfigs(
    resource: { type: number; name: string },
    keys?: readonly string[],
    options: { includeSynonyms?: boolean } = {},
  ): Promise<ConfigEntry[]> {
    return this.cluster.retry('DescribeConfigs', async () => {
      const conn = await this.configConnection(resource);
      const r = await conn.request(DescribeConfigs, {
        resources: [
          {
            resourceType: resource.type,
            resourceName: resource.name,
            configurationKeys: keys ? [...keys] : null,
          },
        ],
        includeSynonyms: options.includeSynonyms ?? false,
        includeDocumentation: false,
      });
      const res = r.results[0];
      check(res.errorCode, `describing configs of ${resource.name}`, res.errorMessage);
      return res.configs.map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        source: conn.versionFor(DescribeConfigs) === 0 ? (c.isDefault ? 5 : 1) : c.configSource,
        isSensitive: c.isSensitive,
        ...(options.includeSynonyms ? { synonyms: c.synonyms } : {}),
      }));
    });
  }

  /** IncrementalAlterConfigs: set, delete, append to or subtract from single keys. */
  async alterConfigs(
    resource: { type: number; name: string },
    changes: readonly { name: string; value?: string | null; op?: ConfigOperation }[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const ops: Record<ConfigOperation, number> = { set: 0, delete: 1, append: 2, subtract: 3 };
    await this.cluster.retry('IncrementalAlterConfigs', async () => {
      const conn = await this.configConnection(resource);
      const r = await conn.request(IncrementalAlterConfigs, {
        resources: [
          {
            resourceType: resource.type,
            resourceName: resource.name,
            configs: changes.map((c) => ({
              name: c.name,
              configOperation: ops[c.op ?? 'set'],
              value: c.value ?? null,
            })),
          },
        ],
        validateOnly: options.validateOnly ?? false,
      });
      for (const res of r.responses)
        check(res.errorCode, `altering configs of ${res.resourceName}`, res.errorMessage);
    });
  }

  // ---- cluster ---------------------------------------------------------------------------

  async describeCluster(): Promise<{ clusterId: string; controllerId: number; brokers: BrokerInfo[] }> {
    return this.cluster.retry('DescribeCluster', async () => {
      const conn = await this.cluster.anyConnection();
      const r = await conn.request(DescribeCluster, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      check(r.errorCode, 'describing the cluster', r.errorMessage);
      return {
        clusterId: r.clusterId,
        controllerId: r.controllerId,
        brokers: r.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })),
      };
    });
  }

  // ---- replicas and leaders --------------------------------------------------------------

  /**
   * Moves partitions to new replica lists (the controller adds the new replicas, waits for them to
   * join the ISR, then drops the old ones); `replicas: null` cancels a move in progress.
   */
  async alterPartitionReassignments(
    moves: readonly (TopicPartition & { replicas: readonly number[] | null })[],
  ): Promise<void> {
    const r = await this.cluster.retry('AlterPartitionReassignments', async () => {
      const conn = await this.cluster.controllerConnection();
      const r = await conn.request(AlterPartitionReassignments, {
        timeoutMs: this.timeoutMs,
        topics: [...byTopic(moves)].map(([name, ps]) => ({
          name,
          partitions: ps.map((m) => ({
            partitionIndex: m.partition,
            replicas: m.replicas === null ? null : [...m.replicas],
          })),
        })),
      });
      check(r.errorCode, 'reassigning partitions', r.errorMessage);
      return r;
    });
    for (const t of r.responses)
      for (const p of t.partitions)
        check(p.errorCode, `reassigning ${t.name}-${p.partitionIndex}`, p.errorMessage);
  }

  /** The reassignments in progress, of the given partitions or of all. */
  async listPartitionReassignments(partitions?: readonly TopicPartition[]): Promise<PartitionReassignment[]> {
    return this.cluster.retry('ListPartitionReassignments', async () => {
      const conn = await this.cluster.controllerConnection();
      const r = await conn.request(ListPartitionReassignments, {
        timeoutMs: this.timeoutMs,
        topics:
          partitions === undefined
            ? null
            : [...byTopic(partitions)].map(([name, ps]) => ({
                name,
                partitionIndexes: ps.map((p) => p.partition),
              })),
      });
      check(r.errorCode, 'listing partition reassignments', r.errorMessage);
      return r.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          replicas: p.replicas,
          addingReplicas: p.addingReplicas,
          removingReplicas: p.removingReplicas,
        })),
      );
    });
  }

  /**
   * Elects leaders: `preferred` gives each partition back to its first replica if it is in the
   * ISR; `unclean` picks any live replica for a partition that has no leader (records may be lost).
   * Partitions left out: all of them. Per-partition outcomes are returned, not thrown, as Kafka's
   * admin client does.
   */
  async electLeaders(
    electionType: 'preferred' | 'unclean',
    partitions?: readonly TopicPartition[],
  ): Promise<ElectionResult[]> {
    return this.cluster.retry('ElectLeaders', async () => {
      const conn = await this.cluster.controllerConnection();
      const r = await conn.request(ElectLeaders, {
        electionType: electionType === 'preferred' ? 0 : 1,
        topicPartitions:
          partitions === undefined
            ? null
            : [...byTopic(partitions)].map(([topic, ps]) => ({
                topic,
                partitions: ps.map((p) => p.partition),
              })),
        timeoutMs: this.timeoutMs,
      });
      check(r.errorCode, 'electing leaders');
      const results = r.replicaElectionResults.flatMap((t) =>
        t.partitionResult.map((p) => ({
          topic: t.topic,
          partition: p.partitionId,
          errorCode: p.errorCode,
          errorMessage: p.errorMessage,
        })),
      );
      for (const p of results)
        if (ASK_AGAIN.has(p.errorCode)) check(p.errorCode, `electing a leader for ${p.topic}-${p.partition}`);
      return results;
    });
  }

  // ---- offsets ---------------------------------------------------------------------------

  /** Offsets of partitions: earliest, latest, or the first at or after a timestamp (-1 when none). */
  async listOffsets(
    partitions: readonly TopicPartition[],
    spec: OffsetSpec,
  ): Promise<TopicPartitionOffset[]> {
    const timestamp = spec === 'earliest' ? -2 : spec === 'latest' ? -1 : spec.timestamp;
    const found = await listOffsets(this.cluster, partitions, timestamp);
    return partitions.map((tp) => ({ ...tp, offset: found.get(`${tp.topic}\u0000${tp.partition}`) ?? -1 }));
  }

  /** DeleteRecords: moves each partition's log start offset up to the given offset. */
  async deleteRecords(offsets: readonly TopicPartitionOffset[]): Promise<TopicPartitionOffset[]> {
    const out: TopicPartitionOffset[] = [];
    for (const o of offsets)
      if (this.cluster.topic(o.topic) === undefined) await this.cluster.topicMetadata(o.topic);
    for (const o of offsets) {
      const leader = this.cluster.leaderFor(o.topic, o.partition);
      const r = await this.cluster.send(leader, DeleteRecords, {
        topics: [{ name: o.topic, partitions: [{ partitionIndex: o.partition, offset: o.offset }] }],
        timeoutMs: this.timeoutMs,
      });
      const p = r.topics[0].partitions[0];
      check(p.errorCode, `deleting records of ${o.topic}-${o.partition}`);
      out.push({ topic: o.topic, partition: o.partition, offset: p.lowWatermark });
    }
    return out;
  }

  // ---- groups ----------------------------------------------------------------------------

  /** Every group of the cluster (ListGroups goes to each broker, which knows the groups it coordinates). */
  async listGroups(): Promise<GroupListing[]> {
    await this.cluster.refreshMetadata({ allowAutoTopicCreation: false });
    const all = await Promise.all(
      this.cluster.brokers().map(async (b) => {
        const r = await this.cluster.send(b.nodeId, ListGroups, { statesFilter: [] });
        check(r.errorCode, `listing groups on broker ${b.nodeId}`);
        return r.groups.map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          state: g.groupState || null,
        }));
      }),
    );
    return all.flat().sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    return Promise.all(
      groupIds.map((groupId) =>
        this.cluster.retry(`DescribeGroups ${groupId}`, async () => {
          const coordinator = await this.cluster.findCoordinator(groupId);
          const r = await this.cluster.send(coordinator, DescribeGroups, {
            groups: [groupId],
            includeAuthorizedOperations: false,
          });
          const g = r.groups[0];
          check(g.errorCode, `describing group ${groupId}`);
          return {
            groupId: g.groupId,
            state: g.groupState,
            protocolType: g.protocolType,
            protocol: g.protocolData,
            members: g.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              assignment:
                g.protocolType === 'consumer' && m.memberAssignment.length > 0
                  ? decodeMessage(
                      ConsumerProtocolAssignment,
                      m.memberAssignment,
                    ).value.assignedPartitions.flatMap((a) =>
                      a.partitions.map((partition) => ({ topic: a.topic, partition })),
                    )
                  : [],
            })),
          };
        }),
      ),
    );
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    for (const groupId of groupIds) {
      await this.cluster.retry(`DeleteGroups ${groupId}`, async () => {
        const coordinator = await this.cluster.findCoordinator(groupId);
        const r = await this.cluster.send(coordinator, DeleteGroups, { groupsNames: [groupId] });
        for (const res of r.results) check(res.errorCode, `deleting group ${res.groupId}`);
      });
    }
  }

  /** A group's committed offsets (every partition it committed, or those asked for). */
  async fetchOffsets(
    groupId: string,
    partitions: readonly TopicPartition[] | null = null,
  ): Promise<TopicPartitionOffset[]> {
    return this.cluster.retry(`OffsetFetch ${groupId}`, async () =>
      fetchOffsets(this.cluster, await this.cluster.findCoordinator(groupId), groupId, partitions),
    );
  }

  /**
   * Sets a group's committed offsets (to earliest, latest, a timestamp or explicit offsets),
   * as kafka-consumer-groups --reset-offsets does; the group must have no active members.
   */
  async resetOffsets(
    groupId: string,
    partitions: readonly TopicPartition[],
    to: OffsetSpec | { offsets: readonly TopicPartitionOffset[] },
  ): Promise<TopicPartitionOffset[]> {
    const [described] = await this.describeGroups([groupId]);
    if (described.state !== 'Empty' && described.state !== 'Dead') {
      throw new KafkaProtocolError(
        ErrorCode.NON_EMPTY_GROUP,
        `group ${groupId} is ${described.state}: stop its consumers before resetting offsets`,
      );
    }
    let offsets: TopicPartitionOffset[];
    if (typeof to === 'object' && 'offsets' in to) offsets = [...to.offsets];
    else {
      offsets = await this.listOffsets(partitions, to);
      const missing = offsets.filter((o) => o.offset < 0);
      if (missing.length > 0) {
        const latest = await this.listOffsets(missing, 'latest');
        offsets = offsets.map((o) =>
          o.offset >= 0 ? o : (latest.find((l) => l.topic === o.topic && l.partition === o.partition) ?? o),
        );
      }
    }
    await this.cluster.retry(`OffsetCommit ${groupId}`, async () =>
      commitOffsets(this.cluster, await this.cluster.findCoordinator(groupId), groupId, NO_MEMBER, offsets),
    );
    return offsets;
  }

  /** OffsetDelete: forgets a group's committed offsets for partitions it does not consume. */
  async deleteOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<void> {
    await this.cluster.retry(`OffsetDelete ${groupId}`, async () => {
      const coordinator = await this.cluster.findCoordinator(groupId);
      const r = await this.cluster.send(coordinator, OffsetDelete, {
        groupId,
        topics: [...byTopic(partitions)].map(([name, ps]) => ({
          name,
          partitions: ps.map((p) => ({ partitionIndex: p.partition })),
        })),
      });
      check(r.errorCode, `deleting offsets of ${groupId}`);
      for (const t of r.topics)
        for (const p of t.partitions)
          check(p.errorCode, `deleting ${groupId} offset of ${t.name}-${p.partitionIndex}`);
    });
  }

  // ---- ACLs and SCRAM credentials ------------------------------------------------------------

  /** CreateAcls: every binding is created, or the first refusal is thrown. Pattern LITERAL and host * unless given. */
  async createAcls(
    bindings: readonly (Omit<AclBinding, 'patternType' | 'host'> &
      Partial<Pick<AclBinding, 'patternType' | 'host'>>)[],
  ): Promise<void> {
    const r = await this.cluster.retry('CreateAcls', async () =>
      (await this.cluster.anyConnection()).request(CreateAcls, {
        creations: bindings.map((b) => ({
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          resourcePatternType: b.patternType ?? AclPatternType.LITERAL,
          principal: b.principal,
          host: b.host ?? '*',
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      }),
    );
    r.results.forEach((res, i) => check(res.errorCode, `creating ACL ${i + 1}`, res.errorMessage));
  }

  /** DescribeAcls: the bindings the filter matches (fields left out match anything). */
  async describeAcls(filter: Partial<AclBindingFilter> = {}): Promise<AclBinding[]> {
    const f = { ...ANY_ACL, ...filter };
    const r = await this.cluster.retry('DescribeAcls', async () =>
      (await this.cluster.anyConnection()).request(DescribeAcls, {
        resourceTypeFilter: f.resourceType,
        resourceNameFilter: f.resourceName,
        patternTypeFilter: f.patternType,
        principalFilter: f.principal,
        hostFilter: f.host,
        operation: f.operation,
        permissionType: f.permissionType,
      }),
    );
    check(r.errorCode, 'describing ACLs', r.errorMessage);
    return r.resources.flatMap((res) =>
      res.acls.map((a) => ({
        resourceType: res.resourceType,
        resourceName: res.resourceName,
        patternType: res.patternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      })),
    );
  }

  /** DeleteAcls: deletes what the filters match; the bindings deleted. */
  async deleteAcls(filters: readonly Partial<AclBindingFilter>[]): Promise<AclBinding[]> {
    const all = filters.map((f) => ({ ...ANY_ACL, ...f }));
    const r = await this.cluster.retry('DeleteAcls', async () =>
      (await this.cluster.anyConnection()).request(DeleteAcls, {
        filters: all.map((f) => ({
          resourceTypeFilter: f.resourceType,
          resourceNameFilter: f.resourceName,
          patternTypeFilter: f.patternType,
          principalFilter: f.principal,
          hostFilter: f.host,
          operation: f.operation,
          permissionType: f.permissionType,
        })),
      }),
    );
    return r.filterResults.flatMap((res, i) => {
      check(res.errorCode, `deleting ACLs (filter ${i + 1})`, res.errorMessage);
      return res.matchingAcls.map((a) => ({
        resourceType: a.resourceType,
        resourceName: a.resourceName,
        patternType: a.patternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      }));
    });
  }

  /** DescribeUserScramCredentials: mechanisms and iterations of the users (all users when none given). */
  async describeUserScramCredentials(users?: readonly string[]): Promise<ScramCredentialInfo[]> {
    const r = await this.cluster.retry('DescribeUserScramCredentials', async () =>
      (await this.cluster.anyConnection()).request(DescribeUserScramCredentials, {
        users: users === undefined ? null : users.map((name) => ({ name })),
      }),
    );
    check(r.errorCode, 'describing SCRAM credentials', r.errorMessage);
    return r.results.flatMap((u) => {
      check(u.errorCode, `describing the SCRAM credentials of ${u.user}`, u.errorMessage);
      return u.credentialInfos.map((c) => ({
        user: u.user,
        mechanism: scramMechanismOfType(c.mechanism) ?? ('SCRAM-SHA-256' as const),
        iterations: c.iterations,
      }));
    });
  }

  /**
   * AlterUserScramCredentials: sets (a password, salted and hashed here) and deletes
   * credentials; the first refusal is thrown.
   */
  async alterUserScramCredentials(changes: {
    upsertions?: readonly ScramUpsertion[];
    deletions?: readonly { user: string; mechanism: ScramMechanism }[];
  }): Promise<void> {
    const upsertions = await Promise.all(
      (changes.upsertions ?? []).map(async (u) => {
        const iterations = u.iterations ?? SCRAM_MIN_ITERATIONS;
        const salt = crypto.randomBytes(32);
        return {
          name: u.user,
          mechanism: scramMechanismType(u.mechanism),
          iterations,
          salt,
          saltedPassword: await scramSaltedPassword(u.mechanism, u.password, salt, iterations),
        };
      }),
    );
    const r = await this.cluster.retry('AlterUserScramCredentials', async () =>
      (await this.cluster.anyConnection()).request(AlterUserScramCredentials, {
        deletions: (changes.deletions ?? []).map((d) => ({
          name: d.user,
          mechanism: scramMechanismType(d.mechanism),
        })),
        upsertions,
      }),
    );
    for (const u of r.results)
      check(u.errorCode, `altering the SCRAM credentials of ${u.user}`, u.errorMessage);
  }

  /**
   * DescribeClientQuotas: the entities with quotas that the filter matches (no components:
   * every entity; strict: only entities with exactly the filtered types).
   */
  async describeClientQuotas(
    filter: { components?: readonly ClientQuotaFilterComponent[]; strict?: boolean } = {},
  ): Promise<ClientQuotaEntry[]> {
    const r = await this.cluster.retry('DescribeClientQuotas', async () =>
      (await this.cluster.anyConnection()).request(DescribeClientQuotas, {
        components: (filter.components ?? []).map((c) => ({
          entityType: c.entityType,
          matchType: c.match === undefined ? 2 : c.match === null ? 1 : 0,
          match: c.match ?? null,
        })),
        strict: filter.strict ?? false,
      }),
    );
    check(r.errorCode, 'describing client quotas', r.errorMessage);
    return (r.entries ?? []).map((e) => ({
      entity: quotaEntityOf(e.entity),
      values: Object.fromEntries(e.values.map((v) => [v.key, v.value])),
    }));
  }

  /** AlterClientQuotas: sets and removes quota keys per entity; the first refusal is thrown. */
  async alterClientQuotas(
    alterations: readonly ClientQuotaAlteration[],
    options: { validateOnly?: boolean } = {},
  ): Promise<void> {
    const r = await this.cluster.retry('AlterClientQuotas', async () =>
      (await this.cluster.anyConnection()).request(AlterClientQuotas, {
        entries: alterations.map((a) => ({
          entity: quotaEntityWire(a.entity),
          ops: a.ops.map((op) => ({ key: op.key, value: op.value ?? 0, remove: op.value === null })),
        })),
        validateOnly: options.validateOnly ?? false,
      }),
    );
    for (const e of r.entries)
      check(
        e.errorCode,
        `altering the quotas of ${e.entity.map((c) => `${c.entityType} ${c.entityName ?? '<default>'}`).join(', ')}`,
        e.errorMessage,
      );
  }

  async close(): Promise<void> {
    if (this.ownsCluster) await this.cluster.close();
  }
}
