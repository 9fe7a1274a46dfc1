import fs from 'node:fs';
import path from 'node:path';

/** One stored record batch, as its bytes lie in a segment file. */
export interface StoredBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** -1 for a batch of no idempotent producer. */
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly bytes: Buffer;
}

/**
 * The record batches of a partition as one replica stored them, read from its segment files
 * (`<data dir>/<topic>-<partition>/<20-digit base offset>.log`) without the broker's code: each
 * batch is baseOffset (int64), batchLength (int32) and batchLength more bytes, its last offset
 * delta at byte 23, producer id at 43 and producer epoch at 51. A torn tail (a batch cut
 * short) ends the read.
 */
export function readStoredBatches(dataDir: string, topic: string, partition: number): StoredBatch[] {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  if (!fs.existsSync(dir)) return [];
  const segments = fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort();
  const batches: StoredBatch[] = [];
  for (const segment of segments) {
    const data = fs.readFileSync(path.join(dir, segment));
    for (let at = 0; at + 61 <= data.length;) {
      const size = 12 + data.readInt32BE(at + 8);
      if (size < 61 || at + size > data.length) break;
      const baseOffset = Number(data.readBigInt64BE(at));
      batches.push({
        baseOffset,
        lastOffset: baseOffset + data.readInt32BE(at + 23),
        producerId: Number(data.readBigInt64BE(at + 43)),
        producerEpoch: data.readInt16BE(at + 51),
        bytes: data.subarray(at, at + size),
      });
      at += size;
    }
  }
  return batches;
}
