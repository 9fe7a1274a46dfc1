import fs from 'node:fs';
import path from 'node:path';
import {
  AclOperation,
  AlterPartitionReassignments,
  DescribeLogDirs,
  ElectLeaders,
  ErrorCode,
  errorCodeOf,
  ListPartitionReassignments,
} from '@tributary/protocol';
import { ElectionType, type BrokerContext, type PartitionResult } from '../broker-context';
import type { ApiHandler } from './handler';
import { authorizeCluster } from '../security/authorize';

const NOT_CONTROLLER_MESSAGE = 'this broker is not the controller';
const NOT_AUTHORIZED = 'not authorized: this needs ALTER on the cluster';

function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    let list = out.get(item.topic);
    if (list === undefined) out.set(item.topic, (list = []));
    list.push(item);
  }
  return out;
}

/**
 * ElectLeaders (kafka-leader-election): PREFERRED moves leadership to each partition's first
 * replica when it is alive and in the ISR (ELECTION_NOT_NEEDED when it already leads,
 * PREFERRED_LEADER_NOT_AVAILABLE otherwise); UNCLEAN gives a partition without a leader any
 * live replica, possibly losing records (ELIGIBLE_LEADERS_NOT_AVAILABLE when none is alive).
 * Served by the controller; other brokers answer NOT_CONTROLLER.
 */
export function electLeadersHandler(ctx: BrokerContext): ApiHandler<typeof ElectLeaders> {
  return {
    api: ElectLeaders,
    async handle(request, { apiVersion, connection }) {
      const asked = request.topicPartitions?.flatMap((t) =>
        t.partitions.map((partition) => ({ topic: t.topic, partition })),
      );
      const electionType = apiVersion === 0 ? ElectionType.PREFERRED : request.electionType;
      let errorCode: number = ErrorCode.NONE;
      let results: PartitionResult[];
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER)) {
        errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        results = (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage: NOT_AUTHORIZED }));
      } else if (!ctx.controller.isController()) {
        errorCode = ErrorCode.NOT_CONTROLLER;
        results = (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage: NOT_CONTROLLER_MESSAGE }));
      } else if (electionType !== ElectionType.PREFERRED && electionType !== ElectionType.UNCLEAN) {
        errorCode = ErrorCode.INVALID_REQUEST;
        results = (asked ?? []).map((p) => ({
          ...p,
          errorCode,
          errorMessage: `unknown election type ${electionType}`,
        }));
      } else {
        try {
          results = await ctx.controller.electLeaders(electionType, asked ?? null);
        } catch (err) {
          errorCode = errorCodeOf(err);
          results = (asked ?? []).map((p) => ({ ...p, errorCode, errorMessage: (err as Error).message }));
        }
      }
      return {
        throttleTimeMs: 0,
        errorCode,
        replicaElectionResults: [...byTopic(results)].map(([topic, partitions]) => ({
          topic,
          partitionResult: partitions.map((p) => ({
            partitionId: p.partition,
            errorCode: p.errorCode,
            errorMessage: p.errorMessage,
          })),
        })),
      };
    },
  };
}

/**
 * AlterPartitionReassignments (KIP-455): each partition's new replica set, or null to cancel
 * its ongoing reassignment. The controller adds the new replicas, waits until they are in
 * the ISR, then switches the replica set and drops the removed ones.
 */
export function alterPartitionReassignmentsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof AlterPartitionReassignments> {
  return {
    api: AlterPartitionReassignments,
    async handle(request, { connection }) {
      const asked = request.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas })),
      );
      let errorCode: number = ErrorCode.NONE;
      let errorMessage: string | null = null;
      let results: PartitionResult[] = [];
      if (!authorizeCluster(ctx, connection, AclOperation.ALTER)) {
        errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        errorMessage = NOT_AUTHORIZED;
        results = asked.map((p) => ({ ...p, errorCode, errorMessage }));
      } else if (!ctx.controller.isController()) {
        errorCode = ErrorCode.NOT_CONTROLLER;
        errorMessage = NOT_CONTROLLER_MESSAGE;
        results = asked.map((p) => ({ ...p, errorCode, errorMessage }));
      } else {
        try {
          results = await ctx.controller.alterReassignments(asked);
        } catch (err) {
          errorCode = errorCodeOf(err);
          errorMessage = (err as Error).message;
          results = asked.map((p) => ({ ...p, errorCode, errorMessage }));
        }
      }
      return {
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        responses: [...byTopic(results)].map(([name, partitions]) => ({
          name,
          partitions: partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode: p.errorCode,
            errorMessage: p.errorMessage,
          })),
        })),
      };
    },
  };
}

/** ListPartitionReassignments: the ongoing reassignments (of the partitions asked about, or all). */
export function listPartitionReassignmentsHandler(
  ctx: BrokerContext,
): ApiHandler<typeof ListPartitionReassignments> {
  return {
    api: ListPartitionReassignments,
    handle(request, { connection }) {
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE)) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'not authorized: this needs DESCRIBE on the cluster',
          topics: [],
        };
      }
      if (!ctx.controller.isController()) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.NOT_CONTROLLER,
          errorMessage: NOT_CONTROLLER_MESSAGE,
          topics: [],
        };
      }
      const asked =
        request.topics?.flatMap((t) =>
          t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
        ) ?? null;
      const ongoing = ctx.controller.listReassignments(asked);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topics: [...byTopic(ongoing)].map(([name, partitions]) => ({
          name,
          partitions: partitions.map((p) => ({
            partitionIndex: p.partition,
            replicas: [...p.replicas],
            addingReplicas: [...p.addingReplicas],
            removingReplicas: [...p.removingReplicas],
          })),
        })),
      };
    },
  };
}

/** DescribeLogDirs: this broker's one log dir, the replicas in it and their sizes, and the volume's space. */
export function describeLogDirsHandler(ctx: BrokerContext): ApiHandler<typeof DescribeLogDirs> {
  return {
    api: DescribeLogDirs,
    handle(request, { connection }) {
      if (!authorizeCluster(ctx, connection, AclOperation.DESCRIBE))
        return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
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
              offsetLag: Math.max(0, log.highWatermark - log.logEndOffset),
              isFutureKey: false,
            })),
        }))
        .filter((t) => t.partitions.length > 0);
      let totalBytes = -1;
      let usableBytes = -1;
      try {
        const stats = fs.statfsSync(ctx.config.logDirs);
        totalBytes = stats.blocks * stats.bsize;
        usableBytes = stats.bavail * stats.bsize;
      } catch (err) {
        ctx.logger.warn(`cannot read the space of ${ctx.config.logDirs}: ${(err as Error).message}`);
      }
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        results: [
          {
            errorCode: ErrorCode.NONE,
            logDir: path.resolve(ctx.config.logDirs),
            topics,
            totalBytes,
            usableBytes,
          },
        ],
      };
    },
  };
}

/** The replication admin APIs. */
export function clusterAdminHandlers(ctx: BrokerContext): ApiHandler[] {
  return [
    electLeadersHandler(ctx),
    alterPartitionReassignmentsHandler(ctx),
    listPartitionReassignmentsHandler(ctx),
    describeLogDirsHandler(ctx),
  ] as ApiHandler[];
}
