import { AclOperation, ErrorCode, errorCodeOf, KafkaProtocolError, ListOffsets } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeTopic } from '../security/authorize';
import { leaderEpochError } from './fetch.handler';
import type { ApiHandler } from './handler';
import { unknownPartitionCode } from './produce.handler';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

/**
 * ListOffsets: earliest, latest, by timestamp, max timestamp (v7). What a client may read
 * bounds the answers (Kafka's lastFetchableOffset): the high watermark, the last stable
 * offset with isolation_level 1 (read_committed, v2+), the log end for followers; latest is
 * that offset, and a timestamp look-up finding a record at or past it answers none. Answered
 * by the leader only, with the currentLeaderEpoch check of v4+. With an authorizer each topic
 * needs DESCRIBE.
 */
export function listOffsetsHandler(ctx: BrokerContext): ApiHandler<typeof ListOffsets> {
  return {
    api: ListOffsets,
    handle(request, { apiVersion, connection }) {
      const isFollower = request.replicaId >= 0;
      const readCommitted = request.isolationLevel === 1;
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => {
          const authorized = authorizeTopic(ctx, connection, AclOperation.DESCRIBE, t.name);
          return {
            name: t.name,
            partitions: t.partitions.map((p) => {
              const base = { partitionIndex: p.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1 };
              if (!authorized)
                return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [] };
              const partition = ctx.replicas.get(t.name, p.partitionIndex);
              if (partition === undefined)
                return {
                  ...base,
                  errorCode: unknownPartitionCode(ctx, t.name, p.partitionIndex),
                  oldStyleOffsets: [],
                };
              const log = partition.log;
              try {
                log.ensureOnline();
                const epochError = leaderEpochError(partition, p.currentLeaderEpoch);
                if (epochError !== ErrorCode.NONE)
                  throw new KafkaProtocolError(epochError, `${t.name}-${p.partitionIndex}`);
                if (!partition.isLeader) {
                  throw new KafkaProtocolError(
                    ErrorCode.NOT_LEADER_OR_FOLLOWER,
                    `this broker does not lead ${t.name}-${p.partitionIndex}`,
                  );
                }
                const leaderEpoch = partition.leaderEpoch;
                const lastFetchable = isFollower
                  ? log.logEndOffset
                  : readCommitted
                    ? log.lastStableOffset
                    : log.highWatermark;
                let found: { offset: number; timestamp: number } | null;
                if (p.timestamp === LATEST) {
                  found = { offset: lastFetchable, timestamp: -1 };
                } else if (p.timestamp === EARLIEST) {
                  found = { offset: log.logStartOffset, timestamp: -1 };
                } else if (p.timestamp === MAX_TIMESTAMP) {
                  found = log.offsetOfMaxTimestamp();
                } else if (p.timestamp < 0) {
                  throw KafkaProtocolError.invalidRequest(
                    `timestamp ${p.timestamp} is not a time or -1, -2, -3`,
                  );
                } else {
                  found = log.offsetForTimestamp(p.timestamp);
                }
                if (
                  p.timestamp !== LATEST &&
                  p.timestamp !== EARLIEST &&
                  found !== null &&
                  found.offset >= lastFetchable
                )
                  found = null;
                const offset = found?.offset ?? -1;
                return {
                  ...base,
                  errorCode: ErrorCode.NONE,
                  timestamp: found?.timestamp ?? -1,
                  offset,
                  leaderEpoch: found === null ? -1 : leaderEpoch,
                  oldStyleOffsets: apiVersion === 0 && offset >= 0 ? [offset] : [],
                };
              } catch (err) {
                return { ...base, errorCode: errorCodeOf(err), oldStyleOffsets: [] };
              }
            }),
          };
        }),
      };
    },
  };
}
