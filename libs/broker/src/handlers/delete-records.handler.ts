import { AclOperation, DeleteRecords, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeTopic } from '../security/authorize';
import type { ApiHandler } from './handler';
import { isInternalTopic, unknownPartitionCode } from './produce.handler';
import { failure } from './admin-support';

/** DeleteRecords: moves each partition's logStartOffset forward (DELETE on the topic). */
export function deleteRecordsHandler(ctx: BrokerContext): ApiHandler<typeof DeleteRecords> {
  return {
    api: DeleteRecords,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            if (!authorizeTopic(ctx, connection, AclOperation.DELETE, t.name))
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              };
            // Committed offsets are the coordinator's to remove, as in Kafka.
            if (isInternalTopic(t.name))
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
              };
            const partition = ctx.replicas.get(t.name, p.partitionIndex);
            if (partition === undefined || !partition.isLeader) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode:
                  partition === undefined
                    ? unknownPartitionCode(ctx, t.name, p.partitionIndex)
                    : ErrorCode.NOT_LEADER_OR_FOLLOWER,
              };
            }
            try {
              const lowWatermark = partition.log.deleteRecordsBefore(p.offset);
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE };
            } catch (err) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: failure(err, ctx, 'DeleteRecords').errorCode,
              };
            }
          }),
        })),
      };
    },
  };
}
