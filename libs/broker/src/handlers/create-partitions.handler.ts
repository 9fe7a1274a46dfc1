import { AclOperation, CreatePartitions, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { mutationQuota, throttleMutations } from '../quota/throttle';
import { authorizeTopic } from '../security/authorize';
import type { ApiHandler } from './handler';
import { failure, denied, takeMutations } from './admin-support';

/** CreatePartitions: grows topics to a new partition count (ALTER on the topic). */
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
