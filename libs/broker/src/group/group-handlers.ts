import {
  AclOperation,
  AclResourceType,
  DeleteGroups,
  DescribeGroups,
  ErrorCode,
  FindCoordinator,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  SyncGroup,
  TxnOffsetCommit,
} from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from '../handlers/handler';
import type { Connection } from '../network/connection';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  authorizeCluster,
  authorizedOperations,
  authorizeGroup,
  authorizeTopic,
  authorizeTransactionalId,
} from '../security/authorize';
import type { TransactionCoordinator } from '../txn/transaction-coordinator';
import { joinError, syncError, type Protocol } from './group';
import type { FetchedOffset, GroupCoordinator, OffsetToCommit } from './group-coordinator';
import { OFFSETS_TOPIC, type GroupStore } from './group-store';
import { TRANSACTION_STATE_TOPIC } from '../txn/transaction-log';

/** Kafka's offsets.commit.timeout.ms: how long a commit waits for the ISR. */
const OFFSET_COMMIT_TIMEOUT_MS = 5000;

/** FindCoordinator key types. */
export const CoordinatorType = { GROUP: 0, TRANSACTION: 1 } as const;

interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * Every group API, served by the coordinator, and FindCoordinator for transactions too. With
 * an authorizer, as Kafka maps them: FindCoordinator and DescribeGroups need DESCRIBE on the
 * group (on the transactional id for a transaction coordinator), JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit and TxnOffsetCommit READ, OffsetFetch DESCRIBE,
 * DeleteGroups and OffsetDelete DELETE (else GROUP_AUTHORIZATION_FAILED); committing needs
 * READ on each topic and fetching DESCRIBE (else TOPIC_AUTHORIZATION_FAILED), and
 * TxnOffsetCommit WRITE on its transactional id; ListGroups lists every group for DESCRIBE
 * on the cluster, else those the principal may DESCRIBE.
 */
export function groupHandlers(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
  store: GroupStore,
  txn: TransactionCoordinator,
): ApiHandler[] {
  return [
    findCoordinatorHandler(ctx, coordinator, store, txn),
    joinGroupHandler(ctx, coordinator),
    syncGroupHandler(ctx, coordinator),
    heartbeatHandler(ctx, coordinator),
    leaveGroupHandler(ctx, coordinator),
    offsetCommitHandler(ctx, coordinator, store),
    txnOffsetCommitHandler(ctx, coordinator, store),
    offsetFetchHandler(ctx, coordinator),
    listGroupsHandler(ctx, coordinator),
    describeGroupsHandler(ctx, coordinator),
    deleteGroupsHandler(ctx, coordinator),
    offsetDeleteHandler(ctx, coordinator),
  ] as ApiHandler[];
}

/**
 * A group's coordinator is the leader of its partition of __consumer_offsets, a transactional
 * id's the leader of its partition of __transaction_state (a lone broker leads them all).
 * The topic is created on first use, with min(replication factor, brokers) replicas in a
 * cluster; until it has leaders the answer is COORDINATOR_NOT_AVAILABLE, which clients retry.
 */
export function findCoordinatorHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
  store: GroupStore,
  txn: TransactionCoordinator,
): ApiHandler<typeof FindCoordinator> {
  return {
    api: FindCoordinator,
    handle(request, { apiVersion, connection }) {
      const brokers = ctx.cluster.brokers(connection);
      const find = (key: string) => {
        const none = { key, nodeId: -1, host: '', port: -1 };
        const fail = (errorCode: number, errorMessage: string) => ({ ...none, errorCode, errorMessage });
        let topic: string;
        let partition: () => number;
        let ensureTopic: () => boolean;
        if (request.keyType === CoordinatorType.GROUP) {
          if (!authorizeGroup(ctx, connection, AclOperation.DESCRIBE, key))
            return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, `not authorized: DESCRIBE on group ${key}`);
          if (!coordinator.isActive)
            return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is not available');
          topic = OFFSETS_TOPIC;
          partition = () => store.partitionFor(key);
          ensureTopic = () => store.ensureTopic();
        } else if (request.keyType === CoordinatorType.TRANSACTION) {
          if (!authorizeTransactionalId(ctx, connection, AclOperation.DESCRIBE, key))
            return fail(
              ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
              `not authorized: DESCRIBE on transactional id ${key}`,
            );
          if (!txn.isActive)
            return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the transaction coordinator is not available');
          topic = TRANSACTION_STATE_TOPIC;
          partition = () => txn.partitionFor(key);
          ensureTopic = () => txn.stateManager.ensureTopic();
        } else {
          return fail(ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${request.keyType}`);
        }
        const unavailable = () => fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${topic} is not available yet`);
        try {
          if (!ensureTopic()) return unavailable();
        } catch (err) {
          ctx.logger.error(`creating ${topic} failed: ${(err as Error).message}`);
          return unavailable();
        }
        const leader = ctx.cluster.leadership(topic, partition()).leaderId;
        const node = brokers.find((b) => b.nodeId === leader);
        if (node === undefined) return unavailable();
        return {
          key,
          nodeId: node.nodeId,
          host: node.host,
          port: node.port,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
        };
      };
      if (apiVersion >= 4) return { throttleTimeMs: 0, coordinators: request.coordinatorKeys.map(find) };
      const { nodeId, host, port, errorCode, errorMessage } = find(request.key);
      return { throttleTimeMs: 0, errorCode, errorMessage, nodeId, host, port };
    },
  };
}

/** A protocol named twice counts once (its first metadata), so that votes stay one per member. */
function distinctProtocols(protocols: readonly { name: string; metadata: Buffer }[]): Protocol[] {
  const seen = new Set<string>();
  const out: Protocol[] = [];
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, metadata: Buffer.from(p.metadata) });
  }
  return out;
}

export function joinGroupHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof JoinGroup> {
  return {
    api: JoinGroup,
    async handle(request, { apiVersion, header, connection }) {
      const allowed = authorizeGroup(ctx, connection, AclOperation.READ, request.groupId);
      const result = !allowed
        ? joinError('', ErrorCode.GROUP_AUTHORIZATION_FAILED)
        : await coordinator.joinGroup({
            groupId: request.groupId,
            memberId: request.memberId,
            groupInstanceId: request.groupInstanceId,
            clientId: header.clientId ?? '',
            clientHost: `/${connection.remoteAddress.replace(/^::ffff:/, '')}`,
            sessionTimeoutMs: request.sessionTimeoutMs,
            // v0 had one timeout for both.
            rebalanceTimeoutMs: apiVersion === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
            protocolType: request.protocolType,
            protocols: distinctProtocols(request.protocols),
            requireKnownMemberId: apiVersion >= 4 && request.groupInstanceId === null,
            supportSkippingAssignment: apiVersion >= 9,
            reason: request.reason,
          });
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        generationId: result.generationId,
        protocolType: result.protocolType,
        // Not nullable before v7.
        protocolName: apiVersion < 7 ? (result.protocolName ?? '') : result.protocolName,
        leader: result.leaderId,
        skipAssignment: result.skipAssignment,
        memberId: result.memberId,
        members: result.members.map((m) => ({ ...m })),
      };
    },
  };
}

export function syncGroupHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof SyncGroup> {
  return {
    api: SyncGroup,
    async handle(request, { connection }) {
      if (!authorizeGroup(ctx, connection, AclOperation.READ, request.groupId))
        return { throttleTimeMs: 0, ...syncError(ErrorCode.GROUP_AUTHORIZATION_FAILED) };
      const result = await coordinator.syncGroup({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId,
        protocolType: request.protocolType,
        protocolName: request.protocolName,
        assignments: request.assignments,
      });
      return { throttleTimeMs: 0, ...result };
    },
  };
}

export function heartbeatHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof Heartbeat> {
  return {
    api: Heartbeat,
    handle(request, { connection }) {
      if (!authorizeGroup(ctx, connection, AclOperation.READ, request.groupId))
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
      const errorCode = coordinator.heartbeat(
        request.groupId,
        request.memberId,
        request.groupInstanceId,
        request.generationId,
      );
      return { throttleTimeMs: 0, errorCode };
    },
  };
}

export function leaveGroupHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof LeaveGroup> {
  return {
    api: LeaveGroup,
    handle(request, { apiVersion, connection }) {
      if (!authorizeGroup(ctx, connection, AclOperation.READ, request.groupId))
        return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
      const leaving =
        apiVersion >= 3
          ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
          : [{ memberId: request.memberId, groupInstanceId: null }];
      if (apiVersion >= 3 && leaving.length === 0) {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, members: [] };
      }
      const result = coordinator.leaveGroup(request.groupId, leaving);
      if (apiVersion >= 3) return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
      // One member before v3: its error is the answer's.
      const errorCode =
        result.errorCode !== ErrorCode.NONE
          ? result.errorCode
          : (result.members[0]?.errorCode ?? ErrorCode.NONE);
      return { throttleTimeMs: 0, errorCode };
    },
  };
}

/** Groups partitions by topic, keeping the order in which topics first appear. */
function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    let list = out.get(item.topic);
    if (list === undefined) {
      list = [];
      out.set(item.topic, list);
    }
    list.push(item);
  }
  return out;
}

/** Waits until the ISR of the group's partition has everything appended so far; the commit's error code. */
async function waitForReplication(ctx: BrokerContext, store: GroupStore, groupId: string): Promise<number> {
  if (!ctx.replicas.replicated) return ErrorCode.NONE;
  const partition = ctx.replicas.get(OFFSETS_TOPIC, store.partitionFor(groupId));
  if (partition === undefined) return ErrorCode.NOT_COORDINATOR;
  const code = await partition.waitForReplication(partition.log.logEndOffset, OFFSET_COMMIT_TIMEOUT_MS);
  switch (code) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
      return ErrorCode.NOT_COORDINATOR;
    default:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }
}

function partitionExists(ctx: BrokerContext, topic: string, partition: number): boolean {
  const t = ctx.cluster.topic(topic);
  return t !== undefined && partition >= 0 && partition < t.numPartitions;
}

/**
 * OffsetCommit. In a replicated cluster the commit is answered, and becomes what OffsetFetch
 * returns, once the ISR of its __consumer_offsets partition has it (Kafka appends commits with
 * acks=all), so a committed offset survives the coordinator's failover and no reader sees one
 * that a failover takes back.
 */
export function offsetCommitHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
  store: GroupStore,
): ApiHandler<typeof OffsetCommit> {
  const maxMetadata = coordinator.config.offsetMetadataMaxBytes;
  return {
    api: OffsetCommit,
    async handle(request, { apiVersion, connection }) {
      const errors = new Map<string, number>();
      const valid: OffsetToCommit[] = [];
      const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
      const groupAllowed = authorizeGroup(ctx, connection, AclOperation.READ, request.groupId);
      for (const t of request.topics) {
        const topicAllowed = groupAllowed && authorizeTopic(ctx, connection, AclOperation.READ, t.name);
        for (const p of t.partitions) {
          const metadata = p.committedMetadata ?? '';
          if (!groupAllowed) {
            errors.set(key(t.name, p.partitionIndex), ErrorCode.GROUP_AUTHORIZATION_FAILED);
          } else if (!topicAllowed) {
            errors.set(key(t.name, p.partitionIndex), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          } else if (!partitionExists(ctx, t.name, p.partitionIndex)) {
            errors.set(key(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          } else if (metadata.length > maxMetadata) {
            errors.set(key(t.name, p.partitionIndex), ErrorCode.OFFSET_METADATA_TOO_LARGE);
          } else {
            valid.push({
              topic: t.name,
              partition: p.partitionIndex,
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata,
              commitTimestamp: apiVersion === 1 ? p.commitTimestamp : -1,
            });
          }
        }
      }
      if (valid.length > 0) {
        const commit = coordinator.commitOffsets({
          groupId: request.groupId,
          memberId: request.memberId,
          groupInstanceId: request.groupInstanceId,
          generationId: request.generationIdOrMemberEpoch,
          retentionTimeMs: apiVersion >= 2 && apiVersion <= 4 ? request.retentionTimeMs : -1,
          offsets: valid,
        });
        const replicated =
          commit.errorCode === ErrorCode.NONE
            ? await waitForReplication(ctx, store, request.groupId)
            : commit.errorCode;
        if (replicated === ErrorCode.NONE) commit.complete();
        for (const o of valid) errors.set(key(o.topic, o.partition), replicated);
      }
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: errors.get(key(t.name, p.partitionIndex)) ?? ErrorCode.NONE,
          })),
        })),
      };
    },
  };
}

/**
 * TxnOffsetCommit (Kafka's handleTxnOffsetCommitRequest): WRITE on the transactional id
 * (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group and each topic; the
 * offsets are written into the producer's transaction and answered once the ISR of the
 * group's partition has them, as OffsetCommit is.
 */
export function txnOffsetCommitHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
  store: GroupStore,
): ApiHandler<typeof TxnOffsetCommit> {
  const maxMetadata = coordinator.config.offsetMetadataMaxBytes;
  return {
    api: TxnOffsetCommit,
    async handle(request, { connection }) {
      const errors = new Map<string, number>();
      const valid: OffsetToCommit[] = [];
      const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
      const txnAllowed = authorizeTransactionalId(
        ctx,
        connection,
        AclOperation.WRITE,
        request.transactionalId,
      );
      const groupAllowed = txnAllowed && authorizeGroup(ctx, connection, AclOperation.READ, request.groupId);
      for (const t of request.topics) {
        const topicAllowed = groupAllowed && authorizeTopic(ctx, connection, AclOperation.READ, t.name);
        for (const p of t.partitions) {
          const k = key(t.name, p.partitionIndex);
          const metadata = p.committedMetadata ?? '';
          if (!txnAllowed) errors.set(k, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
          else if (!groupAllowed) errors.set(k, ErrorCode.GROUP_AUTHORIZATION_FAILED);
          else if (!topicAllowed) errors.set(k, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          else if (!partitionExists(ctx, t.name, p.partitionIndex))
            errors.set(k, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          else if (metadata.length > maxMetadata) errors.set(k, ErrorCode.OFFSET_METADATA_TOO_LARGE);
          else
            valid.push({
              topic: t.name,
              partition: p.partitionIndex,
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata,
              commitTimestamp: -1,
            });
        }
      }
      if (valid.length > 0) {
        const code = coordinator.commitTransactionalOffsets({
          groupId: request.groupId,
          producerId: request.producerId,
          producerEpoch: request.producerEpoch,
          memberId: request.memberId,
          groupInstanceId: request.groupInstanceId,
          generationId: request.generationId,
          offsets: valid,
        });
        const replicated =
          code === ErrorCode.NONE ? await waitForReplication(ctx, store, request.groupId) : code;
        for (const o of valid) errors.set(key(o.topic, o.partition), replicated);
      }
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: errors.get(key(t.name, p.partitionIndex)) ?? ErrorCode.NONE,
          })),
        })),
      };
    },
  };
}

export function offsetFetchHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof OffsetFetch> {
  const fetchGroup = (
    connection: Connection,
    groupId: string,
    topics: readonly { name: string; partitionIndexes: number[] }[] | null,
    requireStable: boolean,
  ): { errorCode: number; topics: { name: string; partitions: FetchedOffset[] }[] } => {
    const wanted: TopicPartition[] | null =
      topics === null
        ? null
        : topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })));
    if (!authorizeGroup(ctx, connection, AclOperation.DESCRIBE, groupId)) {
      const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      const listed = (wanted ?? []).map((tp) => ({
        ...tp,
        offset: -1,
        leaderEpoch: -1,
        metadata: '',
        errorCode,
      }));
      return { errorCode, topics: [...byTopic(listed)].map(([name, partitions]) => ({ name, partitions })) };
    }
    const described = (topic: string) => authorizeTopic(ctx, connection, AclOperation.DESCRIBE, topic);
    const asked = wanted?.filter((tp) => described(tp.topic)) ?? null;
    const result = coordinator.fetchOffsets(groupId, asked, requireStable);
    const errorCode = result.errorCode;
    // Topics it may not describe: refused by name when asked for, left out of "every topic".
    const offsets =
      wanted === null
        ? result.offsets.filter((o) => described(o.topic))
        : [
            ...result.offsets,
            ...wanted
              .filter((tp) => !described(tp.topic))
              .map((tp) => ({
                ...tp,
                offset: -1,
                leaderEpoch: -1,
                metadata: '',
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              })),
          ];
    // A group-level error is every partition's error for the versions without a group-level field.
    const listed: FetchedOffset[] =
      errorCode === ErrorCode.NONE
        ? offsets
        : (wanted ?? []).map((tp) => ({ ...tp, offset: -1, leaderEpoch: -1, metadata: '', errorCode }));
    return {
      errorCode,
      topics: [...byTopic(listed)].map(([name, partitions]) => ({ name, partitions })),
    };
  };
  const partitionsOut = (partitions: readonly FetchedOffset[]) =>
    partitions.map((p) => ({
      partitionIndex: p.partition,
      committedOffset: p.offset,
      committedLeaderEpoch: p.leaderEpoch,
      metadata: p.metadata,
      errorCode: p.errorCode,
    }));
  return {
    api: OffsetFetch,
    handle(request, { apiVersion, connection }) {
      if (apiVersion >= 8) {
        return {
          throttleTimeMs: 0,
          groups: request.groups.map((g) => {
            const r = fetchGroup(connection, g.groupId, g.topics, request.requireStable);
            return {
              groupId: g.groupId,
              errorCode: r.errorCode,
              topics: r.topics.map((t) => ({ name: t.name, partitions: partitionsOut(t.partitions) })),
            };
          }),
        };
      }
      // v0 and v1 have no "all topics" form: their topic list is never null.
      const r = fetchGroup(
        connection,
        request.groupId,
        request.topics,
        apiVersion >= 7 && request.requireStable,
      );
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        topics: r.topics.map((t) => ({ name: t.name, partitions: partitionsOut(t.partitions) })),
      };
    },
  };
}

export function listGroupsHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof ListGroups> {
  return {
    api: ListGroups,
    handle(request, { apiVersion, connection }) {
      const result = coordinator.listGroups(apiVersion >= 4 ? request.statesFilter : []);
      const all = authorizeCluster(ctx, connection, AclOperation.DESCRIBE);
      return {
        throttleTimeMs: 0,
        errorCode: result.errorCode,
        groups: result.groups
          .filter((g) => all || authorizeGroup(ctx, connection, AclOperation.DESCRIBE, g.groupId))
          .map((g) => ({
            groupId: g.groupId,
            protocolType: g.protocolType,
            groupState: g.state,
          })),
      };
    },
  };
}

export function describeGroupsHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof DescribeGroups> {
  return {
    api: DescribeGroups,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        groups: request.groups.map((groupId) => {
          if (!authorizeGroup(ctx, connection, AclOperation.DESCRIBE, groupId))
            return {
              errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
              groupId,
              groupState: '',
              protocolType: '',
              protocolData: '',
              members: [],
              authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
            };
          const d = coordinator.describeGroup(groupId);
          return {
            errorCode: d.errorCode,
            groupId: d.groupId,
            groupState: d.state,
            protocolType: d.protocolType,
            protocolData: d.protocol,
            members: d.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              memberMetadata: m.metadata,
              memberAssignment: m.assignment,
            })),
            authorizedOperations: request.includeAuthorizedOperations
              ? authorizedOperations(ctx, connection, AclResourceType.GROUP, groupId)
              : AUTHORIZED_OPERATIONS_OMITTED,
          };
        }),
      };
    },
  };
}

export function deleteGroupsHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof DeleteGroups> {
  return {
    api: DeleteGroups,
    handle(request, { connection }) {
      const allowed = (g: string) => authorizeGroup(ctx, connection, AclOperation.DELETE, g);
      const results = coordinator.deleteGroups(request.groupsNames.filter(allowed));
      return {
        throttleTimeMs: 0,
        results: request.groupsNames.map((groupId) => ({
          groupId,
          errorCode: allowed(groupId)
            ? (results.get(groupId) ?? ErrorCode.NONE)
            : ErrorCode.GROUP_AUTHORIZATION_FAILED,
        })),
      };
    },
  };
}

export function offsetDeleteHandler(
  ctx: BrokerContext,
  coordinator: GroupCoordinator,
): ApiHandler<typeof OffsetDelete> {
  return {
    api: OffsetDelete,
    handle(request, { connection }) {
      if (!authorizeGroup(ctx, connection, AclOperation.DELETE, request.groupId))
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
      const errors = new Map<string, number>();
      const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
      const known: TopicPartition[] = [];
      for (const t of request.topics) {
        const topicAllowed = authorizeTopic(ctx, connection, AclOperation.READ, t.name);
        for (const p of t.partitions) {
          if (!topicAllowed) errors.set(key(t.name, p.partitionIndex), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          else if (partitionExists(ctx, t.name, p.partitionIndex))
            known.push({ topic: t.name, partition: p.partitionIndex });
          else errors.set(key(t.name, p.partitionIndex), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        }
      }
      const result = coordinator.deleteOffsets(request.groupId, known);
      if (result.errorCode !== ErrorCode.NONE)
        return { errorCode: result.errorCode, throttleTimeMs: 0, topics: [] };
      for (const p of result.partitions) errors.set(key(p.topic, p.partition), p.errorCode);
      return {
        errorCode: ErrorCode.NONE,
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: errors.get(key(t.name, p.partitionIndex)) ?? ErrorCode.NONE,
          })),
        })),
      };
    },
  };
}
