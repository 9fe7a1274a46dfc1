import { AclOperation, CreateTopics, ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { mutationQuota, throttleMutations } from '../quota/throttle';
import { authorizeCluster, authorizeTopic } from '../security/authorize';
import type { ApiHandler } from './handler';
import { NULL_TOPIC_ID, failure, denied, takeMutations, configMap } from './admin-support';

/** CreateTopics: validates names, counts and configs, then creates (or only validates) each topic. */
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
