import {
  AclOperation,
  AclResourceType,
  CLUSTER_RESOURCE_NAME,
  ErrorCode,
  errorCodeOf,
  Metadata,
} from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import {
  AUTHORIZED_OPERATIONS_OMITTED,
  authorizeCluster,
  authorizedOperations,
  authorizeTopic,
} from '../security/authorize';
import { isInternalTopic } from './produce.handler';
import type { ApiHandler } from './handler';

/**
 * Metadata: brokers, controller and partition leadership, as the cluster knows them. A null
 * topic list means every topic, an empty one none; unknown topics are created when
 * auto-creation is allowed. A partition without a leader is LEADER_NOT_AVAILABLE.
 *
 * With an authorizer, as in Kafka: a listing of every topic leaves out those the principal
 * may not DESCRIBE; a topic asked for by name is TOPIC_AUTHORIZATION_FAILED, whether it
 * exists or not; auto-creation also needs CREATE on the cluster or the topic.
 *
 * The answer is made once the connection's earlier requests are answered (Kafka handles a
 * connection's requests one at a time): one made while a produce waits for replication would
 * reach the client after that produce's answer and may name a leader that has moved since.
 */
export function metadataHandler(ctx: BrokerContext): ApiHandler<typeof Metadata> {
  return {
    api: Metadata,
    async handle(request, { apiVersion, connection }) {
      await connection.precedingAnswered();
      const requested = request.topics;
      // v0 has no null: an empty list meant every topic.
      const all = requested === null || (apiVersion === 0 && requested.length === 0);
      const names = all ? ctx.cluster.topics().map((t) => t.name) : requested.map((t) => t.name ?? '');
      const allowAutoCreate = apiVersion < 4 || request.allowAutoTopicCreation;
      const topics = [];
      let mayCreateAny: boolean | null = null;
      for (const name of names) {
        if (!authorizeTopic(ctx, connection, AclOperation.DESCRIBE, name)) {
          if (!all) topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, partitions: [] });
          continue;
        }
        let topic = ctx.cluster.topic(name);
        let errorCode: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        if (topic === undefined && !all && allowAutoCreate) {
          mayCreateAny ??= authorizeCluster(ctx, connection, AclOperation.CREATE);
          if (
            ctx.config.autoCreateTopicsEnable &&
            !mayCreateAny &&
            !authorizeTopic(ctx, connection, AclOperation.CREATE, name)
          ) {
            topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, partitions: [] });
            continue;
          }
          try {
            if (await ctx.topics.autoCreate(name)) topic = ctx.cluster.topic(name);
          } catch (err) {
            errorCode = errorCodeOf(err);
          }
        }
        if (topic === undefined) {
          topics.push({ errorCode, name, partitions: [] });
          continue;
        }
        topics.push({
          errorCode: ErrorCode.NONE,
          name,
          topicId: topic.topicId,
          isInternal: isInternalTopic(name),
          topicAuthorizedOperations: request.includeTopicAuthorizedOperations
            ? authorizedOperations(ctx, connection, AclResourceType.TOPIC, name)
            : AUTHORIZED_OPERATIONS_OMITTED,
          partitions: Array.from({ length: topic.numPartitions }, (_, partitionIndex) => {
            const l = ctx.cluster.leadership(name, partitionIndex);
            return {
              errorCode: l.leaderId < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
              partitionIndex,
              leaderId: l.leaderId,
              leaderEpoch: l.leaderEpoch,
              replicaNodes: [...l.replicas],
              isrNodes: [...l.isr],
              offlineReplicas: [...l.offlineReplicas],
            };
          }),
        });
      }
      return {
        throttleTimeMs: 0,
        brokers: ctx.cluster.brokers(connection),
        clusterId: ctx.cluster.clusterId,
        controllerId: ctx.cluster.controllerId,
        topics,
        clusterAuthorizedOperations:
          apiVersion <= 10 && request.includeClusterAuthorizedOperations
            ? authorizedOperations(ctx, connection, AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)
            : AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };
}
