import fs from 'node:fs';
import path from 'node:path';
import { AclOperation, DescribeLogDirs, ErrorCode } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { authorizeCluster } from '../security/authorize';
import type { ApiHandler } from './handler';

/**
 * A broker has one log directory (log.dirs), so these answer as a Kafka broker with one
 * dir does: DescribeLogDirs lists it with its partitions' sizes (or, once an I/O error took it
 * offline, with KAFKA_STORAGE_ERROR and nothing else), AlterReplicaLogDirs accepts moves to it
 * (nothing to do; KAFKA_STORAGE_ERROR when offline) and refuses any other path.
 */
export function logDir(ctx: BrokerContext): string {
  return path.resolve(ctx.config.logDirs);
}

/** The volume's total and usable bytes (DescribeLogDirs v4), -1 when the system will not say. */
function volumeBytes(dir: string): { totalBytes: number; usableBytes: number } {
  try {
    const s = fs.statfsSync(dir);
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    return { totalBytes: -1, usableBytes: -1 };
  }
}

export function describeLogDirsHandler(ctx: BrokerContext): ApiHandler<typeof DescribeLogDirs> {
  return {
    api: DescribeLogDirs,
    handle(request, { connection }) {
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
      const dir = logDir(ctx);
      if (!ctx.logs.isOnline) {
        const offline = { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, logDir: dir, topics: [] };
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NONE,
          results: [{ ...offline, totalBytes: -1, usableBytes: -1 }],
        };
      }
      const wanted =
        request.topics === null ? null : new Map(request.topics.map((t) => [t.topic, new Set(t.partitions)]));
      const topics = ctx.logs
        .topics()
        .filter((t) => wanted === null || wanted.has(t.name))
        .map((t) => ({
          name: t.name,
          partitions: [...ctx.logs.partitions(t.name)]
            .filter(([p]) => wanted === null || wanted.get(t.name)!.has(p))
            .sort(([a], [b]) => a - b)
            .map(([partitionIndex, log]) => ({
              partitionIndex,
              partitionSize: log.size,
              // Kafka's lag of a current log: how far its end is behind the high watermark.
              offsetLag: Math.max(0, log.highWatermark - log.logEndOffset),
              isFutureKey: false,
            })),
        }))
        .filter((t) => t.partitions.length > 0);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        results: [{ errorCode: ErrorCode.NONE, logDir: dir, topics, ...volumeBytes(dir) }],
      };
    },
  };
}
