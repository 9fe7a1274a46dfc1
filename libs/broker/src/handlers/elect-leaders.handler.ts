import { AclOperation, ElectLeaders, ErrorCode, errorCodeOf } from '@tributary/protocol';
import { ElectionType, type BrokerContext, type PartitionResult } from '../broker-context';
import type { ApiHandler } from './handler';
import { authorizeCluster } from '../security/authorize';
import { NOT_CONTROLLER_MESSAGE, NOT_AUTHORIZED, byTopic } from './controller-support';

/**
 * ElectLeaders (kafka-leader-election): PREFERRED moves leadership to each partition's first
 * replica when it is alive and in the ISR (ELECTION_NOT_NEEDED when it already leads,
 * PREFERRED_LEADER_NOT_AVAILABLE otherwise); UNCLEAN gives a partition without a leader any
 * live replica, possibly losing records (ELIGIBLE_LEADERS_NOT_AVAILABLE when none is alive).
 * Served by the controller; other brokers answer NOT_CONTROLLER.
 */
export function electLeadersHandler(ctx: BrokerContext): ApiHandler<typeof ElectLeaders> {
  return {
    api: ElectLeaders,
    async handle(request, { apiVersion, connection }) {
      const asked = request.topicPartitions?.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition })),
      );
      const electionType = apiVersion === 0 ? ElectionType.PREFERRED : request.electionType;
      let errorCode: number = ErrorCode.NONE;
      let results: PartitionResult[];
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER)) {
        errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        results = (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage: NOT_AUTHORIZED }));
      } else if (!ctx.controller.isController()) {
        errorCode = ErrorCode.NOT_CONTROLLER;
        results = (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage: NOT_CONTROLLER_MESSAGE }));
      } else if (electionType !== ElectionType.PREFERRED && electionType !== ElectionType.UNCLEAN) {
        errorCode = ErrorCode.INVALID_REQUEST;
        results = (asked ?? []).map((p) => ({
          ...p,
          errorCode,
          errorMessage: `unknown election type ${electionType}`,
        }));
      } else {
        try {
          results = await ctx.controller.electLeaders(electionType, asked ?? null);
        } catch (err) {
          errorCode = errorCodeOf(err);
          results = (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage: (err as Error).message }));
        }
      }
      return {
        throttleTimeMs: 0,
        errorCode,
        replicaElectionResults: [...byTopic(results)].map(([topic, partitions]) => ({
          topic,
          partitionResult: partitions.map((p) => ({
            partitionId: p.partition,
            errorCode: p.errorCode,
            errorMessage: p.errorMessage,
          })),
        })),
      };
    },
  };
}
