import { crc32c } from '@node-rs/crc32';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';

/**
 * RecordBatch v2 header: field offsets and reads straight from the bytes. The broker's
 * produce and fetch paths and the log work on these headers only and never decode records.
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
 *
 * batchLength counts the bytes after itself; the CRC-32C covers attributes to the end, so
 * baseOffset and partitionLeaderEpoch can be rewritten without recomputing it.
 */
export const BATCH = {
  BASE_OFFSET: 0,
  BATCH_LENGTH: 8,
  PARTITION_LEADER_EPOCH: 12,
  MAGIC: 16,
  CRC: 17,
  ATTRIBUTES: 21,
  LAST_OFFSET_DELTA: 23,
  BASE_TIMESTAMP: 27,
  MAX_TIMESTAMP: 35,
  PRODUCER_ID: 43,
  PRODUCER_EPOCH: 51,
  BASE_SEQUENCE: 53,
  RECORD_COUNT: 57,
  RECORDS: 61,
  /** Bytes before batchLength's count starts: baseOffset and batchLength itself. */
  LOG_OVERHEAD: 12,
  HEADER_SIZE: 61,
} as const;

export const ATTRIBUTE = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_TYPE_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
  DELETE_HORIZON: 0x40,
} as const;

export const enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

/** Attributes bit 3: whose clock a batch's timestamps are. */
export const enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

/** The header fields of the batch that starts at `at`. */
export class BatchHeader {
  constructor(
    readonly buf: Buffer,
    readonly at = 0,
  ) {}

  get baseOffset(): number {
    return readInt64(this.buf, this.at + BATCH.BASE_OFFSET);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(this.at + BATCH.BATCH_LENGTH);
  }
  /** The whole batch's size in bytes. */
  get sizeInBytes(): number {
    return this.batchLength + BATCH.LOG_OVERHEAD;
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.at + BATCH.PARTITION_LEADER_EPOCH);
  }
  get magic(): number {
    return this.buf.readInt8(this.at + BATCH.MAGIC);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.at + BATCH.CRC);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.at + BATCH.ATTRIBUTES);
  }
  get compression(): CompressionType {
    return this.attributes & ATTRIBUTE.COMPRESSION_MASK;
  }
  get isTransactional(): boolean {
    return (this.attributes & ATTRIBUTE.TRANSACTIONAL) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & ATTRIBUTE.CONTROL) !== 0;
  }
  get timestampType(): TimestampType {
    return (this.attributes & ATTRIBUTE.TIMESTAMP_TYPE_LOG_APPEND) !== 0
      ? TimestampType.LogAppendTime
      : TimestampType.CreateTime;
  }
  /** Compaction has stamped baseTimestamp as the time its tombstones may be dropped. */
  get hasDeleteHorizon(): boolean {
    return (this.attributes & ATTRIBUTE.DELETE_HORIZON) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.at + BATCH.LAST_OFFSET_DELTA);
  }
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  get baseTimestamp(): number {
    return readInt64(this.buf, this.at + BATCH.BASE_TIMESTAMP);
  }
  get maxTimestamp(): number {
    return readInt64(this.buf, this.at + BATCH.MAX_TIMESTAMP);
  }
  get producerId(): number {
    return readInt64(this.buf, this.at + BATCH.PRODUCER_ID);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.at + BATCH.PRODUCER_EPOCH);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.at + BATCH.BASE_SEQUENCE);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.at + BATCH.RECORD_COUNT);
  }

  /** CRC-32C of attributes..end, computed natively. */
  computeCrc(): number {
    return crc32c(this.buf.subarray(this.at + BATCH.ATTRIBUTES, this.at + this.sizeInBytes)) >>> 0;
  }

  isCrcValid(): boolean {
    return this.computeCrc() === this.crc;
  }

  setBaseOffset(offset: number): void {
    writeInt64(this.buf, this.at + BATCH.BASE_OFFSET, offset);
  }
  setPartitionLeaderEpoch(epoch: number): void {
    this.buf.writeInt32BE(epoch, this.at + BATCH.PARTITION_LEADER_EPOCH);
  }
}

/**
 * Walks the batches in `buf` as written on disk or sent by a producer, validating only the
 * framing (each batch's length fits and is at least a header). Stops at a partial trailing
 * batch, as a fetch may end with one. Hot path: header reads only.
 */
export function* batchHeaders(buf: Buffer, start = 0, end = buf.length): Generator<BatchHeader> {
  let at = start;
  while (end - at >= BATCH.LOG_OVERHEAD) {
    const size = buf.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    if (size < BATCH.HEADER_SIZE || at + size > end) return;
    yield new BatchHeader(buf, at);
    at += size;
  }
}

/**
 * Validates the record batches of one produce request's partition: framing that adds up
 * exactly, magic 2, a CRC-32C that matches, a sane record count. Throws CORRUPT_MESSAGE (or
 * UNSUPPORTED_FOR_MESSAGE_FORMAT for old magic) naming what is wrong. Returns the headers.
 */
export function validateProducedBatches(buf: Buffer): BatchHeader[] {
  const headers: BatchHeader[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < BATCH.HEADER_SIZE) {
      throw KafkaProtocolError.corrupt(
        `${buf.length - at} trailing bytes are too few for a record batch header`,
      );
    }
    const header = new BatchHeader(buf, at);
    const size = header.sizeInBytes;
    if (size < BATCH.HEADER_SIZE || at + size > buf.length) {
      throw KafkaProtocolError.corrupt(
        `batch length ${header.batchLength} at byte ${at} does not match the ${buf.length - at} bytes sent`,
      );
    }
    if (header.magic !== 2) {
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        `record batch magic ${header.magic}; only magic 2 is accepted`,
      );
    }
    if (!header.isCrcValid()) {
      throw KafkaProtocolError.corrupt(
        `CRC-32C mismatch: batch says ${header.crc}, bytes give ${header.computeCrc()}`,
      );
    }
    if (
      header.recordCount < 0 ||
      header.lastOffsetDelta < 0 ||
      (header.recordCount > 0 && header.lastOffsetDelta < header.recordCount - 1)
    ) {
      throw KafkaProtocolError.corrupt(
        `record count ${header.recordCount} and last offset delta ${header.lastOffsetDelta} disagree`,
      );
    }
    headers.push(header);
    at += size;
  }
  if (headers.length === 0) throw KafkaProtocolError.corrupt('no record batch in the request');
  return headers;
}
