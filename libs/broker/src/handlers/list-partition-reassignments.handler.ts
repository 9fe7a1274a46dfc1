import { AclOperation, ErrorCode, ListPartitionReassignments } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from './handler';
import { authorizeCluster } from '../security/authorize';
import { NOT_CONTROLLER_MESSAGE, byTopic } from './controller-support';

/** ListPartitionReassignments: the ongoing reassignments (of the partitions asked about, or all). */
export function listPartitionReassignmentsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof ListPartitionReassignments> {
  return {
    api: ListPartitionReassignments,
    handle(request, { connection }) {
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE)) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'not authorized: this needs DESCRIBE on the cluster',
          topics: [],
        };
      }
      if (!ctx.controller.isController()) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: NOT_CONTROLLER_MESSAGE,
          topics: [],
        };
      }
      const asked =
        request.topics?.flatMap((t) =>
          t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
        ) ?? null;
      const ongoing = ctx.controller.listReassignments(asked);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topics: [...byTopic(ongoing)].map(([name, partitions]) => ({
          name,
          partitions: partitions.map((p) => ({
            partitionIndex: p.partition,
            replicas: [...p.replicas],
            addingReplicas: [...p.addingReplicas],
            removingReplicas: [...p.removingReplicas],
          })),
        })),
      };
    },
  };
}
