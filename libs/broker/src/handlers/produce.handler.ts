import {
  ErrorCode,
  errorCodeOf,
  KafkaProtocolError,
  Produce,
  validateProducedBatches,
} from '@tributary/protocol';
import { RecordValidationError } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import { FetchWaiters } from '../replica/fetch-waiters';
import type { ApiHandler } from './handler';

/** Producers may not write into a mirror topic: the replicator owns its offsets until promotion. */
export function mirrorTopicRefused(topic: string, mirrorOf: string): KafkaProtocolError {
  return new KafkaProtocolError(
    ErrorCode.POLICY_VIOLATION,
    `${topic} is a mirror of ${mirrorOf}, written by the replicator with the source's offsets; ` +
      'promote it (remove tributary.mirror.of) before producing to it',
  );
}

/**
 * Produce. Hot path: each partition's records are validated from their batch headers
 * (framing, magic, CRC-32C), offsets are assigned by rewriting headers in the log, and the
 * bytes are appended as they came; no record is decoded. An idempotent producer's batches
 * are checked against the partition's producer state, from the same headers: a retried
 * batch is answered NONE with its original offset and not appended again. A compacted topic
 * decodes the records for one check only: each must have a key (INVALID_RECORD, with
 * recordErrors naming the records, as Kafka answers). With a lone broker the ISR is the
 * leader alone, so acks=1 and acks=-1 complete on the local append.
 */
export function produceHandler(ctx: BrokerContext): ApiHandler<typeof Produce> {
  return {
    api: Produce,
    handle(request) {
      const acks = request.acks;
      const invalidAcks = acks !== 0 && acks !== 1 && acks !== -1;
      const responses = request.topicData.map((topic) => ({
        name: topic.name,
        partitionResponses: topic.partitionData.map((p) => {
          const base = { index: p.index, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
          if (invalidAcks) return { ...base, errorCode: ErrorCode.INVALID_REQUIRED_ACKS };
          const log = ctx.logs.partition(topic.name, p.index);
          if (log === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          try {
            if (request.transactionalId !== null) {
              throw new KafkaProtocolError(
                ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                'transactions are not supported',
              );
            }
            if (p.records === null || p.records.length === 0) {
              throw KafkaProtocolError.corrupt('produce request without records');
            }
            if (log.config.mirrorOf !== '') throw mirrorTopicRefused(topic.name, log.config.mirrorOf);
            validateProducedBatches(p.records);
            const leaderEpoch = ctx.cluster.leadership(topic.name, p.index).leaderEpoch;
            const appended = log.append(p.records, leaderEpoch);
            if (!appended.duplicate) ctx.waiters.notify(FetchWaiters.key(topic.name, p.index));
            return {
              ...base,
              errorCode: ErrorCode.NONE,
              baseOffset: appended.baseOffset,
              logAppendTimeMs: appended.logAppendTime,
              logStartOffset: log.logStartOffset,
            };
          } catch (err) {
            if (!(err instanceof KafkaProtocolError)) {
              ctx.logger.error(`produce to ${topic.name}-${p.index} failed: ${(err as Error).stack}`);
            }
            const errorCode = errorCodeOf(err);
            const recordErrors =
              err instanceof RecordValidationError
                ? err.recordErrors.map((e) => ({
                    batchIndex: e.batchIndex,
                    batchIndexErrorMessage: e.message,
                  }))
                : [];
            return { ...base, errorCode, errorMessage: (err as Error).message, recordErrors };
          }
        }),
      }));
      return acks === 0 ? null : { responses, throttleTimeMs: 0 };
    },
  };
}
