import { ErrorCode, KafkaProtocolError, OffsetCommit, OffsetFetch } from '@tributary/protocol';
import type { Cluster } from '../cluster/cluster';

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata?: string | null;
  readonly leaderEpoch?: number;
}

export interface CommitIdentity {
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

/** A simple commit from outside the group (admin offset resets, tools): generation -1. */
export const NO_MEMBER: CommitIdentity = { generationId: -1, memberId: '', groupInstanceId: null };

/** Items grouped by topic, in first-seen order, as requests nest them. */
export function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const i of items) out.set(i.topic, [...(out.get(i.topic) ?? []), i]);
  return out;
}

/** OffsetCommit to the group's coordinator; throws the first partition error. */
export async function commitOffsets(
  cluster: Cluster,
  coordinator: number,
  groupId: string,
  identity: CommitIdentity,
  offsets: readonly TopicPartitionOffset[],
): Promise<void> {
  if (offsets.length === 0) return;
  const r = await cluster.send(coordinator, OffsetCommit, {
    groupId,
    generationIdOrMemberEpoch: identity.generationId,
    memberId: identity.memberId,
    groupInstanceId: identity.groupInstanceId,
    topics: [...byTopic(offsets)].map(([name, list]) => ({
      name,
      partitions: list.map((o) => ({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: o.leaderEpoch ?? -1,
        committedMetadata: o.metadata ?? null,
      })),
    })),
  });
  for (const t of r.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE) {
        throw new KafkaProtocolError(
          p.errorCode,
          `committing ${groupId} offsets for ${t.name}-${p.partitionIndex}`,
        );
      }
    }
  }
}

/**
 * OffsetFetch from the group's coordinator: the committed offset of each partition (-1 when
 * none). `partitions` null asks for every partition the group has committed.
 */
export async function fetchOffsets(
  cluster: Cluster,
  coordinator: number,
  groupId: string,
  partitions: readonly { topic: string; partition: number }[] | null,
): Promise<TopicPartitionOffset[]> {
  const conn = await cluster.connection(coordinator);
  const version = conn.versionFor(OffsetFetch);
  const topics =
    partitions === null
      ? null
      : [...byTopic(partitions)].map(([name, list]) => ({
          name,
          partitionIndexes: list.map((p) => p.partition),
        }));
  const r = await conn.request(OffsetFetch, {
    groupId,
    topics,
    groups: [{ groupId, topics }],
    requireStable: false,
  });
  const group =
    version >= 8 ? r.groups[0] : { errorCode: version >= 2 ? r.errorCode : ErrorCode.NONE, topics: r.topics };
  if (group === undefined)
    throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, `no OffsetFetch answer for ${groupId}`);
  if (group.errorCode !== ErrorCode.NONE)
    throw new KafkaProtocolError(group.errorCode, `fetching ${groupId} offsets`);
  const out: TopicPartitionOffset[] = [];
  for (const t of group.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== ErrorCode.NONE) {
        throw new KafkaProtocolError(
          p.errorCode,
          `fetching ${groupId} offset for ${t.name}-${p.partitionIndex}`,
        );
      }
      out.push({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.metadata,
        leaderEpoch: p.committedLeaderEpoch,
      });
    }
  }
  return out;
}
