import fs from 'node:fs';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { ATTRIBUTE, BATCH, type BatchHeader, ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { fsyncDir } from './atomic-file';
import type { StorageLogger } from './logger';
import { readInt64, writeInt64 } from './log-segment';

/**
 * Kafka's NUM_BATCHES_TO_RETAIN: a retry is recognised among a producer's last 5 batches,
 * as idempotent clients keep at most 5 requests in flight per partition.
 */
export const BATCHES_TO_RETAIN = 5;
export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/;
const INT32_MAX = 2147483647;
const NO_PRODUCER_EPOCH = -1;
const SNAPSHOT_VERSION = 1;
/** version int16, crc uint32, producer count int32. */
const SNAPSHOT_HEADER = 10;
/** producerId int64, epoch int16, lastTimestamp int64, batch count int8. */
const ENTRY_HEADER = 19;
/** firstSeq int32, lastSeq int32, firstOffset int64, lastOffset int64, timestamp int64. */
const BATCH_ENTRY = 32;

/** One appended batch of a producer: its sequence range, where it went, its max timestamp. */
export interface ProducerBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly timestamp: number;
}

/** What a partition knows of one producer id: its epoch and its last batches, oldest first. */
export interface ProducerEntry {
  readonly producerId: number;
  epoch: number;
  batches: ProducerBatch[];
  /** Max timestamp of its latest batch: producer.id.expiration.ms counts from it. */
  lastTimestamp: number;
}

/** The sequence number `delta` after `sequence`, wrapping past int32 max to 0 as producers do. */
export function incrementSequence(sequence: number, delta: number): number {
  return sequence > INT32_MAX - delta ? delta - (INT32_MAX - sequence) - 1 : sequence + delta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export function snapshotFileName(offset: number): string {
  return String(offset).padStart(20, '0') + SNAPSHOT_SUFFIX;
}

/**
 * Kafka's ProducerStateManager for one partition: per producer id, its epoch and its last
 * five batches, so that a retried batch is recognised and answered with its original
 * offsets instead of being appended twice, and a batch out of sequence or from a fenced
 * epoch is refused. Everything is read from batch headers (producerId, producerEpoch,
 * baseSequence, lastOffsetDelta); no record is decoded.
 *
 * Kept across restarts by snapshots `<offset>.snapshot` in the partition directory (the state
 * after every batch below that offset), taken when a segment rolls and on clean close; at
 * open the latest snapshot is loaded and the batches after it are replayed from the log.
 */
export class ProducerStateManager {
  private readonly entries = new Map<number, ProducerEntry>();

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly logger: StorageLogger,
  ) {}

  get producerCount(): number {
    return this.entries.size;
  }

  entry(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId);
  }

  /** Every producer this partition knows (DescribeProducers). */
  all(): IterableIterator<Readonly<ProducerEntry>> {
    return this.entries.values();
  }

  /** The last offset of each producer's latest batch: the batch compaction must keep. */
  lastBatchOffsets(): Map<number, number> {
    const out = new Map<number, number>();
    for (const e of this.entries.values()) {
      const last = e.batches[e.batches.length - 1];
      if (last !== undefined) out.set(e.producerId, last.lastOffset);
    }
    return out;
  }

  /**
   * Checks a producer's batches (framing already validated) before they are appended, as
   * Kafka does for a client's produce: returns the original of a duplicate of one of the
   * producer's last five batches (which must then not be appended), or null when every batch
   * may go on. Throws INVALID_PRODUCER_EPOCH for an epoch older than the producer's,
   * OUT_OF_ORDER_SEQUENCE_NUMBER for a sequence that does not follow its last one or a new
   * epoch that does not start at 0, INVALID_RECORD for a negative sequence. A producer id
   * this partition does not know may start at any sequence (its state may have expired or
   * gone with the records). Hot path: header reads only.
   */
  checkAppend(records: Buffer): ProducerBatch | null {
    let staged: Map<number, { epoch: number; lastSeq: number }> | null = null;
    for (let at = 0; at < records.length;) {
      const size = records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
      const producerId = readInt64(records, at + BATCH.PRODUCER_ID);
      if (producerId >= 0) {
        const epoch = records.readInt16BE(at + BATCH.PRODUCER_EPOCH);
        const firstSeq = records.readInt32BE(at + BATCH.BASE_SEQUENCE);
        const lastSeq = incrementSequence(firstSeq, records.readInt32BE(at + BATCH.LAST_OFFSET_DELTA));
        if (firstSeq < 0) {
          throw new KafkaProtocolError(
            ErrorCode.INVALID_RECORD,
            `Invalid sequence number ${firstSeq} in record batch with producerId ${producerId}`,
          );
        }
        const entry = this.entries.get(producerId);
        const pending = staged?.get(producerId);
        if (pending === undefined && entry !== undefined && entry.epoch === epoch) {
          const duplicate = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
          if (duplicate !== undefined) return duplicate;
        }
        const currentEpoch = pending?.epoch ?? entry?.epoch ?? NO_PRODUCER_EPOCH;
        if (epoch < currentEpoch) {
          throw new KafkaProtocolError(
            ErrorCode.INVALID_PRODUCER_EPOCH,
            `Epoch of producer ${producerId} in ${this.name} is ${epoch}, which is smaller than the last seen epoch ${currentEpoch}`,
          );
        }
        if (epoch !== currentEpoch) {
          if (firstSeq !== 0 && currentEpoch !== NO_PRODUCER_EPOCH) {
            throw new KafkaProtocolError(
              ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
              `Invalid sequence number for new epoch of producer ${producerId} in ${this.name}: ` +
                `${epoch} (request epoch), ${firstSeq} (seq. number), ${currentEpoch} (current producer epoch)`,
            );
          }
        } else if (currentEpoch !== NO_PRODUCER_EPOCH) {
          const knownLastSeq = pending?.lastSeq ?? entry?.batches[entry.batches.length - 1]?.lastSeq ?? -1;
          if (!inSequence(knownLastSeq, firstSeq)) {
            throw new KafkaProtocolError(
              ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
              `Out of order sequence number for producer ${producerId} in ${this.name}: ` +
                `${firstSeq} (incoming seq. number), ${knownLastSeq} (current end sequence number)`,
            );
          }
        }
        (staged ??= new Map()).set(producerId, { epoch, lastSeq });
      }
      at += size;
    }
    return null;
  }

  /**
   * Records an appended batch (offsets assigned) of a producer; batches without a producer id
   * are ignored. Also how the state is rebuilt from the log and follows replication, so it
   * never refuses: an older epoch simply becomes the producer's epoch, as Kafka does for
   * appends that were validated elsewhere.
   */
  applyBatch(h: BatchHeader): void {
    const producerId = h.producerId;
    if (producerId < 0) return;
    const epoch = h.producerEpoch;
    let entry = this.entries.get(producerId);
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [], lastTimestamp: -1 };
      this.entries.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.lastTimestamp = h.maxTimestamp;
    // A transaction marker moves the epoch but carries no data sequence.
    if ((h.attributes & ATTRIBUTE.CONTROL) !== 0) return;
    const firstSeq = h.baseSequence;
    if (entry.batches.length === BATCHES_TO_RETAIN) entry.batches.shift();
    entry.batches.push({
      firstSeq,
      lastSeq: incrementSequence(firstSeq, h.lastOffsetDelta),
      firstOffset: h.baseOffset,
      lastOffset: h.lastOffset,
      timestamp: h.maxTimestamp,
    });
  }

  /** Forgets producers idle for producer.id.expiration.ms (by their batches' timestamps). */
  removeExpired(now: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, e] of this.entries) {
      if (now - e.lastTimestamp >= expirationMs) {
        this.entries.delete(id);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.entries.clear();
  }

  // ---- snapshots -----------------------------------------------------------------------

  /**
   *   version int16 | crc uint32 (CRC-32C of what follows) | producerCount int32 |
   *   [producerId int64 | epoch int16 | lastTimestamp int64 | batchCount int8 |
   *    [firstSeq int32 | lastSeq int32 | firstOffset int64 | lastOffset int64 | timestamp int64]...]...
   *
   * Kafka's snapshot keeps only each producer's last batch; this one keeps all five, so a
   * retry is still recognised as such after a restart.
   */
  private encodeSnapshot(): Buffer {
    let size = SNAPSHOT_HEADER;
    for (const e of this.entries.values()) size += ENTRY_HEADER + e.batches.length * BATCH_ENTRY;
    const buf = Buffer.allocUnsafe(size);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(this.entries.size, 6);
    let at = SNAPSHOT_HEADER;
    for (const e of this.entries.values()) {
      writeInt64(buf, at, e.producerId);
      buf.writeInt16BE(e.epoch, at + 8);
      writeInt64(buf, at + 10, e.lastTimestamp);
      buf.writeInt8(e.batches.length, at + 18);
      at += ENTRY_HEADER;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, at);
        buf.writeInt32BE(b.lastSeq, at + 4);
        writeInt64(buf, at + 8, b.firstOffset);
        writeInt64(buf, at + 16, b.lastOffset);
        writeInt64(buf, at + 24, b.timestamp);
        at += BATCH_ENTRY;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(6)) >>> 0, 2);
    return buf;
  }

  /** Parses a snapshot, or returns why it cannot be used. */
  private static decodeSnapshot(buf: Buffer): ProducerEntry[] | string {
    if (buf.length < SNAPSHOT_HEADER) return `${buf.length} bytes are too few`;
    if (buf.readInt16BE(0) !== SNAPSHOT_VERSION) return `unknown version ${buf.readInt16BE(0)}`;
    if (buf.readUInt32BE(2) !== crc32c(buf.subarray(6)) >>> 0) return 'CRC-32C mismatch';
    const count = buf.readInt32BE(6);
    const entries: ProducerEntry[] = [];
    let at = SNAPSHOT_HEADER;
    for (let i = 0; i < count; i++) {
      if (buf.length - at < ENTRY_HEADER) return 'truncated';
      const n = buf.readInt8(at + 18);
      if (n < 0 || n > BATCHES_TO_RETAIN || buf.length - at - ENTRY_HEADER < n * BATCH_ENTRY)
        return 'truncated';
      const entry: ProducerEntry = {
        producerId: readInt64(buf, at),
        epoch: buf.readInt16BE(at + 8),
        lastTimestamp: readInt64(buf, at + 10),
        batches: [],
      };
      at += ENTRY_HEADER;
      for (let b = 0; b < n; b++, at += BATCH_ENTRY) {
        entry.batches.push({
          firstSeq: buf.readInt32BE(at),
          lastSeq: buf.readInt32BE(at + 4),
          firstOffset: readInt64(buf, at + 8),
          lastOffset: readInt64(buf, at + 16),
          timestamp: readInt64(buf, at + 24),
        });
      }
      entries.push(entry);
    }
    return at === buf.length ? entries : 'trailing bytes';
  }

  /** Offsets of the snapshots on disk, ascending. */
  snapshotOffsets(): number[] {
    const out: number[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const m = SNAPSHOT_NAME.exec(name);
      if (m !== null) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * Writes the state as `<offset>.snapshot` (tmp file, then rename). With `sync` the file and
   * the rename are fsynced before returning (clean close); otherwise the file is fsynced in
   * the background, so a segment roll does not wait for the disk: a snapshot lost or torn by
   * a crash fails its CRC or is missing, and an older one is used.
   */
  takeSnapshot(offset: number, sync: boolean): void {
    const file = path.join(this.dir, snapshotFileName(offset));
    const tmp = `${file}.tmp`;
    const data = this.encodeSnapshot();
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      if (sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    if (sync) {
      fsyncDir(this.dir);
      return;
    }
    fs.open(file, 'r', (openErr, bg) => {
      if (openErr !== null) return; // replaced or deleted meanwhile: nothing to make durable
      fs.fsync(bg, (err) => {
        fs.close(bg, () => undefined);
        if (err !== null) this.logger.warn(`${this.name}: fsync of ${file} failed: ${err.message}`);
      });
    });
  }

  /**
   * Loads the latest usable snapshot at or below `maxOffset`, deleting those above it (the
   * log was cut back) and any that fail to parse. Returns its offset, or null (state empty).
   */
  loadLatestSnapshot(maxOffset: number): number | null {
    this.entries.clear();
    const offsets = this.snapshotOffsets();
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i];
      const file = path.join(this.dir, snapshotFileName(offset));
      if (offset > maxOffset) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const decoded = ProducerStateManager.decodeSnapshot(fs.readFileSync(file));
      if (typeof decoded === 'string') {
        this.logger.warn(`${this.name}: deleting unusable producer snapshot ${file}: ${decoded}`);
        fs.rmSync(file, { force: true });
        continue;
      }
      for (const e of decoded) this.entries.set(e.producerId, e);
      return offset;
    }
    return null;
  }

  /** Deletes the snapshot at `offset`, if any (its segment was deleted). */
  deleteSnapshot(offset: number): void {
    fs.rmSync(path.join(this.dir, snapshotFileName(offset)), { force: true });
  }

  /**
   * Kafka's removeStraySnapshots: keeps the snapshots at segment base offsets and the latest
   * one (which a clean close takes at the log end), deleting the rest.
   */
  removeStraySnapshots(segmentBaseOffsets: readonly number[]): void {
    const offsets = this.snapshotOffsets();
    const bases = new Set(segmentBaseOffsets);
    for (let i = 0; i < offsets.length - 1; i++) {
      if (!bases.has(offsets[i])) this.deleteSnapshot(offsets[i]);
    }
  }

  /** Deletes every snapshot: the log was emptied. */
  deleteAllSnapshots(): void {
    for (const offset of this.snapshotOffsets()) this.deleteSnapshot(offset);
  }
}
