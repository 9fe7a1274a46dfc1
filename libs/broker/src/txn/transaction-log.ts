import { KafkaProtocolError, Reader, Writer } from '@tributary/protocol';
import { javaStringHashCode } from '../group/group-records';
import {
  TRANSACTION_STATE_IDS,
  transactionStateOf,
  type TopicPartition,
  type TransactionState,
} from './transaction-metadata';

/**
 * The records of `__transaction_state`, in Kafka's formats (its TransactionLogKey and
 * TransactionLogValue) so that Kafka's tools read them. Each key and value starts with an
 * int16 version:
 *
 *   TransactionLogKey v0:    transactionalId string
 *   TransactionLogValue v0:  producerId int64 | producerEpoch int16 | transactionTimeoutMs int32 |
 *                            transactionStatus int8 | transactionPartitions nullable array of
 *                            [topic string | partitionIds int32 array] |
 *                            transactionLastUpdateTimestampMs int64 | transactionStartTimestampMs int64
 *   TransactionLogValue v1:  v0 in the compact (flexible) encoding, with tagged fields
 *                            (previous and next producer id, client transaction version: KIP-890)
 *
 * We write key v0 and value v0 (Kafka's format without KIP-890's transaction version 2), with
 * no partitions (null) for an Empty transaction; reading accepts both value versions. A null
 * value is a tombstone: the transactional id expired.
 */

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

export interface TransactionLogValue {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly transactionTimeoutMs: number;
  readonly state: TransactionState;
  readonly topicPartitions: readonly TopicPartition[];
  readonly lastUpdateTimestamp: number;
  readonly startTimestamp: number;
}

/** The partition of __transaction_state holding a transactional id: Utils.abs(hashCode) % partitions. */
export function transactionPartitionFor(transactionalId: string, numPartitions: number): number {
  const h = javaStringHashCode(transactionalId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % numPartitions;
}

export function encodeTransactionLogKey(transactionalId: string): Buffer {
  return new Writer(32).int16(0).string(transactionalId).toBuffer();
}

/** The transactional id of a key; null for a key version this coordinator does not know. */
export function decodeTransactionLogKey(key: Buffer): string | null {
  const r = new Reader(key);
  if (r.int16() !== 0) return null;
  return r.string();
}

/** Partitions grouped by topic, in the order their topics first appear. */
function byTopic(partitions: readonly TopicPartition[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = out.get(topic);
    if (list === undefined) out.set(topic, [partition]);
    else list.push(partition);
  }
  return out;
}

export function encodeTransactionLogValue(v: TransactionLogValue): Buffer {
  const w = new Writer(64)
    .int16(0)
    .int64(v.producerId)
    .int16(v.producerEpoch)
    .int32(v.transactionTimeoutMs)
    .int8(TRANSACTION_STATE_IDS[v.state]);
  if (v.state === 'Empty') w.int32(-1);
  else {
    const topics = byTopic(v.topicPartitions);
    w.int32(topics.size);
    for (const [topic, partitions] of topics) {
      w.string(topic).int32(partitions.length);
      for (const p of partitions) w.int32(p);
    }
  }
  return w.int64(v.lastUpdateTimestamp).int64(v.startTimestamp).toBuffer();
}

function skipTaggedFields(r: Reader): void {
  for (let n = r.uvarint(); n > 0; n--) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

export function decodeTransactionLogValue(value: Buffer): TransactionLogValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version !== 0 && version !== 1) {
    throw KafkaProtocolError.corrupt(`unknown TransactionLogValue version ${version}`);
  }
  const flexible = version === 1;
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const transactionTimeoutMs = r.int32();
  const state = transactionStateOf(r.int8());
  const topicPartitions: TopicPartition[] = [];
  const topics = r.arrayLength(flexible);
  for (let i = 0; i < topics; i++) {
    const topic = flexible ? r.compactString() : r.string();
    const count = r.arrayLength(flexible);
    for (let j = 0; j < count; j++) topicPartitions.push({ topic, partition: r.int32() });
    if (flexible) skipTaggedFields(r);
  }
  const lastUpdateTimestamp = r.int64();
  const startTimestamp = r.int64();
  if (flexible) skipTaggedFields(r);
  return {
    producerId,
    producerEpoch,
    transactionTimeoutMs,
    state,
    // An Empty transaction has no partitions whatever the record says, as Kafka reads it.
    topicPartitions: state === 'Empty' ? [] : topicPartitions,
    lastUpdateTimestamp,
    startTimestamp,
  };
}
