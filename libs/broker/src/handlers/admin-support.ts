import { ErrorCode, errorCodeOf, KafkaProtocolError } from '@tributary/protocol';
import type { ConfigAlteration } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import type { Connection } from '../network/connection';
import type { ControllerMutationQuota } from '../quota/client-quota-manager';
import { authorizeCluster, authorizeTopic } from '../security/authorize';
import { alterLoggers } from './broker-logger';

/** DescribeConfigs / AlterConfigs resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

export const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** What every failed admin item reports: Kafka's code and the message. */
export function failure(
  err: unknown,
  ctx: BrokerContext,
  what: string,
): { errorCode: number; errorMessage: string } {
  if (!(err instanceof KafkaProtocolError)) ctx.logger.error(`${what} failed: ${(err as Error).stack}`);
  return { errorCode: errorCodeOf(err), errorMessage: (err as Error).message };
}

/** Thrown where Kafka's authorizer refuses: the item fails with the code, nothing is changed. */
export function denied(code: number, what: string): KafkaProtocolError {
  return new KafkaProtocolError(code, `not authorized: ${what}`);
}

/** A topic or broker config resource: DESCRIBE_CONFIGS or ALTER_CONFIGS on the topic, or on the cluster for a broker or its loggers. */
export function checkConfigAccess(
  ctx: BrokerContext,
  connection: Connection,
  resourceType: number,
  name: string,
  operation: number,
): void {
  if (resourceType === ResourceType.TOPIC) {
    if (!authorizeTopic(ctx, connection, operation, name))
      throw denied(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `the configs of topic ${name}`);
  } else if (
    (resourceType === ResourceType.BROKER || resourceType === ResourceType.BROKER_LOGGER) &&
    !authorizeCluster(ctx, connection, operation)
  ) {
    throw denied(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, `the configs of broker ${name}`);
  }
}

/** A strict controller_mutation_rate quota refusing more partitions now (Kafka's ThrottlingQuotaExceededException). */
export function takeMutations(quota: ControllerMutationQuota, permits: number): void {
  if (permits > 0 && !quota.record(permits))
    throw new KafkaProtocolError(
      ErrorCode.THROTTLING_QUOTA_EXCEEDED,
      'The throttling quota has been exceeded.',
    );
}

export function configMap(
  configs: readonly { name: string; value: string | null }[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of configs) {
    if (c.name in out) throw KafkaProtocolError.invalidRequest(`config ${c.name} is given more than once`);
    if (c.value === null)
      throw new KafkaProtocolError(
        ErrorCode.INVALID_CONFIG,
        `Null value not supported for topic config ${c.name}`,
      );
    out[c.name] = c.value;
  }
  return out;
}

/** A topic's configs, this broker's or the cluster default's dynamic configs, or (incremental only) its loggers. */
export async function alterResource(
  ctx: BrokerContext,
  resourceType: number,
  resourceName: string,
  alterations: readonly ConfigAlteration[],
  options: { incremental: boolean; validateOnly: boolean },
): Promise<void> {
  if (resourceType === ResourceType.TOPIC) {
    await ctx.topics.alterConfigs(resourceName, alterations, options);
    return;
  }
  if (resourceType === ResourceType.BROKER) {
    await ctx.dynamicConfig.alter(resourceName, alterations, options);
    return;
  }
  // Legacy AlterConfigs has no loggers, as in Kafka.
  if (resourceType === ResourceType.BROKER_LOGGER && options.incremental) {
    alterLoggers(ctx, resourceName, alterations, options.validateOnly);
    return;
  }
  throw KafkaProtocolError.invalidRequest(`Unknown resource type ${resourceType}`);
}
