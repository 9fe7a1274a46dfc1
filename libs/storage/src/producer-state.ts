import fs from 'node:fs';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTE,
  BATCH,
  BatchHeader,
  ErrorCode,
  KafkaProtocolError,
  readTxnMarker,
} from '@tributary/protocol';
import { fsyncDir } from './atomic-file';
import type { StorageLogger } from './logger';
import { readInt64, writeInt64 } from './int64';

/**
 * Kafka's NUM_BATCHES_TO_RETAIN: a retry is recognised among a producer's last 5 batches,
 * as idempotent clients keep at most 5 requests in flight per partition.
 */
export const BATCHES_TO_RETAIN = 5;
export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/;
const INT32_MAX = 2147483647;
const NO_PRODUCER_EPOCH = -1;
/** Version 2 adds each producer's coordinator epoch and open transaction; version 1 is still read. */
const SNAPSHOT_VERSION = 2;
/** version int16, crc uint32, producer count int32. */
const SNAPSHOT_HEADER = 10;
/** producerId int64, epoch int16, lastTimestamp int64, batch count int8. */
const ENTRY_HEADER_V1 = 19;
/** Version 1's, then coordinatorEpoch int32, currentTxnFirstOffset int64. */
const ENTRY_HEADER = 31;
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

/**
 * What a partition knows of one producer id: its epoch, its last batches (oldest first) and,
 * for a transactional producer, its open transaction and the coordinator epoch of its last marker.
 */
export interface ProducerEntry {
  readonly producerId: number;
  epoch: number;
  batches: ProducerBatch[];
  /** Max timestamp of its latest batch: producer.id.expiration.ms counts from it. */
  lastTimestamp: number;
  /** The epoch of the transaction coordinator that wrote its last marker here, -1 when none. */
  coordinatorEpoch: number;
  /** The first offset of its transaction open on this partition, -1 when none. */
  currentTxnFirstOffset: number;
}

/** A transaction a COMMIT or ABORT marker ended: from its first record to the marker. */
export interface CompletedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly aborted: boolean;
}

/** What the marker path must know before appending a marker (WriteTxnMarkers). */
export interface TxnMarkerCheck {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
}

/**
 * KIP-890's verification of a transactional producer's first batch on a partition: a token
 * handed out when the broker starts asking the coordinator whether the partition is in the
 * producer's transaction, and forgotten when the producer appends or a marker ends its
 * transaction. The append must bring the same token, so a marker written while the question
 * was out (the transaction ended) makes the late answer worthless.
 */
interface VerificationState {
  readonly guard: number;
  readonly created: number;
}

/** No verification guard: what an append brings when its producer's transaction is already open here. */
export const NO_VERIFICATION_GUARD = 0;
let nextGuard = 1;

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
 * baseSequence, lastOffsetDelta, the transactional bit); no record is decoded but a
 * transaction marker's one record.
 *
 * Transactions (KIP-98): a producer's first transactional batch opens its transaction here,
 * its COMMIT or ABORT marker closes it. The earliest transaction still open, or closed by a
 * marker the high watermark has not passed, is the first unstable offset; the partition's last
 * stable offset, up to which read_committed consumers read, is that bounded by the high
 * watermark.
 *
 * Kept across restarts by snapshots `<offset>.snapshot` in the partition directory (the state
 * after every batch below that offset), taken when a segment rolls and on clean close; at
 * open the latest snapshot is loaded and the batches after it are replayed from the log.
 */
export class ProducerStateManager {
  private readonly entries = new Map<number, ProducerEntry>();
  /** Open transactions by first offset, in offset order (appends come in offset order). */
  private readonly ongoing = new Map<number, number>();
  /**
   * Transactions whose marker is in the log but not yet below the high watermark, by first
   * offset (Kafka's unreplicatedTxns): they hold the last stable offset back until the marker
   * is replicated, so a read_committed consumer never reads past a marker a failover may lose.
   */
  private readonly unreplicated = new Map<number, { producerId: number; lastOffset: number }>();
  private readonly verifications = new Map<number, VerificationState>();

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
   * epoch that does not start at 0, INVALID_RECORD for a negative sequence, INVALID_TXN_STATE
   * for a non-transactional batch while the producer's transaction is open, or (with
   * `verificationGuard`, when the broker verifies transactions) for a transactional batch that
   * would open a transaction without the guard its verification was given. A producer id this
   * partition does not know may start at any sequence (its state may have expired or gone with
   * the records). Hot path: header reads only.
   */
  checkAppend(records: Buffer, verificationGuard?: number): ProducerBatch | null {
    let staged: Map<number, { epoch: number; lastSeq: number; inTxn: boolean }> | null = null;
    for (let at = 0; at < records.length;) {
      const size = records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
      const producerId = readInt64(records, at + BATCH.PRODUCER_ID);
      if (producerId >= 0) {
        const epoch = records.readInt16BE(at + BATCH.PRODUCER_EPOCH);
        const firstSeq = records.readInt32BE(at + BATCH.BASE_SEQUENCE);
        const lastSeq = incrementSequence(firstSeq, records.readInt32BE(at + BATCH.LAST_OFFSET_DELTA));
        const transactional = (records.readInt16BE(at + BATCH.ATTRIBUTES) & ATTRIBUTE.TRANSACTIONAL) !== 0;
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
        const inTxn = pending?.inTxn ?? (entry !== undefined && entry.currentTxnFirstOffset >= 0);
        if (inTxn && !transactional) {
          throw new KafkaProtocolError(
            ErrorCode.INVALID_TXN_STATE,
            `Expected transactional write from producer ${producerId} in partition ${this.name}: ` +
              `its transaction here is open since offset ${entry?.currentTxnFirstOffset ?? -1}`,
          );
        }
        if (transactional && !inTxn && verificationGuard !== undefined) {
          const verified = this.verifications.get(producerId);
          if (verificationGuard === NO_VERIFICATION_GUARD || verified?.guard !== verificationGuard) {
            throw new KafkaProtocolError(
              ErrorCode.INVALID_TXN_STATE,
              `Record was not part of an ongoing transaction: producer ${producerId} epoch ${epoch} ` +
                `has no verified transaction on ${this.name}`,
            );
          }
        }
        (staged ??= new Map()).set(producerId, { epoch, lastSeq, inTxn: inTxn || transactional });
      }
      at += size;
    }
    return null;
  }

  /**
   * Checks a transaction marker before the leader appends it (Kafka's appendEndTxnMarker from
   * the coordinator): INVALID_PRODUCER_EPOCH for an epoch older than the producer's here,
   * TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older than the last marker's.
   */
  checkMarker(marker: TxnMarkerCheck): void {
    const entry = this.entries.get(marker.producerId);
    if (entry === undefined) return;
    if (marker.producerEpoch < entry.epoch) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `Epoch of producer ${marker.producerId} in ${this.name} is ${marker.producerEpoch}, ` +
          `which is smaller than the last seen epoch ${entry.epoch}`,
      );
    }
    if (entry.coordinatorEpoch > marker.coordinatorEpoch) {
      throw new KafkaProtocolError(
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        `Invalid coordinator epoch for producerId ${marker.producerId} in partition ${this.name}: ` +
          `${marker.coordinatorEpoch} (zombie), ${entry.coordinatorEpoch} (current)`,
      );
    }
  }

  /** Whether the producer's transaction is open on this partition in `epoch` (Kafka's hasOngoingTransaction). */
  hasOngoingTransaction(producerId: number, epoch: number): boolean {
    const entry = this.entries.get(producerId);
    return entry !== undefined && entry.currentTxnFirstOffset >= 0 && entry.epoch === epoch;
  }

  /**
   * KIP-890: before asking the coordinator to verify a transactional batch, the guard the append
   * must bring; NO_VERIFICATION_GUARD when the producer's transaction is already open here (it
   * was verified when it began). Kafka's maybeStartTransactionVerification.
   */
  maybeStartTransactionVerification(producerId: number, epoch: number, now: number): number {
    if (this.hasOngoingTransaction(producerId, epoch)) return NO_VERIFICATION_GUARD;
    let state = this.verifications.get(producerId);
    if (state === undefined) {
      state = { guard: nextGuard++, created: now };
      this.verifications.set(producerId, state);
    }
    return state.guard;
  }

  /**
   * Records an appended batch (offsets assigned) of a producer; batches without a producer id
   * are ignored. Also how the state is rebuilt from the log and follows replication, so it
   * never refuses: an older epoch simply becomes the producer's epoch, as Kafka does for
   * appends that were validated elsewhere. A transactional batch opens the producer's
   * transaction; a COMMIT or ABORT marker (whose record must be in the header's buffer) closes
   * it and returns it, for the caller to index (an abort) and then pass to completeTxn.
   * Header reads only, but for a marker's one record.
   */
  applyBatch(h: BatchHeader): CompletedTxn | null {
    const producerId = h.producerId;
    if (producerId < 0) return null;
    const attributes = h.attributes;
    const control = (attributes & ATTRIBUTE.CONTROL) !== 0;
    const marker = control ? readTxnMarker(h) : null;
    // An emptied control batch (compaction removed the marker) changes nothing, as in Kafka.
    if (control && marker === null) return null;
    const epoch = h.producerEpoch;
    let entry = this.entries.get(producerId);
    if (entry === undefined) {
      entry = {
        producerId,
        epoch,
        batches: [],
        lastTimestamp: -1,
        coordinatorEpoch: -1,
        currentTxnFirstOffset: -1,
      };
      this.entries.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.lastTimestamp = h.maxTimestamp;
    if (marker !== null) {
      this.verifications.delete(producerId);
      const firstOffset = entry.currentTxnFirstOffset;
      entry.currentTxnFirstOffset = -1;
      entry.coordinatorEpoch = marker.coordinatorEpoch;
      // A marker for a transaction with no data here moves nothing.
      if (firstOffset < 0) return null;
      return {
        producerId,
        firstOffset,
        lastOffset: h.baseOffset,
        aborted: !marker.committed,
      };
    }
    const firstSeq = h.baseSequence;
    if (entry.batches.length === BATCHES_TO_RETAIN) entry.batches.shift();
    const baseOffset = h.baseOffset;
    entry.batches.push({
      firstSeq,
      lastSeq: incrementSequence(firstSeq, h.lastOffsetDelta),
      firstOffset: baseOffset,
      lastOffset: h.lastOffset,
      timestamp: h.maxTimestamp,
    });
    if ((attributes & ATTRIBUTE.TRANSACTIONAL) !== 0 && entry.currentTxnFirstOffset < 0) {
      entry.currentTxnFirstOffset = baseOffset;
      this.ongoing.set(baseOffset, producerId);
      this.verifications.delete(producerId);
    }
    return null;
  }

  /**
   * The last stable offset to record with an aborted transaction in the index, before
   * completeTxn: the first offset of the earliest transaction of another producer still open,
   * else the offset after the marker (Kafka's lastStableOffset(completedTxn)).
   */
  lastStableOffsetAfter(txn: CompletedTxn): number {
    for (const [firstOffset, producerId] of this.ongoing) {
      if (producerId !== txn.producerId) return firstOffset;
    }
    return txn.lastOffset + 1;
  }

  /** The transaction's marker is in the log: it waits for the high watermark to pass it. */
  completeTxn(txn: CompletedTxn): void {
    this.ongoing.delete(txn.firstOffset);
    this.unreplicated.set(txn.firstOffset, { producerId: txn.producerId, lastOffset: txn.lastOffset });
  }

  /** Completed transactions whose marker is now below the high watermark stop holding the LSO back. */
  onHighWatermarkUpdated(highWatermark: number): void {
    if (this.unreplicated.size === 0) return;
    for (const [firstOffset, t] of this.unreplicated) {
      if (t.lastOffset < highWatermark) this.unreplicated.delete(firstOffset);
    }
  }

  /**
   * The first offset of the earliest transaction that is open or whose marker is not yet
   * replicated (Kafka's firstUnstableOffset), -1 when none. The last stable offset is this,
   * bounded by the high watermark.
   */
  firstUnstableOffset(): number {
    let first = -1;
    for (const firstOffset of this.ongoing.keys()) {
      first = firstOffset;
      break;
    }
    for (const firstOffset of this.unreplicated.keys()) {
      if (first < 0 || firstOffset < first) first = firstOffset;
    }
    return first;
  }

  /** Open transactions by producer: [producerId, firstOffset], earliest first. */
  openTransactions(): [number, number][] {
    return [...this.ongoing].map(([firstOffset, producerId]) => [producerId, firstOffset]);
  }

  /**
   * Forgets producers idle for producer.id.expiration.ms (by their batches' timestamps), but
   * never one with an open transaction (as Kafka); verifications never answered are forgotten
   * after the same time.
   */
  removeExpired(now: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, e] of this.entries) {
      if (e.currentTxnFirstOffset < 0 && now - e.lastTimestamp >= expirationMs) {
        this.entries.delete(id);
        removed++;
      }
    }
    for (const [id, v] of this.verifications) {
      if (now - v.created >= expirationMs) this.verifications.delete(id);
    }
    return removed;
  }

  clear(): void {
    this.entries.clear();
    this.ongoing.clear();
    this.unreplicated.clear();
    this.verifications.clear();
  }

  // ---- snapshots -----------------------------------------------------------------------

  /**
   *   version int16 | crc uint32 (CRC-32C of what follows) | producerCount int32 |
   *   [producerId int64 | epoch int16 | lastTimestamp int64 | batchCount int8 |
   *    coordinatorEpoch int32 | currentTxnFirstOffset int64 |
   *    [firstSeq int32 | lastSeq int32 | firstOffset int64 | lastOffset int64 | timestamp int64]...]...
   *
   * Kafka's snapshot keeps only each producer's last batch; this one keeps all five, so a
   * retry is still recognised as such after a restart. Like Kafka's it keeps each producer's
   * open transaction and coordinator epoch (version 1, read still, had neither).
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
      buf.writeInt32BE(e.coordinatorEpoch, at + 19);
      writeInt64(buf, at + 23, e.currentTxnFirstOffset);
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
    const version = buf.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION && version !== 1) return `unknown version ${version}`;
    if (buf.readUInt32BE(2) !== crc32c(buf.subarray(6)) >>> 0) return 'CRC-32C mismatch';
    const headerSize = version === 1 ? ENTRY_HEADER_V1 : ENTRY_HEADER;
    const count = buf.readInt32BE(6);
    const entries: ProducerEntry[] = [];
    let at = SNAPSHOT_HEADER;
    for (let i = 0; i < count; i++) {
      if (buf.length - at < headerSize) return 'truncated';
      const n = buf.readInt8(at + 18);
      if (n < 0 || n > BATCHES_TO_RETAIN || buf.length - at - headerSize < n * BATCH_ENTRY)
        return 'truncated';
      const entry: ProducerEntry = {
        producerId: readInt64(buf, at),
        epoch: buf.readInt16BE(at + 8),
        lastTimestamp: readInt64(buf, at + 10),
        batches: [],
        coordinatorEpoch: version === 1 ? -1 : buf.readInt32BE(at + 19),
        currentTxnFirstOffset: version === 1 ? -1 : readInt64(buf, at + 23),
      };
      at += headerSize;
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
   * Loads the latest usable snapshot at or below `maxOffset`, deleting those above
   * `deleteAbove` (the log was cut back there; an earlier state may be wanted to rebuild
   * indexes from) and any that fail to parse. Returns its offset, or null (state empty).
   */
  loadLatestSnapshot(maxOffset: number, deleteAbove = maxOffset): number | null {
    this.clear();
    const offsets = this.snapshotOffsets();
    for (let i = offsets.length - 1; i >= 0; i--) {
      const offset = offsets[i];
      const file = path.join(this.dir, snapshotFileName(offset));
      if (offset > maxOffset) {
        if (offset > deleteAbove) fs.rmSync(file, { force: true });
        continue;
      }
      const decoded = ProducerStateManager.decodeSnapshot(fs.readFileSync(file));
      if (typeof decoded === 'string') {
        this.logger.warn(`${this.name}: deleting unusable producer snapshot ${file}: ${decoded}`);
        fs.rmSync(file, { force: true });
        continue;
      }
      for (const e of decoded) this.entries.set(e.producerId, e);
      const open = decoded.filter((e) => e.currentTxnFirstOffset >= 0);
      open.sort((a, b) => a.currentTxnFirstOffset - b.currentTxnFirstOffset);
      for (const e of open) this.ongoing.set(e.currentTxnFirstOffset, e.producerId);
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
