import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { compressFrameSync, uncompressSync as lz4Uncompress } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import * as zstdBinding from 'zstd-napi/binding';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';
import { CompressionType } from './batch-header';

/**
 * Kafka's record compression codecs, by the id a batch carries in attributes bits 0-2.
 *
 * Everything here is synchronous: it runs on the client's produce and fetch paths and in
 * log compaction, where a promise per batch would cost more than the work. Decompression
 * treats its input as hostile (a fetch payload, a file on disk): every failure is a
 * CORRUPT_MESSAGE with the codec's own error as its cause, and the output is capped so a
 * small batch cannot make us allocate gigabytes.
 */

/**
 * Default cap on one batch's decompressed size. Kafka itself has none, but its
 * max.message.bytes (about 1 MiB by default) bounds what a producer may send compressed,
 * and real codecs rarely exceed 20:1 on real data; 256 MiB leaves room for both.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

export const COMPRESSION_NAMES: Readonly<Record<number, string>> = {
  [CompressionType.None]: 'none',
  [CompressionType.Gzip]: 'gzip',
  [CompressionType.Snappy]: 'snappy',
  [CompressionType.Lz4]: 'lz4',
  [CompressionType.Zstd]: 'zstd',
};

/** The codec id for a `compression.type` value as Kafka's configs spell it. */
export function compressionTypeByName(name: string): CompressionType {
  for (const [id, n] of Object.entries(COMPRESSION_NAMES)) {
    if (n === name) return Number(id);
  }
  throw new KafkaProtocolError(
    ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    `unknown compression type "${name}"; expected one of ${Object.values(COMPRESSION_NAMES).join(', ')}`,
  );
}

/**
 * Compresses a batch's records section. `level` is the codec's own level (Kafka's
 * compression.gzip.level, compression.lz4.level, compression.zstd.level); the codecs'
 * defaults otherwise, which are Kafka's too (gzip 6, zstd 3). lz4-napi has no level.
 */
export function compress(codec: CompressionType, data: Buffer, level?: number): Buffer {
  switch (codec) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipSync(data, level === undefined ? undefined : { level });
    case CompressionType.Snappy:
      return xerialSnappyCompress(data);
    case CompressionType.Lz4:
      // lz4_flex's defaults are Kafka's frame: independent blocks, no checksums, no size.
      return compressFrameSync(data);
    case CompressionType.Zstd:
      return zstdCompress(data, level === undefined ? undefined : { compressionLevel: level });
    default:
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
        `cannot compress with unknown codec id ${codec as number}`,
      );
  }
}

/**
 * Decompresses a batch's records section. Throws CORRUPT_MESSAGE for an unknown codec id,
 * bytes the codec rejects, truncated input, or output larger than `maxBytes`.
 */
export function decompress(
  codec: CompressionType,
  data: Buffer,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Buffer {
  if (codec === CompressionType.None) return data;
  const name = COMPRESSION_NAMES[codec];
  if (name === undefined) {
    throw KafkaProtocolError.corrupt(`unknown compression codec id ${codec as number}`);
  }
  let out: Buffer;
  try {
    switch (codec) {
      case CompressionType.Gzip:
        out = gunzipSync(data, {
          maxOutputLength: Math.min(maxBytes + 1, bufferConstants.MAX_LENGTH),
        });
        break;
      case CompressionType.Snappy:
        out = snappyDecompress(data, maxBytes);
        break;
      case CompressionType.Lz4:
        out = lz4Decompress(data, maxBytes);
        break;
      default:
        out = zstdDecompress(data, maxBytes);
        break;
    }
  } catch (err) {
    if (err instanceof KafkaProtocolError) throw err;
    if ((err as { code?: string })?.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(name, maxBytes);
    throw new KafkaProtocolError(
      ErrorCode.CORRUPT_MESSAGE,
      `${name} payload of ${data.length} bytes does not decompress: ${(err as Error)?.message ?? String(err)}`,
      { cause: err },
    );
  }
  if (out.length > maxBytes) throw tooLarge(name, maxBytes);
  return out;
}

function tooLarge(name: string, maxBytes: number): KafkaProtocolError {
  return KafkaProtocolError.corrupt(`${name} payload decompresses to more than ${maxBytes} bytes`);
}

// ---------------------------------------------------------------------------------------
// Snappy. The Java client (xerial snappy-java's SnappyOutputStream) and KafkaJS frame the
// data: an 8-byte magic, two int32 versions, then [int32 length][raw snappy block] chunks
// of up to 32 KiB of input each. librdkafka writes one raw block. Both appear on the wire,
// so reading detects the magic, as librdkafka and snappy-java do; writing uses the framing,
// which every client reads (librdkafka included).

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
const XERIAL_VERSION = 1;
const XERIAL_COMPATIBLE_VERSION = 1;
/** snappy-java's default block size, so chunks match what the Java client writes. */
const XERIAL_BLOCK_SIZE = 32 * 1024;
/**
 * Snappy's best case is a 3-byte copy op producing 64 bytes, so a block's output is at
 * most ~22x its size. A preamble claiming more is a lie, caught before anything is
 * allocated for it.
 */
const SNAPPY_MAX_RATIO = 22;
/**
 * Copying the output into a plain Buffer is 10-15x faster than the binding's default of
 * wrapping native memory in an external Buffer (measured on 32-128 KiB blocks).
 */
const SNAPPY_COPY = { copyOutputData: true } as const;

function xerialSnappyCompress(data: Buffer): Buffer {
  const blocks: Buffer[] = [];
  let size = XERIAL_HEADER_SIZE;
  for (let at = 0; at < data.length; at += XERIAL_BLOCK_SIZE) {
    const block = snappyCompress(
      data.subarray(at, Math.min(at + XERIAL_BLOCK_SIZE, data.length)),
      SNAPPY_COPY,
    );
    blocks.push(block);
    size += 4 + block.length;
  }
  const out = Buffer.allocUnsafe(size);
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(XERIAL_VERSION, 8);
  out.writeInt32BE(XERIAL_COMPATIBLE_VERSION, 12);
  let pos = XERIAL_HEADER_SIZE;
  for (const block of blocks) {
    out.writeInt32BE(block.length, pos);
    pos += 4 + block.copy(out, pos + 4);
  }
  return out;
}

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.compare(XERIAL_MAGIC, 0, 8, 0, 8) === 0;
}

/** A raw snappy block's declared output length (its uvarint preamble), checked for sanity. */
function snappyBlockLength(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > block.length * SNAPPY_MAX_RATIO) {
        throw KafkaProtocolError.corrupt(
          `snappy block of ${block.length} bytes claims ${value} bytes of output`,
        );
      }
      return value;
    }
  }
  throw KafkaProtocolError.corrupt('snappy block has no valid length preamble');
}

function snappyBlock(block: Buffer, expected: number): Buffer {
  const out = snappyUncompress(block, SNAPPY_COPY) as Buffer;
  if (out.length !== expected) {
    throw KafkaProtocolError.corrupt(
      `snappy block decompressed to ${out.length} bytes, its preamble says ${expected}`,
    );
  }
  return out;
}

function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  if (!isXerial(data)) {
    const expected = snappyBlockLength(data);
    if (expected > maxBytes) throw tooLarge('snappy', maxBytes);
    return snappyBlock(data, expected);
  }
  // First pass checks the framing and sizes before any block is inflated.
  const chunks: Buffer[] = [];
  const lengths: number[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) {
      throw KafkaProtocolError.corrupt(`xerial snappy chunk header truncated at byte ${pos}`);
    }
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || len > data.length - pos) {
      throw KafkaProtocolError.corrupt(
        `xerial snappy chunk of ${len} bytes at byte ${pos - 4} overruns the ${data.length - pos} left`,
      );
    }
    const chunk = data.subarray(pos, pos + len);
    pos += len;
    if (len === 0) continue;
    const expected = snappyBlockLength(chunk);
    total += expected;
    if (total > maxBytes) throw tooLarge('snappy', maxBytes);
    chunks.push(chunk);
    lengths.push(expected);
  }
  if (chunks.length === 1) return snappyBlock(chunks[0], lengths[0]);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    at += snappyBlock(chunks[i], lengths[i]).copy(out, at);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// LZ4: the standard LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream since magic 1,
// librdkafka's LZ4F). lz4-napi's frame decoder is several times slower than its block
// decoder, has no output cap and stops silently after the first frame, so frames are
// parsed here and each block inflated by the block decoder, into at most the frame's block
// size. Concatenated frames are all read (librdkafka reads them); linked blocks get the
// previous 64 KiB of output as their dictionary. The frame's xxHash checksums are not
// verified: the batch's CRC-32C already covers these bytes end to end.

const LZ4_MAGIC = 0x184d2204;
const LZ4_SKIPPABLE_MASK = 0xfffffff0;
const LZ4_SKIPPABLE_MAGIC = 0x184d2a50;
const LZ4_WINDOW = 64 * 1024;

function lz4Decompress(data: Buffer, maxBytes: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (data.length - pos < n) {
      throw KafkaProtocolError.corrupt(`lz4 frame truncated in its ${what} at byte ${pos}`);
    }
  };
  while (pos < data.length) {
    need(4, 'magic');
    const magic = data.readUInt32LE(pos);
    if ((magic & LZ4_SKIPPABLE_MASK) >>> 0 === LZ4_SKIPPABLE_MAGIC) {
      need(8, 'skippable frame size');
      const len = data.readUInt32LE(pos + 4);
      pos += 8;
      need(len, 'skippable frame');
      pos += len;
      continue;
    }
    if (magic !== LZ4_MAGIC) {
      throw KafkaProtocolError.corrupt(`lz4 frame magic 0x${magic.toString(16)} at byte ${pos}`);
    }
    pos += 4;
    need(3, 'descriptor');
    const flg = data[pos];
    const bd = data[pos + 1];
    if (flg >> 6 !== 1) throw KafkaProtocolError.corrupt(`lz4 frame version ${flg >> 6}`);
    if ((flg & 0x01) !== 0) throw KafkaProtocolError.corrupt('lz4 frame needs a dictionary');
    const linked = (flg & 0x20) === 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const blockMaxId = (bd >> 4) & 0x07;
    if (blockMaxId < 4) throw KafkaProtocolError.corrupt(`lz4 block size id ${blockMaxId}`);
    const blockMax = 1 << (2 * blockMaxId + 8);
    pos += 2;
    if (contentSize) {
      need(8, 'content size');
      const declared = data.readUInt32LE(pos + 4) * 4294967296 + data.readUInt32LE(pos);
      if (declared > maxBytes - total) throw tooLarge('lz4', maxBytes);
      pos += 8;
    }
    need(1, 'header checksum');
    pos += 1;
    // lz4-napi's block decoder reads a 4-byte little-endian output size first; the frame's
    // block size bounds every block's output, so it goes there.
    const sizePrefix = Buffer.allocUnsafe(4);
    sizePrefix.writeUInt32LE(blockMax, 0);
    let window: Buffer | undefined;
    for (;;) {
      need(4, 'block size');
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax) {
        throw KafkaProtocolError.corrupt(`lz4 block of ${size} bytes exceeds its ${blockMax} maximum`);
      }
      need(size + (blockChecksum ? 4 : 0), 'block');
      const block = data.subarray(pos, pos + size);
      pos += size + (blockChecksum ? 4 : 0);
      let out: Buffer;
      if ((word & 0x80000000) !== 0) {
        out = block; // stored uncompressed
      } else {
        const framed = Buffer.concat([sizePrefix, block], 4 + size);
        out = linked && window !== undefined ? lz4Uncompress(framed, window) : lz4Uncompress(framed);
      }
      total += out.length;
      if (total > maxBytes) throw tooLarge('lz4', maxBytes);
      parts.push(out);
      if (linked) window = lz4Window(window, out);
    }
    if (contentChecksum) {
      need(4, 'content checksum');
      pos += 4;
    }
  }
  if (parts.length === 1) return parts[0];
  return Buffer.concat(parts, total);
}

/** The last 64 KiB of output, which a linked block may refer back into. */
function lz4Window(previous: Buffer | undefined, out: Buffer): Buffer {
  if (out.length >= LZ4_WINDOW || previous === undefined) {
    return out.subarray(Math.max(0, out.length - LZ4_WINDOW));
  }
  const joined = Buffer.concat([previous, out]);
  return joined.subarray(Math.max(0, joined.length - LZ4_WINDOW));
}

// ---------------------------------------------------------------------------------------
// Zstd. zstd-napi's one-shot decompress trusts the frame's declared content size for its
// allocation and has no output cap, so this drives ZSTD_decompressStream directly: capped
// output, and a frame that ends early is an error rather than silently short data. The
// Java client (zstd-jni's stream) writes frames without a content size, so the streaming
// path is the common one.

let dctx: zstdBinding.DCtx | undefined;
const ZSTD_OUT_CHUNK = zstdBinding.dStreamOutSize();

function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  dctx ??= new zstdBinding.DCtx();
  // A previous call may have thrown mid-frame; start from a clean session either way.
  dctx.reset(zstdBinding.ResetDirective.sessionOnly);

  // Fast path: one frame that declares its size (librdkafka, KafkaJS, us) inflates in one
  // call into a buffer of exactly that size.
  if (zstdBinding.findFrameCompressedSize(data) === data.length) {
    const size = zstdBinding.getFrameContentSize(data);
    if (size !== null) {
      if (size > maxBytes) throw tooLarge('zstd', maxBytes);
      const out = Buffer.allocUnsafe(size);
      const n = dctx.decompress(out, data);
      if (n !== size) {
        throw KafkaProtocolError.corrupt(`zstd frame declared ${size} bytes but held ${n}`);
      }
      return out;
    }
  }

  const parts: Buffer[] = [];
  let total = 0;
  let input = data;
  let hint = 1;
  while (input.length > 0 || hint !== 0) {
    const room = maxBytes + 1 - total;
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(ZSTD_OUT_CHUNK, input.length * 4), room));
    const [nextHint, produced, consumed] = dctx.decompressStream(chunk, input);
    if (produced === 0 && consumed === 0) {
      // No progress with input left means a malformed stream; with none left, the last
      // frame is incomplete.
      throw KafkaProtocolError.corrupt(
        input.length > 0 ? 'zstd stream makes no progress' : 'zstd frame is truncated',
      );
    }
    hint = nextHint;
    total += produced;
    if (total > maxBytes) throw tooLarge('zstd', maxBytes);
    if (produced > 0) parts.push(chunk.subarray(0, produced));
    input = input.subarray(consumed);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}
