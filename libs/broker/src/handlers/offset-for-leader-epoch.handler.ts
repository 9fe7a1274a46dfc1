import { AclOperation, ErrorCode, OffsetForLeaderEpoch } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeCluster, authorizeTopic } from '../security/authorize';
import { leaderEpochError } from './fetch.handler';
import type { ApiHandler } from './handler';
import { unknownPartitionCode } from './produce.handler';

/**
 * OffsetForLeaderEpoch (KIP-101, KIP-320): where a leader epoch ended in the leader's log
 * (the log end for the current epoch, else the start of the next), with the largest epoch
 * at or below the one asked for; -1, -1 for an epoch older than the log. A replica that
 * diverged truncates there; consumers check their position after a leader change. Answered
 * by the leader only, with the currentLeaderEpoch check of v2+. With an authorizer, as in
 * Kafka, CLUSTER_ACTION (brokers) or DESCRIBE on the topic is needed, else TOPIC_AUTHORIZATION_FAILED.
 */
export function offsetForLeaderEpochHandler(ctx: BrokerContext): ApiHandler<typeof OffsetForLeaderEpoch> {
  return {
    api: OffsetForLeaderEpoch,
    handle(request, { connection }) {
      const clusterAction = authorizeCluster(ctx, connection, AclOperation.CLUSTER_ACTION);
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => {
          const topicAllowed =
            clusterAction || authorizeTopic(ctx, connection, AclOperation.DESCRIBE, t.topic);
          return {
            topic: t.topic,
            partitions: t.partitions.map((p) => {
              const fail = (errorCode: number) => ({
                errorCode,
                partition: p.partition,
                leaderEpoch: -1,
                endOffset: -1,
              });
              if (!topicAllowed) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
              const partition = ctx.replicas.get(t.topic, p.partition);
              if (partition === undefined) return fail(unknownPartitionCode(ctx, t.topic, p.partition));
              if (!partition.log.isOnline) return fail(ErrorCode.KAFKA_STORAGE_ERROR);
              const epochError = leaderEpochError(partition, p.currentLeaderEpoch);
              if (epochError !== ErrorCode.NONE) return fail(epochError);
              if (!partition.isLeader) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
              try {
                const end = partition.log.endOffsetForEpoch(p.leaderEpoch);
                return { errorCode: ErrorCode.NONE, partition: p.partition, ...end };
              } catch {
                return fail(ErrorCode.KAFKA_STORAGE_ERROR);
              }
            }),
          };
        }),
      };
    },
  };
}
