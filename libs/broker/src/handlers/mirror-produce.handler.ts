import {
  AclOperation,
  BATCH,
  BatchHeader,
  ErrorCode,
  errorCodeOf,
  KafkaProtocolError,
  MirrorProduce,
} from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from './handler';
import { throttleProduce } from '../quota/throttle';
import { authorizeTopic } from '../security/authorize';
import { unknownPartitionCode } from './produce.handler';

/**
 * MirrorProduce: the replicator's append into a mirror topic with the source's offsets.
 * Hot path: batches are appended as they were fetched from the source (never decoded); only
 * the partition leader epoch is restamped with this leader's (outside the CRC), so the
 * target's own epoch history stays its own. See the API definition for the offset rules.
 * With an authorizer the replicator's principal needs WRITE and ALTER on the mirror topic:
 * choosing offsets is more than producing, so a producer's WRITE alone is not enough.
 */
export function mirrorProduceHandler(ctx: BrokerContext): ApiHandler<typeof MirrorProduce> {
  return {
    api: MirrorProduce,
    handle(request, rc) {
      const connection = rc.connection;
      const now = Date.now();
      let waiting: Promise<void>[] | null = null;
      const topics = request.topics.map((t) => {
        const authorized =
          authorizeTopic(ctx, connection, AclOperation.WRITE, t.name) &&
          authorizeTopic(ctx, connection, AclOperation.ALTER, t.name);
        return {
          name: t.name,
          partitions: t.partitions.map((p) => {
            if (!authorized)
              return {
                index: p.index,
                errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                errorMessage: `not authorized: WRITE and ALTER on topic ${t.name}`,
                logEndOffset: -1,
              };
            const partition = ctx.replicas.get(t.name, p.index);
            if (partition === undefined) {
              return {
                index: p.index,
                errorCode: unknownPartitionCode(ctx, t.name, p.index),
                errorMessage: null,
                logEndOffset: -1,
              };
            }
            const log = partition.log;
            const result = {
              index: p.index,
              errorCode: ErrorCode.NONE as number,
              errorMessage: null as string | null,
              logEndOffset: log.logEndOffset,
            };
            try {
              if (log.config.mirrorOf === '') {
                throw new KafkaProtocolError(
                  ErrorCode.POLICY_VIOLATION,
                  `${t.name} is not a mirror topic (no tributary.mirror.of): it was promoted or never was one`,
                );
              }
              const records = p.records ?? Buffer.alloc(0);
              const end = log.logEndOffset;
              // The same limits as Produce: the replicator cuts its writes to fit them.
              if (records.length > log.config.segmentBytes) {
                throw new KafkaProtocolError(
                  ErrorCode.RECORD_LIST_TOO_LARGE,
                  `${records.length} bytes of batches for ${t.name}-${p.index} exceed segment.bytes ${log.config.segmentBytes}`,
                );
              }
              let from = 0;
              let first: BatchHeader | null = null;
              for (let at = 0; at < records.length;) {
                if (records.length - at < BATCH.HEADER_SIZE)
                  throw KafkaProtocolError.corrupt(`${records.length - at} trailing bytes`);
                const h = new BatchHeader(records, at);
                const size = h.sizeInBytes;
                if (size < BATCH.HEADER_SIZE || at + size > records.length) {
                  throw KafkaProtocolError.corrupt(
                    `batch at byte ${at} claims ${size} bytes of ${records.length - at}`,
                  );
                }
                if (size > log.config.maxMessageBytes) {
                  throw new KafkaProtocolError(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    `the batch at offset ${h.baseOffset} is ${size} bytes, more than ${t.name}'s max.message.bytes ${log.config.maxMessageBytes}`,
                  );
                }
                if (h.lastOffset < end) from = at + size;
                else {
                  if (first === null) first = h;
                  h.setPartitionLeaderEpoch(partition.leaderEpoch);
                }
                at += size;
              }
              if (first !== null) {
                if (first.baseOffset < end) {
                  throw new KafkaProtocolError(
                    ErrorCode.OFFSET_OUT_OF_RANGE,
                    `batch ${first.baseOffset}-${first.lastOffset} straddles ${t.name}-${p.index}'s log end ${end}`,
                  );
                }
                if (first.baseOffset > end && p.expectedLogEndOffset !== end) {
                  throw new KafkaProtocolError(
                    ErrorCode.OFFSET_OUT_OF_RANGE,
                    `${t.name}-${p.index} ends at ${end}, not at ${p.expectedLogEndOffset} where the replicator fetched: refetch from ${end}`,
                  );
                }
                const appended = partition.appendMirrorAsLeader(
                  from === 0 ? records : records.subarray(from),
                  now,
                );
                result.logEndOffset = log.logEndOffset;
                if (partition.highWatermark <= appended.lastOffset) {
                  (waiting ??= []).push(
                    partition.waitForReplication(appended.lastOffset + 1, request.timeoutMs).then((code) => {
                      result.errorCode = code;
                    }),
                  );
                }
              }
              return result;
            } catch (err) {
              if (!(err instanceof KafkaProtocolError)) {
                ctx.logger.error(
                  `mirror produce to ${t.name}-${p.index} for ${request.flow} failed: ${(err as Error).stack}`,
                );
              }
              return { ...result, errorCode: errorCodeOf(err), errorMessage: (err as Error).message };
            }
          }),
        };
      });
      // The replicator's own client.id can carry a producer_byte_rate quota, like any producer's.
      const response = { throttleTimeMs: throttleProduce(ctx, rc), topics };
      return waiting === null ? response : Promise.all(waiting as Promise<void>[]).then(() => response);
    },
  };
}
