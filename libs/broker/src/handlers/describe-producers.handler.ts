import { AclOperation, DescribeProducers, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeTopic } from '../security/authorize';
import type { ApiHandler } from './handler';
import { unknownPartitionCode } from './produce.handler';

/**
 * DescribeProducers (KIP-664): the idempotent and transactional producers a partition's
 * leader knows, with their epoch, last sequence, last timestamp, the coordinator epoch of
 * their last transaction marker and where their open transaction started (-1: none), as
 * kafka-transactions.sh describe-producers shows them.
 */
export function describeProducersHandler(ctx: BrokerContext): ApiHandler<typeof DescribeProducers> {
  return {
    api: DescribeProducers,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => {
          const allowed = authorizeTopic(ctx, connection, AclOperation.READ, t.name);
          return {
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => {
              const failed = (errorCode: number, errorMessage: string | null = null) => ({
                partitionIndex,
                errorCode,
                errorMessage,
                activeProducers: [],
              });
              if (!allowed) return failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
              const partition = ctx.replicas.get(t.name, partitionIndex);
              if (partition === undefined) return failed(unknownPartitionCode(ctx, t.name, partitionIndex));
              if (!partition.isLeader)
                return failed(
                  ErrorCode.NOT_LEADER_OR_FOLLOWER,
                  `broker ${ctx.config.nodeId} does not lead it`,
                );
              return {
                partitionIndex,
                errorCode: ErrorCode.NONE,
                errorMessage: null,
                activeProducers: partition.log.activeProducers().map((p) => {
                  const last = p.batches.at(-1);
                  return {
                    producerId: p.producerId,
                    producerEpoch: p.epoch,
                    lastSequence: last?.lastSeq ?? -1,
                    lastTimestamp: p.lastTimestamp,
                    coordinatorEpoch: p.coordinatorEpoch,
                    currentTxnStartOffset: p.currentTxnFirstOffset,
                  };
                }),
              };
            }),
          };
        }),
      };
    },
  };
}
