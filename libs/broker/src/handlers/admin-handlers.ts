import {
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
import { describeBrokerConfigs } from '../config/broker-config';
import type { ApiHandler } from './handler';

/** DescribeConfigs / AlterConfigs resource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4 } as const;

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
    handle(request) {
      const seen = new Map<string, number>();
      for (const t of request.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => {
          const base = {
            name: t.name,
            topicId: NULL_TOPIC_ID,
            numPartitions: -1,
            replicationFactor: -1,
            configs: null,
          };
          try {
            if ((seen.get(t.name) ?? 0) > 1) {
              throw KafkaProtocolError.invalidRequest(
                `Create topics request from client contains topic ${t.name} more than once`,
              );
            }
            let numPartitions = t.numPartitions;
            let replicationFactor = t.replicationFactor;
            if (t.assignments.length > 0) {
              if (numPartitions !== -1 || replicationFactor !== -1) {
                throw KafkaProtocolError.invalidRequest(
                  'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
                );
              }
              ctx.topics.checkAssignments(t.assignments);
              numPartitions = t.assignments.length;
              replicationFactor = t.assignments[0].brokerIds.length;
            }
            const created = ctx.topics.create({
              name: t.name,
              numPartitions,
              replicationFactor,
              configs: configMap(t.configs),
              validateOnly: request.validateOnly,
            });
            const topic = ctx.logs.topic(t.name);
            const described = request.validateOnly ? [] : ctx.logs.describeTopicConfigs(t.name);
            return {
              ...base,
              topicId: topic?.topicId ?? NULL_TOPIC_ID,
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
      };
    },
  };
}

export function deleteTopicsHandler(ctx: BrokerContext): ApiHandler<typeof DeleteTopics> {
  return {
    api: DeleteTopics,
    handle(request, { apiVersion }) {
      const byName =
        apiVersion >= 6
          ? request.topics
          : request.topicNames.map((name) => ({ name, topicId: NULL_TOPIC_ID }));
      return {
        throttleTimeMs: 0,
        responses: byName.map((t) => {
          let name = t.name;
          if (name === null) name = ctx.logs.topics().find((d) => d.topicId === t.topicId)?.name ?? null;
          const topicId = name === null ? t.topicId : (ctx.logs.topic(name)?.topicId ?? NULL_TOPIC_ID);
          try {
            if (name === null)
              throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_ID, `no topic has id ${t.topicId}`);
            if (!ctx.config.deleteTopicEnable) {
              throw new KafkaProtocolError(
                ErrorCode.TOPIC_DELETION_DISABLED,
                'Topic deletion is disabled (delete.topic.enable=false)',
              );
            }
            ctx.topics.delete(name);
            return { name, topicId, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { name, topicId, ...failure(err, ctx, `deleting topic ${name}`) };
          }
        }),
      };
    },
  };
}

export function createPartitionsHandler(ctx: BrokerContext): ApiHandler<typeof CreatePartitions> {
  return {
    api: CreatePartitions,
    handle(request) {
      return {
        throttleTimeMs: 0,
        results: request.topics.map((t) => {
          try {
            if (t.assignments !== null) {
              const existing = ctx.logs.topic(t.name)?.numPartitions ?? 0;
              if (t.assignments.length !== t.count - existing) {
                throw new KafkaProtocolError(
                  ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                  `Increasing the number of partitions by ${t.count - existing} but ${t.assignments.length} assignments provided.`,
                );
              }
              ctx.topics.checkAssignments(t.assignments);
            }
            ctx.topics.createPartitions(t.name, t.count, request.validateOnly);
            return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { name: t.name, ...failure(err, ctx, `adding partitions to ${t.name}`) };
          }
        }),
      };
    },
  };
}

export function describeConfigsHandler(ctx: BrokerContext): ApiHandler<typeof DescribeConfigs> {
  return {
    api: DescribeConfigs,
    handle(request) {
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
            if (r.resourceType === ResourceType.TOPIC) {
              configs = ctx.logs.describeTopicConfigs(r.resourceName, r.configurationKeys, options);
            } else if (r.resourceType === ResourceType.BROKER) {
              checkBrokerResource(ctx, r.resourceName);
              configs = describeBrokerConfigs(ctx.config, r.configurationKeys, options);
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

function checkBrokerResource(ctx: BrokerContext, name: string): void {
  if (name !== '' && name !== String(ctx.config.nodeId)) {
    throw KafkaProtocolError.invalidRequest(`broker ${name} is not this broker (${ctx.config.nodeId})`);
  }
}

/** Broker settings are static (read from the file and flags at start); only topic configs change at runtime. */
function alterResource(
  ctx: BrokerContext,
  resourceType: number,
  resourceName: string,
  alterations: readonly ConfigAlteration[],
  options: { incremental: boolean; validateOnly: boolean },
): void {
  if (resourceType === ResourceType.TOPIC) {
    ctx.logs.alterTopicConfigs(resourceName, alterations, options);
    return;
  }
  if (resourceType === ResourceType.BROKER) {
    checkBrokerResource(ctx, resourceName);
    throw new KafkaProtocolError(
      ErrorCode.INVALID_CONFIG,
      'broker configs are static in Tributary: set them in the config file or on the command line and restart',
    );
  }
  throw KafkaProtocolError.invalidRequest(`resource type ${resourceType} is not supported`);
}

export function alterConfigsHandler(ctx: BrokerContext): ApiHandler<typeof AlterConfigs> {
  return {
    api: AlterConfigs,
    handle(request) {
      return {
        throttleTimeMs: 0,
        responses: request.resources.map((r) => {
          const base = { resourceType: r.resourceType, resourceName: r.resourceName };
          try {
            alterResource(ctx, r.resourceType, r.resourceName, r.configs, {
              incremental: false,
              validateOnly: request.validateOnly,
            });
            return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { ...base, ...failure(err, ctx, `altering configs of ${r.resourceName}`) };
          }
        }),
      };
    },
  };
}

export function incrementalAlterConfigsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof IncrementalAlterConfigs> {
  return {
    api: IncrementalAlterConfigs,
    handle(request) {
      return {
        throttleTimeMs: 0,
        responses: request.resources.map((r) => {
          const base = { resourceType: r.resourceType, resourceName: r.resourceName };
          try {
            const alterations = r.configs.map((c) => {
              if (c.configOperation < AlterConfigOp.SET || c.configOperation > AlterConfigOp.SUBTRACT) {
                throw KafkaProtocolError.invalidRequest(
                  `unknown config operation ${c.configOperation} for ${c.name}`,
                );
              }
              return { name: c.name, value: c.value, op: c.configOperation as AlterConfigOp };
            });
            alterResource(ctx, r.resourceType, r.resourceName, alterations, {
              incremental: true,
              validateOnly: request.validateOnly,
            });
            return { ...base, errorCode: ErrorCode.NONE, errorMessage: null };
          } catch (err) {
            return { ...base, ...failure(err, ctx, `altering configs of ${r.resourceName}`) };
          }
        }),
      };
    },
  };
}

export function deleteRecordsHandler(ctx: BrokerContext): ApiHandler<typeof DeleteRecords> {
  return {
    api: DeleteRecords,
    handle(request) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const log = ctx.logs.partition(t.name, p.partitionIndex);
            if (log === undefined) {
              return {
                partitionIndex: p.partitionIndex,
                lowWatermark: -1,
                errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              };
            }
            try {
              const lowWatermark = log.deleteRecordsBefore(p.offset);
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
