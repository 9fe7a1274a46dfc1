import {
  AclOperation,
  AlterConfigs,
  CreatePartitions,
  CreateTopics,
  DeleteRecords,
  DeleteTopics,
  DescribeConfigs,
  ErrorCode,
  errorCodeOf,
  IncrementalAlterConfigs,
  KafkaProtocolError,
} from '@tributary/protocol';
import { AlterConfigOp, type ConfigAlteration, type DescribedConfig } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import type { Connection } from '../network/connection';
import type { ControllerMutationQuota } from '../quota/client-quota-manager';
import { mutationQuota, throttleMutations } from '../quota/throttle';
import { authorizeCluster, authorizeTopic } from '../security/authorize';
import { alterLoggers, describeLoggers } from './broker-logger';
import type { ApiHandler } from './handler';
import { isInternalTopic, unknownPartitionCode } from './produce.handler';

/** DescribeConfigs / AlterConfigs resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

const NULL_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** What every failed admin item reports: Kafka's code and the message. */
function failure(
  err: unknown,
  ctx: BrokerContext,
  what: string,
): { errorCode: number; errorMessage: string } {
  if (!(err instanceof KafkaProtocolError)) ctx.logger.error(`${what} failed: ${(err as Error).stack}`);
  return { errorCode: errorCodeOf(err), errorMessage: (err as Error).message };
}

/** Thrown where Kafka's authorizer refuses: the item fails with the code, nothing is changed. */
function denied(code: number, what: string): KafkaProtocolError {
  return new KafkaProtocolError(code, `not authorized: ${what}`);
}

/** A topic or broker config resource: DESCRIBE_CONFIGS or ALTER_CONFIGS on the topic, or on the cluster for a broker or its loggers. */
function checkConfigAccess(
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
function takeMutations(quota: ControllerMutationQuota, permits: number): void {
  if (permits > 0 && !quota.record(permits))
    throw new KafkaProtocolError(
      ErrorCode.THROTTLING_QUOTA_EXCEEDED,
      'The throttling quota has been exceeded.',
    );
}

function configMap(configs: readonly { name: string; value: string | null }[]): Record<string, string> {
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

export function createTopicsHandler(ctx: BrokerContext): ApiHandler<typeof CreateTopics> {
  return {
    api: CreateTopics,
    async handle(request, rc) {
      const connection = rc.connection;
      const mutations = mutationQuota(ctx, rc, 6);
      const mayCreateAny = authorizeCluster(ctx, connection, AclOperation.CREATE);
      const seen = new Map<string, number>();
      for (const t of request.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
      const topics = await Promise.all(
        request.topics.map(async (t) => {
          const base = {
            name: t.name,
            topicId: NULL_TOPIC_ID,
            numPartitions: -1,
            replicationFactor: -1,
            configs: null,
          };
          try {
            if (!mayCreateAny && !authorizeTopic(ctx, connection, AclOperation.CREATE, t.name))
              throw denied(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `CREATE on topic ${t.name}`);
            if ((seen.get(t.name) ?? 0) > 1) {
              throw KafkaProtocolError.invalidRequest(
                `Create topics request from client contains topic ${t.name} more than once`,
              );
            }
            if (!request.validateOnly && ctx.cluster.topic(t.name) === undefined)
              takeMutations(
                mutations,
                t.assignments.length > 0
                  ? t.assignments.length
                  : t.numPartitions === -1
                    ? ctx.config.numPartitions
                    : t.numPartitions,
              );
            const created = await ctx.topics.create({
              name: t.name,
              numPartitions: t.numPartitions,
              replicationFactor: t.replicationFactor,
              assignments: t.assignments.map((a) => a.brokerIds),
              configs: configMap(t.configs),
              validateOnly: request.validateOnly,
            });
            // As Kafka: what the topic was made with is told only to who may describe its configs.
            if (!authorizeTopic(ctx, connection, AclOperation.DESCRIBE_CONFIGS, t.name))
              return {
                ...base,
                topicId: created.topicId ?? NULL_TOPIC_ID,
                errorCode: ErrorCode.NONE,
                errorMessage: null,
                topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              };
            const described = request.validateOnly ? [] : ctx.topics.describeConfigs(t.name, null, {});
            return {
              ...base,
              topicId: created.topicId ?? NULL_TOPIC_ID,
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              numPartitions: created.numPartitions,
              replicationFactor: created.replicationFactor,
              configs: described.map((c) => ({
                name: c.name,
                value: c.value,
                readOnly: c.readOnly,
                configSource: c.configSource,
                isSensitive: c.isSensitive,
              })),
            };
          } catch (err) {
            return { ...base, ...failure(err, ctx, `creating topic ${t.name}`) };
          }
        }),
      );
      return { throttleTimeMs: throttleMutations(rc, mutations), topics };
    },
  };
}

export function deleteTopicsHandler(ctx: BrokerContext): ApiHandler<typeof DeleteTopics> {
  return {
    api: DeleteTopics,
    async handle(request, rc) {
      const { apiVersion, connection } = rc;
      const mutations = mutationQuota(ctx, rc, 5);
      const byName =
        apiVersion >= 6
          ? request.topics
          : request.topicNames.map((name) => ({ name, topicId: NULL_TOPIC_ID }));
      const responses = await Promise.all(
        byName.map(async (t) => {
          const byId = t.name === null;
          let name = t.name;
          if (name === null) name = ctx.cluster.topics().find((d) => d.topicId === t.topicId)?.name ?? null;
          // A principal learns a topic's id (or, asking by id, its name) only with the right to delete it.
          if (name !== null && !authorizeTopic(ctx, connection, AclOperation.DELETE, name)) {
            const mayDescribe = authorizeTopic(ctx, connection, AclOperation.DESCRIBE, name);
            return {
              name: byId && !mayDescribe ? null : name,
              topicId: byId ? t.topicId : NULL_TOPIC_ID,
              errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              errorMessage: 'not authorized: DELETE on the topic',
            };
          }
          const topicId = name === null ? t.topicId : (ctx.cluster.topic(name)?.topicId ?? NULL_TOPIC_ID);
          try {
            if (name === null)
              throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${t.topicId}`);
            if (!ctx.config.deleteTopicEnable) {
              throw new KafkaProtocolError(
                ErrorCode.TOPIC_DELETION_DISABLED,
                'Topic deletion is disabled (delete.topic.enable=false)',
              );
            }
            takeMutations(mutations, ctx.cluster.topic(name)?.numPartitions ?? 0);
            await ctx.topics.delete(name);
            return { name, topicId, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { name, topicId, ...failure(err, ctx, `deleting topic ${name}`) };
          }
        }),
      );
      return { throttleTimeMs: throttleMutations(rc, mutations), responses };
    },
  };
}

export function createPartitionsHandler(ctx: BrokerContext): ApiHandler<typeof CreatePartitions> {
  return {
    api: CreatePartitions,
    async handle(request, rc) {
      const connection = rc.connection;
      const mutations = mutationQuota(ctx, rc, 3);
      const results = await Promise.all(
        request.topics.map(async (t) => {
          try {
            if (!authorizeTopic(ctx, connection, AclOperation.ALTER, t.name))
              throw denied(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `ALTER on topic ${t.name}`);
            if (!request.validateOnly)
              takeMutations(mutations, t.count - (ctx.cluster.topic(t.name)?.numPartitions ?? t.count));
            await ctx.topics.createPartitions(
              t.name,
              t.count,
              t.assignments === null ? null : t.assignments.map((a) => a.brokerIds),
              request.validateOnly,
            );
            return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { name: t.name, ...failure(err, ctx, `adding partitions to ${t.name}`) };
          }
        }),
      );
      return { throttleTimeMs: throttleMutations(rc, mutations), results };
    },
  };
}

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

/** A topic's configs, this broker's or the cluster default's dynamic configs, or (incremental only) its loggers. */
async function alterResource(
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

export function deleteRecordsHandler(ctx: BrokerContext): ApiHandler<typeof DeleteRecords> {
  return {
    api: DeleteRecords,
    handle(request, { connection }) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            if (!authorizeTopic(ctx, connection, AclOperation.DELETE, t.name))
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              };
            // Committed offsets are the coordinator's to remove, as in Kafka.
            if (isInternalTopic(t.name))
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION,
              };
            const partition = ctx.replicas.get(t.name, p.partitionIndex);
            if (partition === undefined || !partition.isLeader) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode:
                  partition === undefined
                    ? unknownPartitionCode(ctx, t.name, p.partitionIndex)
                    : ErrorCode.NOT_LEADER_OR_FOLLOWER,
              };
            }
            try {
              const lowWatermark = partition.log.deleteRecordsBefore(p.offset);
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: ErrorCode.NONE };
            } catch (err) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: failure(err, ctx, 'DeleteRecords').errorCode,
              };
            }
          }),
        })),
      };
    },
  };
}

/** The topic and config admin APIs. */
export function adminHandlers(ctx: BrokerContext): ApiHandler[] {
  return [
    createTopicsHandler(ctx),
    deleteTopicsHandler(ctx),
    createPartitionsHandler(ctx),
    describeConfigsHandler(ctx),
    alterConfigsHandler(ctx),
    incrementalAlterConfigsHandler(ctx),
    deleteRecordsHandler(ctx),
  ] as ApiHandler[];
}
