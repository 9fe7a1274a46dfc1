import { AclResourceType, CLUSTER_RESOURCE_NAME, DescribeCluster, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizedOperations } from '../security/authorize';
import type { ApiHandler } from './handler';

/** DescribeCluster: the brokers, the controller and the cluster id, as Metadata has them. */
export function describeClusterHandler(ctx: BrokerContext): ApiHandler<typeof DescribeCluster> {
  return {
    api: DescribeCluster,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        endpointType: 1,
        clusterId: ctx.cluster.clusterId,
        controllerId: ctx.cluster.controllerId,
        brokers: ctx.cluster
          .brokers(connection)
          .map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
        clusterAuthorizedOperations: request.includeClusterAuthorizedOperations
          ? authorizedOperations(ctx, connection, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
          : AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };
}
