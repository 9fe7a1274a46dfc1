import { AclOperation, ErrorCode, WriteTxnMarkers } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { TxnMarkerEntry } from '../replica/replica-manager';
import { authorizeCluster } from '../security/authorize';
import type { ApiHandler } from './handler';
import { unknownPartitionCode } from './produce.handler';

/**
 * WriteTxnMarkers (key 27): a transaction coordinator on another broker ends a transaction on
 * the partitions this broker leads. Each marker becomes one control batch per partition
 * (ReplicaManager.writeTxnMarkers), answered once the ISR has it, with Kafka's errors per
 * partition: INVALID_PRODUCER_EPOCH and TRANSACTION_COORDINATOR_FENCED for a stale producer
 * or coordinator, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, UNKNOWN_TOPIC_OR_PARTITION...
 * Brokers only: with an authorizer it needs CLUSTER_ACTION on the cluster, else every
 * partition is CLUSTER_AUTHORIZATION_FAILED and nothing is written.
 */
export function writeTxnMarkersHandler(ctx: BrokerContext): ApiHandler<typeof WriteTxnMarkers> {
  return {
    api: WriteTxnMarkers,
    async handle(request, { connection }) {
      const authorized = authorizeCluster(ctx, connection, AclOperation.CLUSTER_ACTION);
      // Partitions this broker holds go to the replica manager; the others are answered here.
      const codes = request.markers.map((m) =>
        m.topics.map((t) =>
          t.partitionIndexes.map((partition) => {
            if (!authorized) return ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
            return ctx.replicas.get(t.name, partition) === undefined
              ? unknownPartitionCode(ctx, t.name, partition)
              : null;
          }),
        ),
      );
      const entries: TxnMarkerEntry[] = request.markers.map((m, i) => ({
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        committed: m.transactionResult,
        partitions: m.topics.flatMap((t, j) =>
          t.partitionIndexes
            .filter((_, k) => codes[i][j][k] === null)
            .map((partition) => ({ topic: t.name, partition })),
        ),
      }));
      const results = await ctx.replicas.writeTxnMarkers(entries);
      return {
        markers: request.markers.map((m, i) => {
          const written = results[i].partitions;
          let next = 0;
          return {
            producerId: m.producerId,
            topics: m.topics.map((t, j) => ({
              name: t.name,
              partitions: t.partitionIndexes.map((partitionIndex, k) => ({
                partitionIndex,
                errorCode: codes[i][j][k] ?? written[next++].errorCode,
              })),
            })),
          };
        }),
      };
    },
  };
}
