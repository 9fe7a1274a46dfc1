import { ErrorCode, errorCodeOf, KafkaProtocolError, ListOffsets } from '@tributary/protocol';
import type { BrokerContext } from '../broker-context';
import type { ApiHandler } from './handler';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

/** ListOffsets: earliest, latest (the high watermark for consumers), by timestamp, max timestamp (v7). */
export function listOffsetsHandler(ctx: BrokerContext): ApiHandler<typeof ListOffsets> {
  return {
    api: ListOffsets,
    handle(request, { apiVersion }) {
      const isFollower = request.replicaId >= 0;
      return {
        throttleTimeMs: 0,
        topics: request.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => {
            const base = { partitionIndex: p.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1 };
            const log = ctx.logs.partition(t.name, p.partitionIndex);
            if (log === undefined)
              return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, oldStyleOffsets: [] };
            try {
              const leaderEpoch = ctx.cluster.leadership(t.name, p.partitionIndex).leaderEpoch;
              let found: { offset: number; timestamp: number } | null;
              if (p.timestamp === LATEST) {
                found = { offset: isFollower ? log.logEndOffset : log.highWatermark, timestamp: -1 };
              } else if (p.timestamp === EARLIEST) {
                found = { offset: log.logStartOffset, timestamp: -1 };
              } else if (p.timestamp === MAX_TIMESTAMP) {
                found = log.offsetOfMaxTimestamp();
              } else if (p.timestamp < 0) {
                throw KafkaProtocolError.invalidRequest(
                  `timestamp ${p.timestamp} is not a time or -1, -2, -3`,
                );
              } else {
                found = log.offsetForTimestamp(p.timestamp);
                if (found !== null && !isFollower && found.offset >= log.highWatermark) found = null;
              }
              const offset = found?.offset ?? -1;
              return {
                ...base,
                errorCode: ErrorCode.NONE,
                timestamp: found?.timestamp ?? -1,
                offset,
                leaderEpoch: found === null ? -1 : leaderEpoch,
                oldStyleOffsets: apiVersion === 0 && offset >= 0 ? [offset] : [],
              };
            } catch (err) {
              return { ...base, errorCode: errorCodeOf(err), oldStyleOffsets: [] };
            }
          }),
        })),
      };
    },
  };
}
