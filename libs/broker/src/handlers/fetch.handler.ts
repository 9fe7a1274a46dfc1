import { ErrorCode, errorCodeOf, Fetch, KafkaProtocolError } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { FetchWaiters } from '../replica/fetch-waiters';
import type { ApiHandler } from './handler';

const EMPTY = Buffer.alloc(0);

/**
 * Fetch. Hot path: stored batches are returned as they are on disk (one read per
 * partition, referenced by the response writer, never decoded). A fetch with less than
 * min.bytes ready long-polls until an append to one of its partitions or max.wait.ms.
 * Consumers read up to the high watermark; followers (replicaId >= 0) up to the log end.
 * Incremental fetch sessions are not offered: sessionId 0 tells clients to send full fetches.
 */
export function fetchHandler(ctx: BrokerContext): ApiHandler<typeof Fetch> {
  return {
    api: Fetch,
    async handle(request) {
      if (request.sessionId !== 0) {
        return {
          throttleTimeMs: 0,
          errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
          sessionId: 0,
          responses: [],
        };
      }
      const isFollower = request.replicaId >= 0;
      const readCommitted = request.isolationLevel === 1;
      const maxBytes = request.maxBytes > 0 ? request.maxBytes : 0x7fffffff;

      const collect = () => {
        let remaining = maxBytes;
        let total = 0;
        let errors = false;
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
            const log = ctx.logs.partition(t.topic, p.partition);
            if (log === undefined) {
              errors = true;
              return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
            }
            try {
              const read = log.read(p.fetchOffset, Math.min(p.partitionMaxBytes, remaining), {
                maxOffset: isFollower ? undefined : log.highWatermark,
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
                lastStableOffset: read.highWatermark,
                logStartOffset: read.logStartOffset,
                records: read.records,
              };
            } catch (err) {
              errors = true;
              if (!(err instanceof KafkaProtocolError)) {
                ctx.logger.error(`fetch from ${t.topic}-${p.partition} failed: ${(err as Error).stack}`);
              }
              return {
                ...base,
                errorCode: errorCodeOf(err),
                highWatermark: log.highWatermark,
                lastStableOffset: log.highWatermark,
                logStartOffset: log.logStartOffset,
              };
            }
          }),
        }));
        return { responses, total, errors };
      };

      let result = collect();
      const deadline = Date.now() + request.maxWaitMs;
      if (result.total < request.minBytes && !result.errors && request.maxWaitMs > 0) {
        const keys = request.topics.flatMap((t) =>
          t.partitions.map((p) => FetchWaiters.key(t.topic, p.partition)),
        );
        while (result.total < request.minBytes && !result.errors && !ctx.waiters.closed) {
          const left = deadline - Date.now();
          if (left <= 0) break;
          await ctx.waiters.wait(keys, left);
          result = collect();
        }
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: result.responses };
    },
  };
}
