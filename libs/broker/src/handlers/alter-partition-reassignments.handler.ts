import { AclOperation, AlterPartitionReassignments, ErrorCode, errorCodeOf } from '@tributary/protocol';
import type { BrokerContext, PartitionResult } from '../broker-context';
import type { ApiHandler } from './handler';
import { authorizeCluster } from '../security/authorize';
import { NOT_CONTROLLER_MESSAGE, NOT_AUTHORIZED, byTopic } from './controller-support';

/**
 * AlterPartitionReassignments (KIP-455): each partition's new replica set, or null to cancel
 * its ongoing reassignment. The controller adds the new replicas, waits until they are in
 * the ISR, then switches the replica set and drops the removed ones.
 */
export function alterPartitionReassignmentsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof AlterPartitionReassignments> {
  return {
    api: AlterPartitionReassignments,
    async handle(request, { connection }) {
      const asked = request.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas })),
      );
      let errorCode: number = ErrorCode.NONE;
      let errorMessage: string | null = null;
      let results: PartitionResult[] = [];
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER)) {
        errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        errorMessage = NOT_AUTHORIZED;
        results = asked.map((p) => ({ ...p, errorCode, errorMessage }));
      } else if (!ctx.controller.isController()) {
        errorCode = ErrorCode.NOT_CONTROLLER;
        errorMessage = NOT_CONTROLLER_MESSAGE;
        results = asked.map((p) => ({ ...p, errorCode, errorMessage }));
      } else {
        try {
          results = await ctx.controller.alterReassignments(asked);
        } catch (err) {
          errorCode = errorCodeOf(err);
          errorMessage = (err as Error).message;
          results = asked.map((p) => ({ ...p, errorCode, errorMessage }));
        }
      }
      return {
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        responses: [...byTopic(results)].map(([name, partitions]) => ({
          name,
          partitions: partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode: p.errorCode,
            errorMessage: p.errorMessage,
          })),
        })),
      };
    },
  };
}
