import { crc32 } from 'node:zlib';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';
import { CompressionType, TimestampType } from './batch-header';
import { decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression';
import { encodeRecordBatch, type RecordInput } from './record-batch';

/*
 * Kafka's message formats before record batches, as Produce v0-v2 carries them:
 *
 *   MessageSet := [offset int64, messageSize int32, Message]*
 *   Message    := crc int32 (CRC-32 of the rest), magic int8 (0 or 1), attributes int8
 *                 (bits 0-2 codec, bit 3 LogAppendTime on magic 1), timestamp int64 (magic 1
 *                 only), key bytes, value bytes (int32 length, -1 for null)
 *
 * A compressed message is a wrapper whose value is a whole inner message set, compressed.
 * The broker stores record batches v2 only, so a legacy message set is up-converted on the
 * way in, as Kafka's LogValidator does when message.format.version is 0.11 or later.
 */

const LOG_OVERHEAD = 12; // offset + messageSize
const CRC_SIZE = 4;
/** magic, attributes, key length, value length: the smallest magic 0 message after its CRC. */
const MIN_MESSAGE_V0 = 1 + 1 + 4 + 4;
const TIMESTAMP_TYPE_BIT = 0x08;
const CODEC_MASK = 0x07;

/** A legacy message set (magic 0 or 1) up-converted to one record batch v2. */
export interface UpConvertedMessageSet {
  readonly batch: Buffer;
  /** The highest magic seen, for the error a Produce of the wrong version gets. */
  readonly magic: 0 | 1;
  readonly recordCount: number;
}

function corrupt(message: string): KafkaProtocolError {
  return KafkaProtocolError.corrupt(message);
}

interface Parsed {
  records: RecordInput[];
  codec: CompressionType;
  magic: 0 | 1;
}

function readBytes(buf: Buffer, at: number, end: number, what: string): [Buffer | null, number] {
  if (at + 4 > end) throw corrupt(`legacy message truncated in its ${what} length`);
  const len = buf.readInt32BE(at);
  at += 4;
  if (len === -1) return [null, at];
  if (len < 0 || at + len > end) throw corrupt(`legacy message ${what} of ${len} bytes overruns the message`);
  return [buf.subarray(at, at + len), at + len];
}

/** Parses a message set; an inner set (of a compressed wrapper) may not hold compressed messages. */
function parseMessageSet(buf: Buffer, into: Parsed, inner: boolean, maxDecompressedBytes: number): void {
  let pos = 0;
  while (pos < buf.length) {
    if (pos + LOG_OVERHEAD > buf.length) throw corrupt('legacy message set ends inside a message header');
    const size = buf.readInt32BE(pos + 8);
    const start = pos + LOG_OVERHEAD;
    const end = start + size;
    if (size < CRC_SIZE + MIN_MESSAGE_V0 || end > buf.length) {
      throw corrupt(`legacy message of ${size} bytes does not fit the message set`);
    }
    let at = start + CRC_SIZE;
    // Checked before the CRC: a record batch v2 has its magic at the same place.
    const magic = buf.readInt8(at);
    if (magic !== 0 && magic !== 1) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_RECORD,
        `Produce v0-v2 may only carry messages of magic 0 or 1, not magic ${magic}`,
      );
    }
    if (crc32(buf.subarray(at, end)) !== buf.readUInt32BE(start))
      throw corrupt('legacy message fails its CRC-32');
    if (magic > into.magic) into.magic = magic;
    const attributes = buf.readInt8(at + 1);
    at += 2;
    let timestamp = -1;
    let logAppendTime = false;
    if (magic === 1) {
      if (at + 8 > end) throw corrupt('legacy message truncated in its timestamp');
      timestamp = Number(buf.readBigInt64BE(at));
      logAppendTime = (attributes & TIMESTAMP_TYPE_BIT) !== 0;
      at += 8;
    }
    const [key, afterKey] = readBytes(buf, at, end, 'key');
    const [value, afterValue] = readBytes(buf, afterKey, end, 'value');
    if (afterValue !== end) throw corrupt(`legacy message has ${end - afterValue} bytes after its value`);
    const codec = (attributes & CODEC_MASK) as CompressionType;
    if (codec === CompressionType.None) {
      into.records.push({ key, value, timestamp });
    } else {
      if (inner) throw corrupt('a compressed legacy message holds another compressed message');
      if (value === null) throw corrupt('a compressed legacy message has no value');
      into.codec = codec;
      const first = into.records.length;
      parseMessageSet(decompress(codec, value, maxDecompressedBytes), into, true, maxDecompressedBytes);
      // A magic 1 wrapper with LogAppendTime gives its inner messages its own timestamp.
      if (logAppendTime)
        for (let i = first; i < into.records.length; i++) into.records[i].timestamp = timestamp;
    }
    pos = end;
  }
}

/**
 * Up-converts a legacy message set (magic 0 or 1, as Produce v0-v2 sends it) to one record
 * batch v2 holding the same records in order: magic 0 messages have no timestamp (-1, as
 * Kafka stores them), the batch is compressed with the wrappers' codec, and it has no
 * producer id. Throws CORRUPT_MESSAGE for bad framing, a CRC mismatch or a payload that
 * does not decompress, and INVALID_RECORD for a message of another magic.
 */
export function upConvertMessageSet(
  buf: Buffer,
  maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): UpConvertedMessageSet {
  const parsed: Parsed = { records: [], codec: CompressionType.None, magic: 0 };
  parseMessageSet(buf, parsed, false, maxDecompressedBytes);
  if (parsed.records.length === 0) throw corrupt('legacy message set holds no message');
  const batch = encodeRecordBatch({
    records: parsed.records,
    compression: parsed.codec,
    timestampType: TimestampType.CreateTime,
  });
  return { batch, magic: parsed.magic, recordCount: parsed.records.length };
}
