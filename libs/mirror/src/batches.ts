import { BATCH, BatchHeader } from '@tributary/protocol';

/**
 * Whole record batches in a fetched buffer, walked by their headers only (hot path: no
 * record is decoded): how many records they hold, how old the oldest is, and how to cut
 * them into writes the target accepts.
 */

/** Records in whole batches. */
export function recordCount(records: Buffer): number {
  let n = 0;
  for (let at = 0; at < records.length; at += batchSize(records, at)) {
    n += records.readInt32BE(at + BATCH.RECORD_COUNT);
  }
  return n;
}

function batchSize(records: Buffer, at: number): number {
  return records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
}

/** The first batch's first timestamp: the age of the oldest record in the buffer. */
export function firstTimestamp(records: Buffer): number {
  return records.length < BATCH.HEADER_SIZE ? -1 : new BatchHeader(records, 0).baseTimestamp;
}

/** Each batch's max timestamp (heartbeats: when they were sent). */
export function maxTimestamps(records: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at < records.length; at += batchSize(records, at)) {
    out.push(new BatchHeader(records, at).maxTimestamp);
  }
  return out;
}

/** One write: whole batches, with what the throttle charges for them. */
export interface Chunk {
  readonly records: Buffer;
  readonly recordCount: number;
  readonly baseOffset: number;
  /** The offset after its last batch. */
  readonly nextOffset: number;
  readonly baseTimestamp: number;
}

export interface WriteLimits {
  /** Bytes of one write (the target's segment.bytes, capped by the request size). */
  readonly maxBytes: number;
  /** Bytes of one batch (the target's max.message.bytes). */
  readonly maxBatchBytes: number;
  /** Records of one write (so a records-per-second throttle paces smoothly); 0: no limit. */
  readonly maxRecords: number;
}

/** A batch the target would refuse whatever the cut. */
export class BatchTooLarge extends Error {
  constructor(
    readonly offset: number,
    readonly size: number,
    readonly limit: { readonly name: string; readonly value: number },
  ) {
    super(
      `the batch at offset ${offset} is ${size} bytes, more than the target's ${limit.name} ${limit.value}`,
    );
    this.name = 'BatchTooLarge';
  }
}

/**
 * Cuts whole batches into writes within the limits, in order; a write holds at least one
 * batch. Throws BatchTooLarge at the first batch no write can hold (the writes before it are
 * returned by `fits` so the caller copies them first).
 */
export function cutIntoWrites(
  records: Buffer,
  limits: WriteLimits,
): { fits: Chunk[]; tooLarge: BatchTooLarge | null } {
  const fits: Chunk[] = [];
  let start = 0;
  let count = 0;
  let next = -1;
  let at = 0;
  const close = (end: number): void => {
    if (end === start) return;
    const first = new BatchHeader(records, start);
    fits.push({
      records: records.subarray(start, end),
      recordCount: count,
      baseOffset: first.baseOffset,
      nextOffset: next,
      baseTimestamp: first.baseTimestamp,
    });
    start = end;
    count = 0;
  };
  while (at < records.length) {
    const size = batchSize(records, at);
    const h = new BatchHeader(records, at);
    const limit =
      size > limits.maxBatchBytes
        ? { name: 'max.message.bytes', value: limits.maxBatchBytes }
        : size > limits.maxBytes
          ? { name: 'segment.bytes', value: limits.maxBytes }
          : null;
    if (limit !== null) {
      close(at);
      return { fits, tooLarge: new BatchTooLarge(h.baseOffset, size, limit) };
    }
    const n = h.recordCount;
    const full =
      at + size - start > limits.maxBytes || (limits.maxRecords > 0 && count + n > limits.maxRecords);
    if (at > start && full) close(at);
    count += n;
    next = h.lastOffset + 1;
    at += size;
  }
  close(at);
  return { fits, tooLarge: null };
}
