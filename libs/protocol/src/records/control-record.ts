import { KafkaProtocolError } from '../errors';
import { BATCH, type BatchHeader, CompressionType } from './batch-header';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type DecodedRecordBatch,
  type KafkaRecord,
  type RecordInput,
} from './record-batch';

/**
 * Control records: the one record of a control batch (attributes bit 5), written by a
 * partition leader when a transaction ends. A read_committed consumer uses ABORT markers
 * to drop the aborted transaction's records, and every consumer skips control batches.
 *
 *   key:   version int16 (0) | type int16 (0 ABORT, 1 COMMIT; KRaft uses 2+ internally)
 *   value: version int16 (0) | coordinatorEpoch int32   (transaction markers)
 */
export const enum ControlRecordType {
  Abort = 0,
  Commit = 1,
}

export interface ControlRecord {
  type: number;
  /** For ABORT and COMMIT markers; -1 for other types, whose values are not ours to read. */
  coordinatorEpoch: number;
}

const CONTROL_KEY_VERSION = 0;
const MARKER_VALUE_VERSION = 0;

/** Reads a control record's type and, for transaction markers, the coordinator epoch. */
export function parseControlRecord(record: KafkaRecord): ControlRecord {
  const key = record.key;
  if (key === null || key.length < 4) {
    throw KafkaProtocolError.corrupt(`control record key of ${key?.length ?? 'null'} bytes`);
  }
  // Also KRaft's own types (2 and up), which stay numbers without a name here.
  const type: ControlRecordType = key.readInt16BE(2);
  if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit) {
    return { type, coordinatorEpoch: -1 };
  }
  const value = record.value;
  if (value === null || value.length < 6) {
    throw KafkaProtocolError.corrupt(
      `transaction marker value of ${value?.length ?? 'null'} bytes, at least 6 expected`,
    );
  }
  return { type, coordinatorEpoch: value.readInt32BE(2) };
}

/** The record of a transaction marker batch (encode with isControl and isTransactional). */
export function transactionMarker(
  type: ControlRecordType,
  coordinatorEpoch: number,
  timestamp?: number,
): RecordInput {
  const key = Buffer.allocUnsafe(4);
  key.writeInt16BE(CONTROL_KEY_VERSION, 0);
  key.writeInt16BE(type, 2);
  const value = Buffer.allocUnsafe(6);
  value.writeInt16BE(MARKER_VALUE_VERSION, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return { key, value, headers: [], timestamp };
}

/**
 * read_committed over fetched batches, as Kafka's consumer does it: batches are walked in offset order; an aborted
 * transaction's producer counts as aborted from the transaction's first offset until its ABORT
 * marker, and its transactional batches in between are dropped. Returns whether to skip a batch
 * (and learns the markers as it goes, so it must see every batch in order).
 */
export function abortedTransactionFilter(
  aborted: readonly { producerId: number; firstOffset: number }[],
): (batch: DecodedRecordBatch) => boolean {
  const pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  return (batch) => {
    const h = batch.header;
    while (pending.length > 0 && pending[0].firstOffset <= h.lastOffset)
      abortedProducers.add((pending.shift() as { producerId: number }).producerId);
    if (h.isControl) {
      const marker = batch.records[0];
      if (marker !== undefined && parseControlRecord(marker).type === (ControlRecordType.Abort as number))
        abortedProducers.delete(h.producerId);
      return true;
    }
    return h.isTransactional && abortedProducers.has(h.producerId);
  };
}

/** What the leader of a partition appends when a transaction ends (WriteTxnMarkers). */
export interface TxnMarkerBatch {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly committed: boolean;
  /** The marker's timestamp; now when left out. */
  readonly timestamp?: number;
}

/**
 * The control batch of a transaction marker, as Kafka's MemoryRecords.withEndTransactionMarker
 * builds it: transactional, control, no sequence, one uncompressed record.
 */
export function encodeTxnMarkerBatch(marker: TxnMarkerBatch): Buffer {
  return encodeRecordBatch({
    records: [
      transactionMarker(
        marker.committed ? ControlRecordType.Commit : ControlRecordType.Abort,
        marker.coordinatorEpoch,
        marker.timestamp,
      ),
    ],
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    isTransactional: true,
    isControl: true,
  });
}

/** What a COMMIT or ABORT marker says. */
export interface TxnMarker {
  readonly committed: boolean;
  readonly coordinatorEpoch: number;
}

/**
 * The transaction marker a control batch carries, read from its first record without decoding
 * the batch (control batches are written uncompressed, one record each); null for a control
 * batch without records (compaction emptied it) or of another type. The whole batch must be in
 * the header's buffer. Throws CORRUPT_MESSAGE for a record that does not parse.
 */
export function readTxnMarker(h: BatchHeader): TxnMarker | null {
  if (h.recordCount === 0) return null;
  let type: ControlRecordType;
  let coordinatorEpoch: number;
  if (h.compression !== CompressionType.None) {
    const parsed = parseControlRecord(decodeRecordBatch(h.buf, h.at).records[0]);
    type = parsed.type;
    coordinatorEpoch = parsed.coordinatorEpoch;
  } else {
    const end = h.at + h.sizeInBytes;
    const c = { buf: h.buf, pos: h.at + BATCH.RECORDS, end };
    varint(c); // record length
    c.pos += 1; // record attributes
    varint(c); // timestamp delta (a varlong, read the same way)
    varint(c); // offset delta
    const keyLength = varint(c);
    if (keyLength < 4 || c.pos + keyLength > end) {
      throw KafkaProtocolError.corrupt(`control record key of ${keyLength} bytes`);
    }
    type = h.buf.readInt16BE(c.pos + 2);
    c.pos += keyLength;
    if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit) return null;
    const valueLength = varint(c);
    if (valueLength < 6 || c.pos + valueLength > end) {
      throw KafkaProtocolError.corrupt(
        `transaction marker value of ${valueLength} bytes, at least 6 expected`,
      );
    }
    coordinatorEpoch = h.buf.readInt32BE(c.pos + 2);
  }
  if (type !== ControlRecordType.Abort && type !== ControlRecordType.Commit) return null;
  return { committed: type === ControlRecordType.Commit, coordinatorEpoch };
}

/** A zig-zag varint of up to 10 bytes (a varlong's bytes too; only small values are used). */
function varint(c: { buf: Buffer; pos: number; end: number }): number {
  let u = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.end) throw KafkaProtocolError.corrupt('control record cut short');
    const b = c.buf[c.pos++];
    u += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    shift += 7;
  }
  throw KafkaProtocolError.corrupt('control record varint longer than 10 bytes');
}
