import { crc32c } from '@node-rs/crc32';
import { BatchHeader, batchHeaders } from '@tributary/protocol';
import type { StorageLogger } from '../src/logger';

/**
 * Test fixtures: RecordBatch v2 laid out field by field from the protocol spec (not through
 * any encoder of ours), with a CRC-32C over attributes..end.
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records
 *
 *   record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *           keyLength varint | key | valueLength varint | value | headerCount varint
 */

function zigzagVarint(out: number[], v: number): void {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

export interface FixtureRecord {
  readonly key?: string | null;
  readonly value: string | Buffer | null;
  /** Absolute timestamp; the batch's first timestamp when left out. */
  readonly timestamp?: number;
}

export interface FixtureBatch {
  readonly records: readonly FixtureRecord[];
  readonly baseOffset?: number;
  /** Timestamp of records without one; Date.now() by default. */
  readonly timestamp?: number;
  readonly attributes?: number;
  /** An idempotent producer's fields; -1 (none) when left out. */
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
}

function encodeRecord(r: FixtureRecord, offsetDelta: number, baseTimestamp: number): Buffer {
  const body: number[] = [0];
  zigzagVarint(body, (r.timestamp ?? baseTimestamp) - baseTimestamp);
  zigzagVarint(body, offsetDelta);
  const key = r.key === undefined || r.key === null ? null : Buffer.from(r.key);
  zigzagVarint(body, key === null ? -1 : key.length);
  const value = r.value === null ? null : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
  const head = Buffer.from(body);
  const mid: number[] = [];
  zigzagVarint(mid, value === null ? -1 : value.length);
  const tail: number[] = [];
  zigzagVarint(tail, 0);
  const rest = Buffer.concat([
    head,
    key ?? Buffer.alloc(0),
    Buffer.from(mid),
    value ?? Buffer.alloc(0),
    Buffer.from(tail),
  ]);
  const len: number[] = [];
  zigzagVarint(len, rest.length);
  return Buffer.concat([Buffer.from(len), rest]);
}

/** One v2 batch with a correct CRC-32C. */
export function encodeBatch(batch: FixtureBatch): Buffer {
  const base = batch.timestamp ?? Date.now();
  const firstTs = batch.records[0]?.timestamp ?? base;
  const records = batch.records.map((r, i) =>
    encodeRecord({ ...r, timestamp: r.timestamp ?? base }, i, firstTs),
  );
  const maxTs = Math.max(...batch.records.map((r) => r.timestamp ?? base));
  const body = Buffer.concat(records);
  const buf = Buffer.alloc(61 + body.length);
  buf.writeBigInt64BE(BigInt(batch.baseOffset ?? 0), 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(batch.attributes ?? 0, 21);
  buf.writeInt32BE(batch.records.length - 1, 23);
  buf.writeBigInt64BE(BigInt(firstTs), 27);
  buf.writeBigInt64BE(BigInt(maxTs), 35);
  buf.writeBigInt64BE(BigInt(batch.producerId ?? -1), 43);
  buf.writeInt16BE(batch.producerEpoch ?? -1, 51);
  buf.writeInt32BE(batch.baseSequence ?? -1, 53);
  buf.writeInt32BE(batch.records.length, 57);
  body.copy(buf, 61);
  buf.writeUInt32BE(crc32c(buf.subarray(21)) >>> 0, 17);
  return buf;
}

/** A batch of `count` records with values of `valueBytes` bytes each, all at `timestamp`. */
export function simpleBatch(
  count: number,
  options: { valueBytes?: number; timestamp?: number; baseOffset?: number } = {},
): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${i}`,
    value: Buffer.alloc(options.valueBytes ?? 10, 97 + (i % 26)),
  }));
  return encodeBatch({ records, timestamp: options.timestamp, baseOffset: options.baseOffset });
}

/** [baseOffset, lastOffset] of each complete batch in `buf`. */
export function offsetsOf(buf: Buffer): [number, number][] {
  return [...batchHeaders(buf)].map((h: BatchHeader) => [h.baseOffset, h.lastOffset]);
}

/** A logger that keeps what it is told, for assertions. */
export function memoryLogger(): StorageLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: (m) => void lines.push(`log: ${m}`),
    warn: (m) => void lines.push(`warn: ${m}`),
    error: (m) => void lines.push(`error: ${m}`),
  };
}
