import {
  BATCH,
  BatchHeader,
  ErrorCode,
  errorCodeOf,
  KafkaProtocolError,
  MirrorProduce,
} from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import { FetchWaiters } from '../replica/fetch-waiters';
import type { ApiHandler } from './handler';

/**
 * MirrorProduce: the replicator's append into a mirror topic with the source's offsets.
 * Hot path: batches are appended as they were fetched from the source (never decoded); only
 * the partition leader epoch is restamped with this cluster's (outside the CRC), so the
 * target's own epoch history stays its own. Batches already in the log (a replicator that
 * restarted and resent) are skipped; a batch that straddles the log end is refused.
 */
export function mirrorProduceHandler(ctx: BrokerContext): ApiHandler<typeof MirrorProduce> {
  return {
    api: MirrorProduce,
    handle(request) {
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const log = ctx.logs.partition(t.name, p.index);
            if (log === undefined) {
              return {
                index: p.index,
                errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                errorMessage: null,
                logEndOffset: -1,
              };
            }
            try {
              if (log.config.mirrorOf === '') {
                throw new KafkaProtocolError(
                  ErrorCode.POLICY_VIOLATION,
                  `${t.name} is not a mirror topic (no tributary.mirror.of): it was promoted or never was one`,
                );
              }
              const records = p.records ?? Buffer.alloc(0);
              const leaderEpoch = ctx.cluster.leadership(t.name, p.index).leaderEpoch;
              let from = 0;
              let at = 0;
              while (records.length - at >= BATCH.HEADER_SIZE) {
                const h = new BatchHeader(records, at);
                const size = h.sizeInBytes;
                if (size < BATCH.HEADER_SIZE || at + size > records.length) {
                  throw KafkaProtocolError.corrupt(
                    `batch at byte ${at} claims ${size} bytes of ${records.length - at}`,
                  );
                }
                if (h.lastOffset < log.logEndOffset) from = at + size;
                else if (h.baseOffset < log.logEndOffset) {
                  throw new KafkaProtocolError(
                    ErrorCode.OFFSET_OUT_OF_RANGE,
                    `batch ${h.baseOffset}-${h.lastOffset} straddles ${t.name}-${p.index}'s log end ${log.logEndOffset}`,
                  );
                } else h.setPartitionLeaderEpoch(leaderEpoch);
                at += size;
              }
              if (at !== records.length)
                throw KafkaProtocolError.corrupt(`${records.length - at} trailing bytes`);
              if (from < records.length) {
                log.appendAsFollower(from === 0 ? records : records.subarray(from));
                ctx.waiters.notify(FetchWaiters.key(t.name, p.index));
              }
              return {
                index: p.index,
                errorCode: ErrorCode.NONE,
                errorMessage: null,
                logEndOffset: log.logEndOffset,
              };
            } catch (err) {
              if (!(err instanceof KafkaProtocolError)) {
                ctx.logger.error(
                  `mirror produce to ${t.name}-${p.index} for ${request.flow} failed: ${(err as Error).stack}`,
                );
              }
              return {
                index: p.index,
                errorCode: errorCodeOf(err),
                errorMessage: (err as Error).message,
                logEndOffset: log.logEndOffset,
              };
            }
          }),
        })),
      };
    },
  };
}
