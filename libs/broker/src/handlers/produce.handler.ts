import {
  AclOperation,
  ErrorCode,
  errorCodeOf,
  KafkaProtocolError,
  Produce,
  validateProducedBatches,
} from '@tributary/protocol';
import { RecordValidationError } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import { throttleProduce } from '../quota/throttle';
import { authorizeTopic } from '../security/authorize';
import type { ApiHandler } from './handler';

/** Producers may not write into a mirror topic: the replicator owns its offsets until promotion. */
export function mirrorTopicRefused(topic: string, mirrorOf: string): KafkaProtocolError {
  return new KafkaProtocolError(
    ErrorCode.POLICY_VIOLATION,
    `${topic} is a mirror of ${mirrorOf}, written by the replicator with the source's offsets; ` +
      'promote it (remove tributary.mirror.of) before producing to it',
  );
}

/** Kafka's internal topics: written by brokers only (Kafka's ReplicaManager refuses clients' appends). */
export function isInternalTopic(topic: string): boolean {
  return topic === '__consumer_offsets' || topic === '__transaction_state';
}

/**
 * Produce. Hot path: each partition's records are validated from their batch headers
 * (framing, magic, CRC-32C), offsets are assigned by rewriting headers in the log, and the
 * bytes are appended as they came; no record is decoded. An idempotent producer's batches
 * are checked against the partition's producer state, from the same headers: a retried
 * batch is answered NONE with its original offset and not appended again. A compacted topic
 * decodes the records for one check only: each must have a key (INVALID_RECORD, with
 * recordErrors naming the records, as Kafka answers).
 *
 * Only the leader appends (NOT_LEADER_OR_FOLLOWER elsewhere). acks=1 is answered after the
 * leader's append; acks=-1 needs min.insync.replicas in the ISR before appending
 * (NOT_ENOUGH_REPLICAS) and is answered once the high watermark passed the batch, that is
 * once every ISR member has it (Kafka's produce purgatory), or REQUEST_TIMED_OUT after
 * timeoutMs. On a lone broker the ISR is the broker, so acks=-1 completes on the append.
 * With an authorizer, each topic needs WRITE (else TOPIC_AUTHORIZATION_FAILED, nothing appended).
 * acks=0 gets no answer, so a failed acks=0 request closes the connection, as in Kafka.
 * A producer_byte_rate quota counts the request's size; over it, the answer carries the
 * throttle time and the connection is muted for that long (acks=0 too, without an answer).
 */
export function produceHandler(ctx: BrokerContext): ApiHandler<typeof Produce> {
  return {
    api: Produce,
    handle(request, rc) {
      const connection = rc.connection;
      const acks = request.acks;
      const invalidAcks = acks !== 0 && acks !== 1 && acks !== -1;
      const now = Date.now();
      let waiting: Promise<void>[] | null = null;
      const responses = request.topicData.map((topic) => {
        const authorized = authorizeTopic(ctx, connection, AclOperation.WRITE, topic.name);
        return {
          name: topic.name,
          partitionResponses: topic.partitionData.map((p) => {
            const base = { index: p.index, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
            if (!authorized) return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
            if (invalidAcks) return { ...base, errorCode: ErrorCode.INVALID_REQUIRED_ACKS };
            const partition = ctx.replicas.get(topic.name, p.index);
            if (partition === undefined)
              return { ...base, errorCode: unknownPartitionCode(ctx, topic.name, p.index) };
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
              if (isInternalTopic(topic.name))
                throw new KafkaProtocolError(
                  ErrorCode.INVALID_TOPIC_EXCEPTION,
                  `Cannot append to internal topic ${topic.name}`,
                );
              const mirrorOf = partition.log.config.mirrorOf;
              if (mirrorOf !== '') throw mirrorTopicRefused(topic.name, mirrorOf);
              validateProducedBatches(p.records);
              const appended = partition.appendAsLeader(p.records, acks, now);
              const response = {
                ...base,
                errorCode: ErrorCode.NONE as number,
                baseOffset: appended.baseOffset,
                logAppendTimeMs: appended.logAppendTime,
                logStartOffset: partition.log.logStartOffset,
              };
              if (acks === -1 && partition.highWatermark <= appended.lastOffset) {
                (waiting ??= []).push(
                  partition.waitForReplication(appended.lastOffset + 1, request.timeoutMs).then((code) => {
                    response.errorCode = code;
                    if (code !== ErrorCode.NONE) response.baseOffset = -1;
                  }),
                );
              }
              return response;
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
        };
      });
      const throttleTimeMs = throttleProduce(ctx, rc);
      if (acks === 0) {
        // No answer to carry an error: as Kafka, the connection is closed so the producer notices.
        if (responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== ErrorCode.NONE)))
          connection.end();
        return null;
      }
      const response = { responses, throttleTimeMs };
      if (waiting === null) return response;
      return Promise.all(waiting as Promise<void>[]).then(() => response);
    },
  };
}

/**
 * A partition this broker holds no replica of: NOT_LEADER_OR_FOLLOWER when the cluster has
 * it (the client's metadata is stale), UNKNOWN_TOPIC_OR_PARTITION when nobody does.
 */
export function unknownPartitionCode(ctx: BrokerContext, topic: string, partition: number): number {
  const t = ctx.cluster.topic(topic);
  return t !== undefined && partition >= 0 && partition < t.numPartitions
    ? ErrorCode.NOT_LEADER_OR_FOLLOWER
    : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
}
