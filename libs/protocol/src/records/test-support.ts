import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';

/*
 * Helpers shared by the records tests. Python is Debian's /usr/bin/python3 with
 * python3-kafka (kafka-python), python3-lz4, python3-snappy and python3-zstandard: real
 * third-party implementations of the codecs and of RecordBatch v2 to check ours against.
 */

export const PYTHON = '/usr/bin/python3';

/** Runs a Python snippet with `input` on stdin and returns its stdout. */
export function python(code: string, input: Buffer = Buffer.alloc(0)): Buffer {
  return execFileSync(PYTHON, ['-c', code], { input, maxBuffer: 1 << 30 });
}

export function assertCorrupt(fn: () => unknown, what: string): void {
  assert.throws(
    fn,
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.CORRUPT_MESSAGE,
    `${what}: expected a CORRUPT_MESSAGE KafkaProtocolError`,
  );
}

/** A deterministic PRNG (xorshift32), so a failing fuzz case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Bytes that compress somewhat: words from a small vocabulary mixed with random runs. */
export function mixedPayload(size: number, seed = 1): Buffer {
  const rand = prng(seed);
  const words = ['kafka', 'tributary', 'offset', 'partition', 'replica', 'batch', ' ', '\n'];
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  while (pos < size) {
    if (rand() < 0.1) {
      const n = Math.min(size - pos, 1 + Math.floor(rand() * 64));
      for (let i = 0; i < n; i++) out[pos++] = Math.floor(rand() * 256);
    } else {
      pos += out.write(words[Math.floor(rand() * words.length)], pos);
    }
  }
  return out;
}

/** Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78), independent of @node-rs/crc32. */
export function crc32cReference(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
