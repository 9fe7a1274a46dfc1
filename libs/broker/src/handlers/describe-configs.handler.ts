import { AclOperation, DescribeConfigs, ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { DescribedConfig } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import { describeLoggers } from './broker-logger';
import type { ApiHandler } from './handler';
import { ResourceType, failure, checkConfigAccess } from './admin-support';

/** DescribeConfigs: topic, broker and broker-logger resources, with sources and synonyms as Kafka reports them. */
export function describeConfigsHandler(ctx: BrokerContext): ApiHandler<typeof DescribeConfigs> {
  return {
    api: DescribeConfigs,
    handle(request, { connection }) {
      const options = {
        includeSynonyms: request.includeSynonyms,
        includeDocumentation: request.includeDocumentation,
      };
      return {
        throttleTimeMs: 0,
        results: request.resources.map((r) => {
          const base = { resourceType: r.resourceType, resourceName: r.resourceName, configs: [] };
          try {
            let configs: DescribedConfig[];
            checkConfigAccess(ctx, connection, r.resourceType, r.resourceName, AclOperation.DESCRIBE_CONFIGS);
            if (r.resourceType === ResourceType.TOPIC) {
              configs = ctx.topics.describeConfigs(r.resourceName, r.configurationKeys, options);
            } else if (r.resourceType === ResourceType.BROKER) {
              configs = ctx.dynamicConfig.describe(r.resourceName, r.configurationKeys, options);
            } else if (r.resourceType === ResourceType.BROKER_LOGGER) {
              configs = describeLoggers(ctx, r.resourceName, r.configurationKeys);
            } else {
              throw KafkaProtocolError.invalidRequest(`resource type ${r.resourceType} is not supported`);
            }
            return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
          } catch (err) {
            return { ...base, ...failure(err, ctx, `describing configs of ${r.resourceName}`) };
          }
        }),
      };
    },
  };
}
