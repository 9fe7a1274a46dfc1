import { AclOperation, DescribeClientQuotas, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { entityComponents, quotaFilter } from '../quota/quota-entity';
import { authorizeCluster } from '../security/authorize';
import type { ApiHandler } from './handler';

/** DescribeClientQuotas (DESCRIBE_CONFIGS on the cluster): the entities the filter matches, with their quotas. */
export function describeClientQuotasHandler(ctx: BrokerContext): ApiHandler<typeof DescribeClientQuotas> {
  return {
    api: DescribeClientQuotas,
    handle(request, { connection }) {
      const fail = (errorCode: number, errorMessage: string) => ({
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        entries: null,
      });
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE_CONFIGS))
        return fail(
          ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          'DESCRIBE_CONFIGS on the cluster is needed to describe client quotas',
        );
      const matches = quotaFilter(request.components, request.strict);
      if (typeof matches !== 'function')
        return fail(
          matches.unsupported ? ErrorCode.UNSUPPORTED_VERSION : ErrorCode.INVALID_REQUEST,
          matches.message,
        );
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        entries: ctx.quotas
          .entities()
          .filter((e) => matches(e.entity))
          .map((e) => ({
            entity: entityComponents(e.entity),
            values: Object.entries(e.values).map(([key, value]) => ({ key, value })),
          })),
      };
    },
  };
}
