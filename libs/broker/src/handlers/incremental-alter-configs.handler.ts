import { AclOperation, ErrorCode, IncrementalAlterConfigs, KafkaProtocolError } from '@tributary/protocol';
import { AlterConfigOp } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from './handler';
import { failure, checkConfigAccess, alterResource } from './admin-support';

/** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on topic, broker and broker-logger configs. */
export function incrementalAlterConfigsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof IncrementalAlterConfigs> {
  return {
    api: IncrementalAlterConfigs,
    async handle(request, { connection }) {
      const responses = await Promise.all(
        request.resources.map(async (r) => {
          const base = { resourceType: r.resourceType, resourceName: r.resourceName };
          try {
            checkConfigAccess(ctx, connection, r.resourceType, r.resourceName, AclOperation.ALTER_CONFIGS);
            const alterations = r.configs.map((c) => {
              if (c.configOperation < AlterConfigOp.SET || c.configOperation > AlterConfigOp.SUBTRACT) {
                throw KafkaProtocolError.invalidRequest(
                  `unknown config operation ${c.configOperation} for ${c.name}`,
                );
              }
              return { name: c.name, value: c.value, op: c.configOperation as AlterConfigOp };
            });
            await alterResource(ctx, r.resourceType, r.resourceName, alterations, {
              incremental: true,
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
