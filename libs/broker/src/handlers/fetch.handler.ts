import { AclOperation, ErrorCode, errorCodeOf, Fetch, KafkaProtocolError } from '@tributary/protocol';
import type { PartitionLog } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import { authorizeCluster, authorizeTopic } from '../security/authorize';
import { FetchWaiters } from '../replica/fetch-waiters';
import type { Partition } from '../replica/partition';
import type { ApiHandler } from './handler';
import { unknownPartitionCode } from './produce.handler';

const EMPTY = Buffer.alloc(0);

/**
 * FENCED_LEADER_EPOCH when the client knows an older leader epoch than this replica,
 * UNKNOWN_LEADER_EPOCH when a newer one (this replica has not learned it yet); -1 skips the check.
 */
export function leaderEpochError(partition: Partition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch < 0 || currentLeaderEpoch === partition.leaderEpoch) return ErrorCode.NONE;
  return currentLeaderEpoch < partition.leaderEpoch
    ? ErrorCode.FENCED_LEADER_EPOCH
    : ErrorCode.UNKNOWN_LEADER_EPOCH;
}

/**
 * Fetch. Hot path: stored batches are returned as they are on disk (one read per
 * partition, referenced by the response writer, never decoded). A fetch with less than
 * min.bytes ready long-polls until an append to one of its partitions or max.wait.ms.
 *
 * Followers (replicaId >= 0) fetch from the leader up to its log end; their fetch offset
 * is their log end, which moves the high watermark and the ISR (Kafka's
 * updateFollowerFetchState). v12's lastFetchedEpoch is checked against the leader epoch
 * cache: a follower whose log diverged gets divergingEpoch (where that epoch ends here) and
 * truncates. Consumers read up to the high watermark, from the leader, or from a follower
 * with v11+ (KIP-392); with RackAwareReplicaSelector the leader answers a consumer whose
 * rackId matches a caught-up follower's broker.rack with no records and that follower as
 * preferredReadReplica. Incremental fetch sessions are not offered: sessionId 0 tells
 * clients to send full fetches.
 *
 * isolation_level 1 (read_committed, KIP-98) reads only below the last stable offset and
 * answers with the aborted transactions that overlap the records returned, which the
 * consumer drops; the LSO is reported to every fetcher. Looking for aborted transactions
 * costs nothing on a partition that never had one.
 *
 * With an authorizer a consumer needs READ on each topic, a follower CLUSTER_ACTION on the
 * cluster; a partition refused is TOPIC_AUTHORIZATION_FAILED and returns no records.
 *
 * A consumer_byte_rate quota (never a follower's) caps one response at the quota's window
 * and counts the bytes returned; over it, as Kafka does, the answer is empty (the bytes are
 * taken back: the consumer fetches them again) with the throttle time, and the connection
 * is muted for that long.
 */
export function fetchHandler(ctx: BrokerContext): ApiHandler<typeof Fetch> {
  return {
    api: Fetch,
    async handle(request, { apiVersion, connection, header }) {
      if (request.sessionId !== 0) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
          sessionId: 0,
          responses: [],
        };
      }
      const followerId = request.replicaId;
      const isFollower = followerId >= 0;
      const readCommitted = request.isolationLevel === 1;
      const quota = !isFollower && ctx.quotas.fetch.enabled ? ctx.quotas.fetch : null;
      const clientId = header.clientId ?? '';
      const maxBytes = Math.min(
        request.maxBytes > 0 ? request.maxBytes : 0x7fffffff,
        quota === null ? Infinity : quota.maxValueInQuotaWindow(connection.session, clientId, Date.now()),
      );
      const minBytes = Math.min(request.minBytes, maxBytes);
      const fromFollowerAllowed = apiVersion >= 11;
      const rackId = request.rackId ?? '';
      const selectReplica = ctx.config.replication.rackAwareReplicaSelector && !isFollower && rackId !== '';
      let firstPass = true;
      const followerAllowed = isFollower && authorizeCluster(ctx, connection, AclOperation.CLUSTER_ACTION);
      const allowed = new Map<string, boolean>();
      for (const t of request.topics) {
        if (!allowed.has(t.topic))
          allowed.set(
            t.topic,
            isFollower ? followerAllowed : authorizeTopic(ctx, connection, AclOperation.READ, t.topic),
          );
      }

      const collect = () => {
        let remaining = maxBytes;
        let total = 0;
        let answerNow = false;
        const now = Date.now();
        const responses = request.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => {
            const base = {
              partitionIndex: p.partition,
              highWatermark: -1,
              lastStableOffset: -1,
              logStartOffset: -1,
              abortedTransactions: readCommitted ? [] : null,
              preferredReadReplica: -1,
              records: EMPTY,
            };
            if (allowed.get(t.topic) !== true) {
              answerNow = true;
              return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
            }
            const partition = ctx.replicas.get(t.topic, p.partition);
            if (partition === undefined) {
              answerNow = true;
              return { ...base, errorCode: unknownPartitionCode(ctx, t.topic, p.partition) };
            }
            const log = partition.log;
            const offsets = {
              highWatermark: log.highWatermark,
              lastStableOffset: log.lastStableOffset,
              logStartOffset: log.logStartOffset,
            };
            try {
              log.ensureOnline();
              const epochError = leaderEpochError(partition, p.currentLeaderEpoch);
              if (epochError !== ErrorCode.NONE)
                throw new KafkaProtocolError(epochError, `${t.topic}-${p.partition}`);
              if (!partition.isLeader && (isFollower || !fromFollowerAllowed)) {
                throw new KafkaProtocolError(
                  ErrorCode.NOT_LEADER_OR_FOLLOWER,
                  `this broker does not lead ${t.topic}-${p.partition}`,
                );
              }
              if (isFollower) {
                if (p.lastFetchedEpoch >= 0) {
                  const end = log.endOffsetForEpoch(p.lastFetchedEpoch);
                  if (end.leaderEpoch !== p.lastFetchedEpoch || end.endOffset < p.fetchOffset) {
                    answerNow = true;
                    return {
                      ...base,
                      ...offsets,
                      errorCode: ErrorCode.NONE,
                      // An epoch older than anything here: the follower keeps nothing past this log's start.
                      divergingEpoch:
                        end.leaderEpoch < 0
                          ? { epoch: -1, endOffset: log.logStartOffset }
                          : { epoch: end.leaderEpoch, endOffset: end.endOffset },
                    };
                  }
                }
                if (firstPass)
                  partition.updateFollowerFetch(followerId, p.fetchOffset, p.logStartOffset, now);
              } else if (selectReplica && partition.isLeader) {
                const preferred = preferredReadReplica(ctx, partition, rackId, p.fetchOffset);
                if (preferred !== ctx.config.nodeId) {
                  answerNow = true;
                  return { ...base, ...offsets, errorCode: ErrorCode.NONE, preferredReadReplica: preferred };
                }
              }
              const lastStableOffset = offsets.lastStableOffset;
              const read = log.read(p.fetchOffset, Math.min(p.partitionMaxBytes, remaining), {
                maxOffset: isFollower ? undefined : readCommitted ? lastStableOffset : log.highWatermark,
                // KIP-74: the first batch is returned whole even above the limits, so a
                // consumer never stalls on a batch larger than its fetch size.
                minOneBatch: total === 0,
              });
              remaining = Math.max(0, remaining - read.records.length);
              total += read.records.length;
              return {
                ...base,
                errorCode: ErrorCode.NONE,
                highWatermark: read.highWatermark,
                lastStableOffset,
                logStartOffset: read.logStartOffset,
                abortedTransactions: readCommitted
                  ? abortedTransactions(log, p.fetchOffset, read.records)
                  : null,
                records: read.records,
              };
            } catch (err) {
              answerNow = true;
              if (!(err instanceof KafkaProtocolError)) {
                ctx.logger.error(`fetch from ${t.topic}-${p.partition} failed: ${(err as Error).stack}`);
              }
              return { ...base, ...offsets, errorCode: errorCodeOf(err) };
            }
          }),
        }));
        firstPass = false;
        return { responses, total, answerNow };
      };

      let result = collect();
      const deadline = Date.now() + request.maxWaitMs;
      if (result.total < minBytes && !result.answerNow && request.maxWaitMs > 0) {
        const keys = request.topics.flatMap((t) =>
          t.partitions.map((p) => FetchWaiters.key(t.topic, p.partition)),
        );
        while (result.total < minBytes && !result.answerNow && !ctx.waiters.closed) {
          const left = deadline - Date.now();
          if (left <= 0) break;
          await ctx.waiters.wait(keys, left);
          result = collect();
        }
      }
      if (quota !== null) {
        const now = Date.now();
        const throttleTimeMs = quota.recordAndGetThrottleTimeMs(
          connection.session,
          clientId,
          result.total,
          now,
        );
        if (throttleTimeMs > 0) {
          quota.unrecord(connection.session, clientId, result.total, now);
          connection.throttle(throttleTimeMs);
          return { throttleTimeMs, errorCode: ErrorCode.NONE, sessionId: 0, responses: [] };
        }
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: result.responses };
    },
  };
}

/** The aborted transactions a read_committed consumer needs with `records`, in Fetch's shape. */
function abortedTransactions(
  log: PartitionLog,
  fetchOffset: number,
  records: Buffer,
): { producerId: number; firstOffset: number }[] {
  return log
    .abortedTransactions(fetchOffset, records)
    .map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
}

/**
 * Kafka's RackAwareReplicaSelector: among the replicas that have `fetchOffset` (the leader,
 * and in-sync followers whose log spans it), those in the consumer's rack; the leader if it
 * is one of them, else the one furthest ahead (then the most recently caught up); the
 * leader when none is in the rack.
 */
function preferredReadReplica(
  ctx: BrokerContext,
  partition: Partition,
  rackId: string,
  fetchOffset: number,
): number {
  const self = ctx.config.nodeId;
  if (ctx.config.rack === rackId) return self;
  const racks = new Map(ctx.cluster.brokers(null).map((b) => [b.nodeId, b.rack]));
  let best = self;
  let bestEnd = -1;
  let bestCaughtUp = -1;
  for (const id of partition.isr) {
    if (id === self || racks.get(id) !== rackId) continue;
    const f = partition.follower(id);
    if (f === undefined || f.logEndOffset < fetchOffset || f.logStartOffset > fetchOffset) continue;
    if (f.logEndOffset > bestEnd || (f.logEndOffset === bestEnd && f.lastCaughtUpTimeMs > bestCaughtUp)) {
      best = id;
      bestEnd = f.logEndOffset;
      bestCaughtUp = f.lastCaughtUpTimeMs;
    }
  }
  return best;
}
