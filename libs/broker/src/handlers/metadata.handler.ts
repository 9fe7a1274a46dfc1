import { ErrorCode, errorCodeOf, Metadata } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from './handler';

/**
 * Metadata: brokers, controller and partition leadership. A null topic list means every
 * topic, an empty one none; unknown topics are created when auto-creation is allowed.
 */
export function metadataHandler(ctx: BrokerContext): ApiHandler<typeof Metadata> {
  return {
    api: Metadata,
    handle(request, { apiVersion, connection }) {
      const requested = request.topics;
      // v0 has no null: an empty list meant every topic.
      const all = requested === null || (apiVersion === 0 && requested.length === 0);
      const names = all ? ctx.logs.topics().map((t) => t.name) : requested.map((t) => t.name ?? '');
      const allowAutoCreate = apiVersion < 4 || request.allowAutoTopicCreation;
      const topics = names.map((name) => {
        let topic = ctx.logs.topic(name);
        let errorCode: number = ErrorCode.NONE;
        if (topic === undefined && !all) {
          try {
            if (allowAutoCreate && ctx.topics.autoCreate(name)) {
              topic = ctx.logs.topic(name);
              errorCode = ErrorCode.LEADER_NOT_AVAILABLE;
            } else {
              errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            }
          } catch (err) {
            errorCode = errorCodeOf(err);
          }
        }
        if (topic === undefined) {
          return { errorCode: errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] };
        }
        // A freshly created topic is served at once on a lone broker.
        if (errorCode === ErrorCode.LEADER_NOT_AVAILABLE) errorCode = ErrorCode.NONE;
        return {
          errorCode,
          name,
          topicId: topic.topicId,
          isInternal: name.startsWith('__'),
          partitions: Array.from({ length: topic.numPartitions }, (_, partitionIndex) => {
            const l = ctx.cluster.leadership(name, partitionIndex);
            return {
              errorCode: ErrorCode.NONE,
              partitionIndex,
              leaderId: l.leaderId,
              leaderEpoch: l.leaderEpoch,
              replicaNodes: [...l.replicas],
              isrNodes: [...l.isr],
              offlineReplicas: [...l.offlineReplicas],
            };
          }),
        };
      });
      return {
        throttleTimeMs: 0,
        brokers: ctx.cluster.brokers(connection),
        clusterId: ctx.cluster.clusterId,
        controllerId: ctx.cluster.controllerId,
        topics,
      };
    },
  };
}
