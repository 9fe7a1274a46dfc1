import { crc32c } from '@node-rs/crc32';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';
import { ATTRIBUTE, BATCH, BatchHeader, CompressionType, TimestampType } from './batch-header';
import { compress, decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression';

/**
 * RecordBatch v2 records, encoded and decoded whole (the header layout and the reads the
 * broker needs are in batch-header.ts). After the 61-byte header, possibly compressed as
 * one block, come recordCount records:
 *
 *   length varint | attributes int8 (unused) | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint | key | valueLength varint | value | headerCount varint |
 *   [headerKeyLength varint | headerKey utf8 | headerValueLength varint | headerValue]...
 *
 * Varints are zig-zag (protobuf sint32/sint64); a length of -1 means null. `length` counts
 * the bytes after itself. Offsets and timestamps are deltas from the batch's baseOffset and
 * baseTimestamp.
 */

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A decoded record, with absolute offset and timestamp. Named so as not to shadow TS's Record. */
export interface KafkaRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** A record to encode. */
export interface RecordInput {
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: readonly RecordHeader[];
  /** Milliseconds since the epoch; the encoding time when left out. */
  timestamp?: number;
  /** Position in the batch; the record's index when left out. Must increase. */
  offsetDelta?: number;
}

export interface EncodeRecordBatchOptions {
  baseOffset?: number;
  records: readonly RecordInput[];
  compression?: CompressionType;
  /** The codec's own level; the codec's default (Kafka's too) when left out. */
  compressionLevel?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  timestampType?: TimestampType;
  /**
   * For rewriting a batch (compaction), which keeps the original's last offset delta and
   * timestamps even when records were removed. Derived from the records otherwise.
   */
  lastOffsetDelta?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
  /** Sets the delete-horizon attribute; becomes baseTimestamp (compaction's tombstone clock). */
  deleteHorizonMs?: number;
}

export interface DecodeRecordBatchOptions {
  /** Check the CRC-32C (the Java client's check.crcs); on unless told otherwise. */
  verifyCrc?: boolean;
  /** Cap on the decompressed records section. */
  maxDecompressedBytes?: number;
}

export interface DecodedRecordBatch {
  header: BatchHeader;
  records: KafkaRecord[];
}

const MAGIC = 2;
/**
 * The smallest possible record: length, attributes, timestampDelta, offsetDelta, key -1,
 * value -1, headerCount 0, one byte each. Bounds how many records a section can hold, so a
 * lying recordCount is caught before any work.
 */
const MIN_RECORD_SIZE = 7;
/** The smallest header: key length 0, value length -1. */
const MIN_HEADER_SIZE = 2;

// ---------------------------------------------------------------------------------------
// Encoding. Hot path (the producer, the replicator, compaction): sizes are computed first,
// then records are written into one buffer allocated once; nothing is concatenated per
// record. An uncompressed batch is that one buffer; a compressed one costs the codec's
// output plus one copy behind the header.

function zigzag32(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function sizeOfUVarint(u: number): number {
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

function sizeOfVarint(v: number): number {
  return sizeOfUVarint(zigzag32(v));
}

function sizeOfVarlong(v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return sizeOfUVarint(zigzag32(v));
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

function writeUVarint(buf: Buffer, pos: number, u: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  return writeUVarint(buf, pos, zigzag32(v));
}

function writeVarlong(buf: Buffer, pos: number, v: number): number {
  if (v >= -0x40000000 && v < 0x40000000) return writeUVarint(buf, pos, zigzag32(v));
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  while (u >= 0x80) {
    buf[pos++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[pos++] = u;
  return pos;
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}

function invalidRecord(message: string): KafkaProtocolError {
  return new KafkaProtocolError(ErrorCode.INVALID_RECORD, message);
}

/** Builds one complete RecordBatch v2, CRC-32C included. Hot path: see above. */
export function encodeRecordBatch(options: EncodeRecordBatchOptions): Buffer {
  const records = options.records;
  const n = records.length;
  const compression = options.compression ?? CompressionType.None;
  let now = -1;

  // Pass 1: timestamps, offset deltas and every record's body size.
  const bodySizes = new Int32Array(n);
  const timestamps = new Float64Array(n);
  const offsetDeltas = new Int32Array(n);
  let maxTimestamp = -1;
  let prevDelta = -1;
  let recordsSize = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    let ts = r.timestamp;
    if (ts === undefined) {
      if (now < 0) now = Date.now();
      ts = now;
    }
    timestamps[i] = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const od = r.offsetDelta ?? i;
    if (!(od > prevDelta) || od > 0x7fffffff) {
      throw invalidRecord(`offset delta ${od} of record ${i} does not follow ${prevDelta}`);
    }
    offsetDeltas[i] = prevDelta = od;
  }
  const baseTimestamp =
    options.deleteHorizonMs ?? options.baseTimestamp ?? (n > 0 ? timestamps[0] : Date.now());
  for (let i = 0; i < n; i++) {
    const r = records[i];
    let size = 1 + sizeOfVarlong(timestamps[i] - baseTimestamp) + sizeOfVarint(offsetDeltas[i]);
    const key = r.key;
    size += key == null ? 1 : sizeOfVarint(key.length) + key.length;
    const value = r.value;
    size += value == null ? 1 : sizeOfVarint(value.length) + value.length;
    const headers = r.headers;
    const hc = headers === undefined ? 0 : headers.length;
    size += sizeOfVarint(hc);
    for (let h = 0; h < hc; h++) {
      const header = headers![h];
      const klen = Buffer.byteLength(header.key, 'utf8');
      size += sizeOfVarint(klen) + klen;
      const hv = header.value;
      size += hv == null ? 1 : sizeOfVarint(hv.length) + hv.length;
    }
    bodySizes[i] = size;
    recordsSize += sizeOfVarint(size) + size;
  }

  // Pass 2: the records, straight into the batch when uncompressed.
  const compressed = compression !== CompressionType.None;
  const section = compressed
    ? Buffer.allocUnsafe(recordsSize)
    : Buffer.allocUnsafe(BATCH.HEADER_SIZE + recordsSize);
  let pos = compressed ? 0 : BATCH.HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const r = records[i];
    pos = writeVarint(section, pos, bodySizes[i]);
    section[pos++] = 0; // record attributes: none are defined
    pos = writeVarlong(section, pos, timestamps[i] - baseTimestamp);
    pos = writeVarint(section, pos, offsetDeltas[i]);
    const key = r.key;
    if (key == null) {
      section[pos++] = 1; // varint -1
    } else {
      pos = writeVarint(section, pos, key.length);
      pos += key.copy(section, pos);
    }
    const value = r.value;
    if (value == null) {
      section[pos++] = 1;
    } else {
      pos = writeVarint(section, pos, value.length);
      pos += value.copy(section, pos);
    }
    const headers = r.headers;
    const hc = headers === undefined ? 0 : headers.length;
    pos = writeVarint(section, pos, hc);
    for (let h = 0; h < hc; h++) {
      const header = headers![h];
      const klen = Buffer.byteLength(header.key, 'utf8');
      pos = writeVarint(section, pos, klen);
      pos += section.write(header.key, pos, klen, 'utf8');
      const hv = header.value;
      if (hv == null) {
        section[pos++] = 1;
      } else {
        pos = writeVarint(section, pos, hv.length);
        pos += hv.copy(section, pos);
      }
    }
  }

  let out: Buffer;
  if (compressed) {
    const body = compress(compression, section, options.compressionLevel);
    out = Buffer.allocUnsafe(BATCH.HEADER_SIZE + body.length);
    body.copy(out, BATCH.HEADER_SIZE);
  } else {
    out = section;
  }

  let attributes = compression & ATTRIBUTE.COMPRESSION_MASK;
  if (options.timestampType === TimestampType.LogAppendTime) {
    attributes |= ATTRIBUTE.TIMESTAMP_TYPE_LOG_APPEND;
  }
  if (options.isTransactional) attributes |= ATTRIBUTE.TRANSACTIONAL;
  if (options.isControl) attributes |= ATTRIBUTE.CONTROL;
  if (options.deleteHorizonMs !== undefined) attributes |= ATTRIBUTE.DELETE_HORIZON;

  writeInt64(out, BATCH.BASE_OFFSET, options.baseOffset ?? 0);
  out.writeInt32BE(out.length - BATCH.LOG_OVERHEAD, BATCH.BATCH_LENGTH);
  out.writeInt32BE(options.partitionLeaderEpoch ?? -1, BATCH.PARTITION_LEADER_EPOCH);
  out.writeInt8(MAGIC, BATCH.MAGIC);
  out.writeInt16BE(attributes, BATCH.ATTRIBUTES);
  out.writeInt32BE(options.lastOffsetDelta ?? (n > 0 ? prevDelta : 0), BATCH.LAST_OFFSET_DELTA);
  writeInt64(out, BATCH.BASE_TIMESTAMP, baseTimestamp);
  writeInt64(out, BATCH.MAX_TIMESTAMP, options.maxTimestamp ?? (n > 0 ? maxTimestamp : baseTimestamp));
  writeInt64(out, BATCH.PRODUCER_ID, options.producerId ?? -1);
  out.writeInt16BE(options.producerEpoch ?? -1, BATCH.PRODUCER_EPOCH);
  out.writeInt32BE(options.baseSequence ?? -1, BATCH.BASE_SEQUENCE);
  out.writeInt32BE(n, BATCH.RECORD_COUNT);
  out.writeUInt32BE(crc32c(out.subarray(BATCH.ATTRIBUTES)) >>> 0, BATCH.CRC);
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding. Hot path (the consumer, the replicator). Keys, values and header values are
// subarrays of the input (or of the decompressed section): nothing is copied, so a
// decoded uncompressed batch keeps its fetch response's memory alive while referenced.
// Every read is bounds-checked against the enclosing record, and any length is checked
// against the bytes left before it is used, so a lying count or length fails fast.

function corrupt(message: string): KafkaProtocolError {
  return KafkaProtocolError.corrupt(message);
}

/** A bounds-checked cursor over one record section; errors are CORRUPT_MESSAGE. */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public limit: number,
  ) {}

  byte(): number {
    if (this.pos >= this.limit) throw corrupt(`record truncated at byte ${this.pos}`);
    return this.buf[this.pos++];
  }

  varint(): number {
    let b = this.byte();
    if (b < 0x80) return (b >>> 1) ^ -(b & 1);
    let value = b & 0x7f;
    for (let shift = 7; ; shift += 7) {
      b = this.byte();
      if (shift === 28) {
        if (b > 0x0f) throw corrupt(`varint longer than 32 bits at byte ${this.pos - 5}`);
        value |= b << 28;
        break;
      }
      value |= (b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    return (value >>> 1) ^ -(value & 1);
  }

  varlong(): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      value += (b & 0x7f) * mul;
      if (b < 0x80) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      mul *= 128;
    }
    throw corrupt(`varlong longer than 10 bytes at byte ${this.pos - 10}`);
  }

  bytes(len: number, what: string): Buffer {
    if (len > this.limit - this.pos) {
      throw corrupt(`${what} length ${len} overruns the record's ${this.limit - this.pos} bytes left`);
    }
    const at = this.pos;
    this.pos = at + len;
    return this.buf.subarray(at, at + len);
  }

  nullableBytes(what: string): Buffer | null {
    const len = this.varint();
    if (len < 0) {
      if (len !== -1) throw corrupt(`${what} length ${len}`);
      return null;
    }
    return this.bytes(len, what);
  }

  utf8(len: number, what: string): string {
    if (len < 0 || len > this.limit - this.pos) {
      throw corrupt(`${what} length ${len} overruns the record's ${this.limit - this.pos} bytes left`);
    }
    const at = this.pos;
    this.pos = at + len;
    return this.buf.toString('utf8', at, at + len);
  }
}

function decodeRecords(section: Buffer, header: BatchHeader, count: number): KafkaRecord[] {
  const baseOffset = header.baseOffset;
  const logAppend = header.timestampType === TimestampType.LogAppendTime;
  // With log-append time every record's timestamp is the broker's, kept as maxTimestamp.
  const baseTimestamp = logAppend ? header.maxTimestamp : header.baseTimestamp;
  const end = section.length;
  const c = new Cursor(section, 0, end);
  const records: KafkaRecord[] = [];
  for (let i = 0; i < count; i++) {
    c.limit = end;
    const start = c.pos;
    const length = c.varint();
    if (length < 0 || length > end - c.pos) {
      throw corrupt(`record ${i} at byte ${start} has length ${length} but ${end - c.pos} bytes are left`);
    }
    const recordEnd = c.pos + length;
    c.limit = recordEnd;
    c.byte(); // attributes: none defined for records
    const timestampDelta = c.varlong();
    const offsetDelta = c.varint();
    const key = c.nullableBytes('key');
    const value = c.nullableBytes('value');
    const headerCount = c.varint();
    if (headerCount < 0 || headerCount > (recordEnd - c.pos) / MIN_HEADER_SIZE) {
      throw corrupt(`record ${i} claims ${headerCount} headers in ${recordEnd - c.pos} bytes`);
    }
    const headers = new Array<RecordHeader>(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const headerKey = c.utf8(c.varint(), 'header key');
      headers[h] = { key: headerKey, value: c.nullableBytes('header value') };
    }
    if (c.pos !== recordEnd) {
      throw corrupt(`record ${i} has length ${length} but its fields take ${c.pos - start} bytes`);
    }
    records.push({
      offset: baseOffset + offsetDelta,
      timestamp: logAppend ? baseTimestamp : baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  if (c.pos !== end) {
    throw corrupt(`record count ${count} leaves ${end - c.pos} bytes of the batch unread`);
  }
  return records;
}

function decodeChecked(buf: Buffer, at: number, options: DecodeRecordBatchOptions): DecodedRecordBatch {
  if (!Number.isSafeInteger(at) || at < 0 || buf.length - at < BATCH.LOG_OVERHEAD) {
    throw corrupt(`no record batch at byte ${at} of ${buf.length}`);
  }
  const header = new BatchHeader(buf, at);
  const size = header.sizeInBytes;
  if (at + size > buf.length) {
    throw corrupt(`batch at byte ${at} is truncated: ${size} bytes long, ${buf.length - at} present`);
  }
  if (size > BATCH.MAGIC && header.magic !== MAGIC) {
    throw new KafkaProtocolError(
      ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `record batch magic ${header.magic}; only magic 2 is supported`,
    );
  }
  if (size < BATCH.HEADER_SIZE) {
    throw corrupt(`batch length ${header.batchLength} is shorter than a batch header`);
  }
  if (options.verifyCrc !== false && !header.isCrcValid()) {
    throw corrupt(`CRC-32C mismatch: batch says ${header.crc}, bytes give ${header.computeCrc()}`);
  }
  const count = header.recordCount;
  let section = buf.subarray(at + BATCH.HEADER_SIZE, at + size);
  if (
    count < 0 ||
    (header.compression === CompressionType.None && count > section.length / MIN_RECORD_SIZE)
  ) {
    throw corrupt(`record count ${count} cannot fit in ${section.length} bytes`);
  }
  section = decompress(
    header.compression,
    section,
    options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
  );
  if (count > section.length / MIN_RECORD_SIZE) {
    throw corrupt(`record count ${count} cannot fit in ${section.length} decompressed bytes`);
  }
  return { header, records: decodeRecords(section, header, count) };
}

/**
 * Decodes the batch starting at `at`: checks framing, magic and CRC-32C, decompresses,
 * and returns records with absolute offsets and timestamps. Control batches (transaction
 * markers, header.isControl) are returned like any other; consumers skip them. Throws a
 * KafkaProtocolError (CORRUPT_MESSAGE, or UNSUPPORTED_FOR_MESSAGE_FORMAT for magic 0/1)
 * and nothing else, whatever the bytes.
 */
export function decodeRecordBatch(
  buf: Buffer,
  at = 0,
  options: DecodeRecordBatchOptions = {},
): DecodedRecordBatch {
  try {
    return decodeChecked(buf, at, options);
  } catch (err) {
    if (err instanceof KafkaProtocolError) throw err;
    // A bug or a case missed above must still surface as a corrupt batch, not a crash.
    throw new KafkaProtocolError(
      ErrorCode.CORRUPT_MESSAGE,
      `record batch at byte ${at} is malformed: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
}

/**
 * Decodes every complete batch in a fetch response's records. A partial batch at the end
 * is ignored: brokers cut a fetch at max bytes mid-batch, and the consumer asks again.
 */
export function decodeRecordBatches(
  buf: Buffer,
  options: DecodeRecordBatchOptions = {},
): DecodedRecordBatch[] {
  const batches: DecodedRecordBatch[] = [];
  let at = 0;
  while (buf.length - at >= BATCH.LOG_OVERHEAD) {
    const size = buf.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    // A length that is there to read but too small is corruption, not a partial batch.
    if (size >= BATCH.HEADER_SIZE && at + size > buf.length) break;
    batches.push(decodeRecordBatch(buf, at, options));
    at += size;
  }
  return batches;
}
