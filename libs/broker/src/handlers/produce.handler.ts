import {
  AclOperation,
  AclResourceType,
  ATTRIBUTE,
  BATCH,
  BatchHeader,
  ErrorCode,
  errorCodeOf,
  errorName,
  KafkaProtocolError,
  Produce,
  type RequestOf,
  upConvertMessageSet,
  validateProducedBatches,
} from '@tributary/protocol';
import { NO_VERIFICATION_GUARD, RecordValidationError } from '@tributary/storage';
import type { BrokerContext } from '../broker-context';
import { throttleProduce } from '../quota/throttle';
import type { Partition } from '../replica/partition';
import { authorizeTopic } from '../security/authorize';
import type { ApiHandler, RequestContext } from './handler';

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
 *
 * Transactions (KIP-98): a request with transactional batches must name its transactionalId
 * and, with an authorizer, have WRITE on it (else every partition is
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED); clients may not write control batches
 * (INVALID_RECORD). The producer state refuses a stale epoch (INVALID_PRODUCER_EPOCH) and a
 * plain batch inside an open transaction (INVALID_TXN_STATE). With a transaction verifier
 * (KIP-890), a producer's first transactional batch on a partition waits until the
 * coordinator confirmed the partition is in its transaction: INVALID_TXN_STATE when it is
 * not, its transient errors as NOT_ENOUGH_REPLICAS (which old clients retry), as Kafka does.
 * Only the first batch of each partition's records is looked at for this, from its header.
 */
export function produceHandler(ctx: BrokerContext): ApiHandler<typeof Produce> {
  return {
    api: Produce,
    // Batches are written to the log (or copied, awaiting verification) before handle()
    // returns; an acks=-1 answer waits for replication without them.
    releasesRequest: true,
    handle(request, rc) {
      const connection = rc.connection;
      const acks = request.acks;
      const invalidAcks = acks !== 0 && acks !== 1 && acks !== -1;
      const now = Date.now();
      // Legacy message sets (v0-v2) cannot be transactional and have no batch attributes to read.
      const txnRefused = rc.apiVersion < 3 ? null : transactionalIdRefused(ctx, request, connection);
      // Filled by the partitions: acks=-1 waits, and transactional batches awaiting verification.
      const pending: { waiting: Promise<void>[] | null; unverified: Map<string, UnverifiedAppend[]> | null } =
        {
          waiting: null,
          unverified: null,
        };

      /**
       * Appends as leader; with acks=-1 the response is completed once replicated. The bytes
       * in and records in are counted here, while `records` is still the request's.
       */
      const append = (partition: Partition, records: Buffer, response: PartitionResponse, guard?: number) => {
        const appended = partition.appendAsLeader(records, acks, now, guard);
        ctx.metrics?.produced(partition.topic, records);
        response.errorCode = ErrorCode.NONE;
        response.baseOffset = appended.baseOffset;
        response.logAppendTimeMs = appended.logAppendTime;
        response.logStartOffset = partition.log.logStartOffset;
        if (acks === -1 && partition.highWatermark <= appended.lastOffset) {
          (pending.waiting ??= []).push(
            partition.waitForReplication(appended.lastOffset + 1, request.timeoutMs).then((code) => {
              response.errorCode = code;
              if (code !== ErrorCode.NONE) response.baseOffset = -1;
            }),
          );
        }
      };

      const responses = request.topicData.map((topic) => {
        const authorized = authorizeTopic(ctx, connection, AclOperation.WRITE, topic.name);
        return {
          name: topic.name,
          partitionResponses: topic.partitionData.map((p) => {
            const response: PartitionResponse = {
              index: p.index,
              errorCode: ErrorCode.NONE,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: -1,
            };
            if (txnRefused !== null) return failed(response, txnRefused);
            if (!authorized) return failed(response, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
            if (invalidAcks) return failed(response, ErrorCode.INVALID_REQUIRED_ACKS);
            const partition = ctx.replicas.get(topic.name, p.index);
            if (partition === undefined)
              return failed(response, unknownPartitionCode(ctx, topic.name, p.index));
            try {
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
              // Produce v0-v2 (clients of Kafka 0.8-0.10) send legacy message sets: stored as batches v2.
              const records = rc.apiVersion < 3 ? upConvertMessageSet(p.records).batch : p.records;
              const headers = validateProducedBatches(records);
              for (const h of headers) {
                if (h.isControl)
                  throw new KafkaProtocolError(
                    ErrorCode.INVALID_RECORD,
                    `Clients are not allowed to write control records in topic partition ${topic.name}-${p.index}`,
                  );
              }
              const first = headers[0];
              let guard: number | undefined;
              if (
                first.isTransactional &&
                ctx.replicas.transactionVerifier !== null &&
                first.producerId >= 0
              ) {
                guard = partition.log.maybeStartTransactionVerification(
                  first.producerId,
                  first.producerEpoch,
                );
                if (guard !== NO_VERIFICATION_GUARD) {
                  const key = `${first.producerId}:${first.producerEpoch}`;
                  const unverified = (pending.unverified ??= new Map<string, UnverifiedAppend[]>());
                  let list = unverified.get(key);
                  if (list === undefined) unverified.set(key, (list = []));
                  // A copy: the request's bytes are the connection's again once handle() returns.
                  const records = Buffer.from(p.records);
                  list.push({
                    topic: topic.name,
                    partition,
                    records,
                    response,
                    guard,
                    header: new BatchHeader(records, 0),
                  });
                  return response;
                }
              }
              append(partition, records, response, guard);
              return response;
            } catch (err) {
              return failedWith(ctx, response, `${topic.name}-${p.index}`, err);
            }
          }),
        };
      });
      const throttleTimeMs = throttleProduce(ctx, rc);
      const answer = () => {
        if (acks === 0) {
          // No answer to carry an error: as Kafka, the connection is closed so the producer notices.
          if (responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== ErrorCode.NONE)))
            connection.end();
          return null;
        }
        const response = { responses, throttleTimeMs };
        if (pending.waiting === null) return response;
        return Promise.all(pending.waiting).then(() => response);
      };
      if (pending.unverified === null) return answer();
      const verifications = [...pending.unverified.values()].map((list) =>
        verifyThenAppend(ctx, request.transactionalId ?? '', list, append),
      );
      return Promise.all(verifications).then(answer);
    },
  };
}

interface PartitionResponse {
  index: number;
  errorCode: number;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  errorMessage?: string;
  recordErrors?: { batchIndex: number; batchIndexErrorMessage: string }[];
}

/** A transactional batch waiting for the coordinator to confirm its partition (KIP-890). */
interface UnverifiedAppend {
  readonly topic: string;
  readonly partition: Partition;
  readonly records: Buffer;
  readonly response: PartitionResponse;
  readonly guard: number;
  readonly header: BatchHeader;
}

/**
 * Kafka's ReplicaManager: transactional records need a transactionalId with WRITE on it; the
 * whole request is refused otherwise. Looks at each partition's first batch header only.
 */
function transactionalIdRefused(
  ctx: BrokerContext,
  request: RequestOf<typeof Produce>,
  connection: RequestContext['connection'],
): number | null {
  const transactional = request.topicData.some((t) =>
    t.partitionData.some(
      (p) =>
        p.records !== null &&
        p.records.length >= BATCH.HEADER_SIZE &&
        (p.records.readInt16BE(BATCH.ATTRIBUTES) & ATTRIBUTE.TRANSACTIONAL) !== 0,
    ),
  );
  if (!transactional) return null;
  const id = request.transactionalId;
  const allowed =
    id !== null &&
    ctx.security.authorizer.authorize(
      connection.session,
      AclOperation.WRITE,
      AclResourceType.TRANSACTIONAL_ID,
      id,
    );
  return allowed ? null : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

/**
 * Asks the coordinator about one producer's unverified partitions, then appends those it
 * confirmed with their guards. Its errors become what Kafka's produce answers with.
 */
async function verifyThenAppend(
  ctx: BrokerContext,
  transactionalId: string,
  list: readonly UnverifiedAppend[],
  append: (partition: Partition, records: Buffer, response: PartitionResponse, guard?: number) => void,
): Promise<void> {
  const first = list[0].header;
  let results: readonly { topic: string; partition: number; errorCode: number }[];
  try {
    results = await ctx.replicas.transactionVerifier!({
      transactionalId,
      producerId: first.producerId,
      producerEpoch: first.producerEpoch,
      partitions: list.map((u) => ({ topic: u.topic, partition: u.partition.index })),
    });
  } catch (err) {
    ctx.logger.warn(`verifying the transaction of ${transactionalId}: ${(err as Error).message}`);
    results = list.map((u) => ({
      topic: u.topic,
      partition: u.partition.index,
      errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
    }));
  }
  for (const u of list) {
    const code =
      results.find((r) => r.topic === u.topic && r.partition === u.partition.index)?.errorCode ??
      ErrorCode.INVALID_TXN_STATE;
    const where = `${u.topic}-${u.partition.index}`;
    if (code !== ErrorCode.NONE) {
      failedWith(ctx, u.response, where, verificationError(code, where));
      continue;
    }
    try {
      append(u.partition, u.records, u.response, u.guard);
    } catch (err) {
      failedWith(ctx, u.response, where, err);
    }
  }
}

/** Kafka's mapping of a verification's error for the producer (ReplicaManager, AddPartitionsToTxnManager). */
function verificationError(code: number, where: string): KafkaProtocolError {
  switch (code) {
    case ErrorCode.INVALID_TXN_STATE:
      return new KafkaProtocolError(code, `Partition ${where} was not added to the transaction`);
    case ErrorCode.PRODUCER_FENCED:
      return new KafkaProtocolError(ErrorCode.INVALID_PRODUCER_EPOCH, `the producer was fenced (${where})`);
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.NETWORK_EXCEPTION:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return new KafkaProtocolError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `Unable to verify the partition has been added to the transaction. Underlying error: ${errorName(code)}`,
      );
    default:
      return new KafkaProtocolError(code, `verifying the transaction for ${where} failed`);
  }
}

function failed(response: PartitionResponse, errorCode: number): PartitionResponse {
  response.errorCode = errorCode;
  return response;
}

function failedWith(
  ctx: BrokerContext,
  response: PartitionResponse,
  where: string,
  err: unknown,
): PartitionResponse {
  if (!(err instanceof KafkaProtocolError)) {
    ctx.logger.error(`produce to ${where} failed: ${(err as Error).stack}`);
  }
  response.errorCode = errorCodeOf(err);
  response.baseOffset = -1;
  response.errorMessage = (err as Error).message;
  response.recordErrors =
    err instanceof RecordValidationError
      ? err.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message }))
      : [];
  return response;
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
