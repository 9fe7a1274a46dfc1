import path from 'node:path';
import { AclOperation, AlterReplicaLogDirs, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeCluster } from '../security/authorize';
import type { ApiHandler } from './handler';
import { logDir } from './describe-log-dirs.handler';

/** AlterReplicaLogDirs: a move into the one log dir is nothing to do; any other path is LOG_DIR_NOT_FOUND. */
export function alterReplicaLogDirsHandler(ctx: BrokerContext): ApiHandler<typeof AlterReplicaLogDirs> {
  return {
    api: AlterReplicaLogDirs,
    handle(request, { connection }) {
      const allowed = authorizeCluster(ctx, connection, AclOperation.ALTER);
      const byTopic = new Map<string, { partitionIndex: number; errorCode: number }[]>();
      for (const dir of request.dirs) {
        for (const t of dir.topics) {
          const results = byTopic.get(t.name) ?? [];
          byTopic.set(t.name, results);
          for (const partitionIndex of t.partitions) {
            let errorCode: number = ErrorCode.NONE;
            if (!allowed) errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
            else if (path.resolve(dir.path) !== logDir(ctx)) errorCode = ErrorCode.LOG_DIR_NOT_FOUND;
            else if (!ctx.logs.isOnline) errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
            // Kafka keeps REPLICA_NOT_AVAILABLE here for a replica the broker does not hold.
            else if (ctx.logs.partition(t.name, partitionIndex) === undefined)
              errorCode = ErrorCode.REPLICA_NOT_AVAILABLE;
            results.push({ partitionIndex, errorCode });
          }
        }
      }
      return {
        throttleTimeMs: 0,
        results: [...byTopic].map(([topicName, partitions]) => ({ topicName, partitions })),
      };
    },
  };
}
