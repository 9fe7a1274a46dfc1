import { AclOperation, DeleteTopics, ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { mutationQuota, throttleMutations } from '../quota/throttle';
import { authorizeTopic } from '../security/authorize';
import type { ApiHandler } from './handler';
import { NULL_TOPIC_ID, failure, takeMutations } from './admin-support';

/** DeleteTopics: by name or, v6+, by topic id (DELETE on the topic). */
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
