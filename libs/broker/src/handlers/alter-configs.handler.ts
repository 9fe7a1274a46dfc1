import { AclOperation, AlterConfigs, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from './handler';
import { failure, checkConfigAccess, alterResource } from './admin-support';

/** AlterConfigs (legacy): replaces a topic's or broker's whole set of dynamic configs. */
export function alterConfigsHandler(ctx: BrokerContext): ApiHandler<typeof AlterConfigs> {
  return {
    api: AlterConfigs,
    async handle(request, { connection }) {
      const responses = await Promise.all(
        request.resources.map(async (r) => {
          const base = { resourceType: r.resourceType, resourceName: r.resourceName };
          try {
            checkConfigAccess(ctx, connection, r.resourceType, r.resourceName, AclOperation.ALTER_CONFIGS);
            await alterResource(ctx, r.resourceType, r.resourceName, r.configs, {
              incremental: false,
              validateOnly: request.validateOnly,
            });
            return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { ...base, ...failure(err, ctx, `altering configs of ${r.resourceName}`) };
          }
        }),
      );
      return { throttleTimeMs: 0, responses };
    },
  };
}
