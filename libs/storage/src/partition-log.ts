import fs from 'node:fs';
import path from 'node:path';
import {
  ATTRIBUTE,
  BATCH,
  BatchHeader,
  batchHeaders,
  decodeRecordBatch,
  encodeTxnMarkerBatch,
  ErrorCode,
  KafkaProtocolError,
  readTxnMarker,
  type TxnMarkerBatch,
} from '@tributary/protocol';
import { fsyncDir, writeFileAtomicSync } from './atomic-file';
import { readInt64, writeInt64 } from './int64';
import type { EpochEndOffset, EpochEntry, LeaderEpochCache } from './leader-epoch-cache';
import { CLEAN_SHUTDOWN_FILE, loadSegments, OFFSETS_CHECKPOINT_FILE } from './log-loader';
import { consoleLogger, type StorageLogger } from './logger';
import { CLEANED_SUFFIX, DELETED_SUFFIX, LogSegment, SWAP_SUFFIX } from './log-segment';
import { ProducerStateManager, type CompletedTxn, type ProducerEntry } from './producer-state';
import type { AbortedTxn } from './transaction-index';
import type { TopicConfig } from './topic-config';

const EMPTY: Buffer = Buffer.alloc(0);
const NO_MARKERS: readonly AppendedTxnMarker[] = Object.freeze([]);
const INT32_MAX = 2147483647;

export interface PartitionLogOptions {
  /** The partition's directory, `<dataDir>/<topic>-<partition>`; created when missing. */
  readonly dir: string;
  readonly config: TopicConfig;
  /** For messages; the directory's name by default. */
  readonly name?: string;
  readonly logger?: StorageLogger;
  /**
   * True (the default, right for a lone broker and for mirror topics): every append moves the
   * high watermark to the log end (checkpointed as -1). False when replication decides it via
   * setHighWatermark(); it is then checkpointed and restored.
   */
  readonly highWatermarkFollowsLogEnd?: boolean;
  /**
   * Told of an I/O error that took the log offline (a full or failing disk), once: the owner
   * takes the rest of the log dir offline with it (Kafka's LogDirFailureChannel).
   */
  readonly onIoError?: (cause: Error) => void;
}

/** A COMMIT or ABORT marker that went into the log. */
export interface AppendedTxnMarker {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly committed: boolean;
  readonly offset: number;
}

export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** The broker time stamped on the batches with message.timestamp.type=LogAppendTime, else -1. */
  readonly logAppendTime: number;
  readonly recordCount: number;
  /**
   * The batches repeat one of their producer's last five batches (a retry): nothing was
   * appended and the offsets are the original's.
   */
  readonly duplicate: boolean;
  /** The transaction markers among the batches (replicated or the leader's own); mostly none. */
  readonly txnMarkers: readonly AppendedTxnMarker[];
}

export interface ReadOptions {
  /** Exclusive upper bound on the offsets returned: the high watermark for consumers. */
  readonly maxOffset?: number;
  /** Return the first batch whole even when larger than maxBytes (KIP-74). */
  readonly minOneBatch: boolean;
}

export interface ReadResult {
  readonly records: Buffer;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly logEndOffset: number;
}

export interface TimestampOffset {
  readonly offset: number;
  readonly timestamp: number;
}

/**
 * A produce to a compacted topic with records that have no key (Kafka's
 * RecordValidationException): INVALID_RECORD, with the index of each bad record in its batch.
 */
export class RecordValidationError extends KafkaProtocolError {
  constructor(
    message: string,
    readonly recordErrors: readonly { batchIndex: number; message: string }[],
  ) {
    super(ErrorCode.INVALID_RECORD, message);
  }
}

/**
 * One topic-partition's log: a directory of segments with the offsets that frame them.
 *
 *   logStartOffset <= highWatermark <= logEndOffset
 *
 * Single-threaded by design: every method is synchronous and the log is only used from the
 * event loop, so an append, a read or a retention pass never interleave. The directory must
 * not be used by two processes at once.
 */
export class PartitionLog {
  readonly name: string;
  private readonly logger: StorageLogger;
  private segments: LogSegment[] = [];
  private epochs!: LeaderEpochCache;
  private producers!: ProducerStateManager;
  private _config: TopicConfig;
  private _logStartOffset = 0;
  private _logEndOffset = 0;
  private _highWatermark = 0;
  private _recoveryPoint = 0;
  private unflushedMessages = 0;
  private lastFlushTime = Date.now();
  private lastCheckpoint = '';
  private failure: Error | null = null;
  private readonly onIoError: ((cause: Error) => void) | undefined;
  private closed = false;
  private _cleanerOffset = -1;
  private _segmentsVersion = 0;
  highWatermarkFollowsLogEnd: boolean;

  private constructor(
    readonly dir: string,
    options: PartitionLogOptions,
  ) {
    this._config = options.config;
    this.name = options.name ?? path.basename(dir);
    this.logger = options.logger ?? consoleLogger;
    this.highWatermarkFollowsLogEnd = options.highWatermarkFollowsLogEnd ?? true;
    this.onIoError = options.onIoError;
  }

  /**
   * Opens (creating when new) the log in `dir`. After an unclean shutdown every segment from
   * the recovery point on is validated batch by batch and cut at the first torn or corrupt
   * batch; segments after a cut are deleted, as they follow a hole.
   */
  static open(options: PartitionLogOptions): PartitionLog {
    const log = new PartitionLog(options.dir, options);
    log.load();
    return log;
  }

  private load(): void {
    const loaded = loadSegments(this.dir, this.name, this._config, this.logger);
    const saved = loaded.checkpoint;
    this.segments = loaded.segments;
    this.epochs = loaded.epochs;
    const active = this.active;
    this._logEndOffset = active.nextOffset;
    this._logStartOffset = Math.min(
      Math.max(saved?.logStartOffset ?? 0, this.segments[0].baseOffset),
      this._logEndOffset,
    );
    this._highWatermark = this.highWatermarkFollowsLogEnd
      ? this._logEndOffset
      : Math.min(Math.max(saved?.highWatermark ?? 0, this._logStartOffset), this._logEndOffset);
    // Cleanly closed logs were flushed; recovered segments were flushed above.
    this._recoveryPoint = this._logEndOffset;
    this.epochs.truncateFromEnd(this._logEndOffset);
    this.epochs.truncateFromStart(this._logStartOffset);
    this._cleanerOffset = saved?.cleanerOffset ?? -1;
    this.producers = new ProducerStateManager(this.dir, this.name, this.logger);
    try {
      // The aborted transactions of recovered segments (and of torn or swapped-in indexes) are
      // found again by replaying the producer state over them.
      for (const s of this.segments) {
        if (!s.txnIndexWellFormed)
          this.logger.warn(
            `${this.name}: rebuilding the damaged transaction index of segment ${s.baseOffset}`,
          );
      }
      const rebuildTxns = this.segments.filter(
        (s) => loaded.recovered.includes(s) || !s.txnIndexWellFormed || loaded.swapped.has(s.baseOffset),
      );
      this.reloadProducerState(rebuildTxns);
      for (const s of new Set([...loaded.recovered, ...rebuildTxns])) s.flush();
      this.producers.removeStraySnapshots(this.segmentBaseOffsets());
    } catch (err) {
      for (const s of this.segments) s.close();
      throw err;
    }
    this.checkpoint();
  }

  /**
   * Rebuilds the producer state: the latest snapshot at or below the log end, then the
   * headers of the batches after it (Kafka's truncateAndReload). The transaction indexes of
   * `rebuildTxns` (oldest first) are emptied and refilled on the way, the replay then starting
   * from a snapshot at or below the first of them (Kafka's recoverSegment).
   */
  private reloadProducerState(rebuildTxns: readonly LogSegment[] = []): void {
    const maxOffset = Math.min(rebuildTxns[0]?.baseOffset ?? Infinity, this._logEndOffset);
    const from =
      this.producers.loadLatestSnapshot(maxOffset, this._logEndOffset) ?? this.segments[0].baseOffset;
    for (const seg of rebuildTxns) seg.resetTxnIndex();
    for (const seg of this.segments) {
      if (seg.nextOffset <= from) continue;
      const index = rebuildTxns.includes(seg) ? seg : null;
      seg.visitBatches(from, (h) => {
        const txn = this.producers.applyBatch(h);
        if (txn !== null) this.completeTxn(txn, index);
      });
    }
    this.producers.onHighWatermarkUpdated(this._highWatermark);
  }

  /**
   * A marker closed `txn`: an aborted one is recorded in `index` (the segment holding the
   * marker) with the last stable offset it leaves, then the transaction waits for the high
   * watermark (Kafka's UnifiedLog.append of completed transactions).
   */
  private completeTxn(txn: CompletedTxn, index: LogSegment | null): void {
    if (txn.aborted && index !== null) {
      index.appendAbortedTxn({
        producerId: txn.producerId,
        firstOffset: txn.firstOffset,
        lastOffset: txn.lastOffset,
        lastStableOffset: this.producers.lastStableOffsetAfter(txn),
      });
    }
    this.producers.completeTxn(txn);
  }

  // ---- state ---------------------------------------------------------------------------

  get config(): TopicConfig {
    return this._config;
  }
  get logStartOffset(): number {
    return this._logStartOffset;
  }
  /** The next offset to assign. */
  get logEndOffset(): number {
    return this._logEndOffset;
  }
  get highWatermark(): number {
    return this._highWatermark;
  }
  /** Offsets below this are known to be on disk (fsynced). */
  get recoveryPoint(): number {
    return this._recoveryPoint;
  }
  /** Bytes in all segments. */
  get size(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }
  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  /** The latest leader epoch with an entry in the leader epoch cache, -1 when none. */
  get latestEpoch(): number {
    return this.epochs.latestEpoch;
  }

  /** The leader epoch cache's entries: the first offset of each epoch. */
  epochEntries(): readonly EpochEntry[] {
    return this.epochs.epochEntries();
  }

  /**
   * OffsetForLeaderEpoch: where `leaderEpoch` ended in this log (the log end for the latest
   * epoch, else the next epoch's first offset), with the largest epoch at or below it; -1, -1
   * when unknown.
   */
  endOffsetForEpoch(leaderEpoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(leaderEpoch, this._logEndOffset);
  }

  /** A new leader records that its epoch starts at the log end, before any append in it. */
  assignLeaderEpoch(leaderEpoch: number): void {
    this.ensureOnline();
    if (leaderEpoch > this.epochs.latestEpoch) this.epochs.assign(leaderEpoch, this._logEndOffset);
  }

  /** Applies changed topic configs; segments already rolled keep their size. */
  updateConfig(config: TopicConfig): void {
    this._config = config;
  }

  /** Sets the high watermark, kept within [logStartOffset, logEndOffset]; returns it. */
  setHighWatermark(offset: number): number {
    this._highWatermark = Math.min(Math.max(offset, this._logStartOffset), this._logEndOffset);
    this.producers.onHighWatermarkUpdated(this._highWatermark);
    return this._highWatermark;
  }

  /**
   * The last stable offset (KIP-98): read_committed consumers read below it. The first offset
   * of the earliest transaction still open (or whose marker is above the high watermark), at
   * least logStartOffset; the high watermark when there is none or it is lower.
   */
  get lastStableOffset(): number {
    const first = this.producers.firstUnstableOffset();
    if (first < 0) return this._highWatermark;
    return Math.min(Math.max(first, this._logStartOffset), this._highWatermark);
  }

  /** The first unstable offset (see lastStableOffset) without the high watermark; -1 when none. */
  get firstUnstableOffset(): number {
    const first = this.producers.firstUnstableOffset();
    return first < 0 ? -1 : Math.max(first, this._logStartOffset);
  }

  /** Throws KAFKA_STORAGE_ERROR when the log is closed or offline. */
  ensureOnline(): void {
    if (this.closed) {
      throw new KafkaProtocolError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.name} is closed`);
    }
    if (this.failure !== null) {
      throw new KafkaProtocolError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `log ${this.name} is offline after an I/O error: ${this.failure.message}`,
        { cause: this.failure },
      );
    }
  }

  /**
   * An I/O error (ENOSPC, EROFS, EIO, ...) that may have left the files and the offsets apart:
   * the log goes offline and its owner is told, as Kafka takes the whole log dir offline.
   */
  private goOffline(what: string, err: unknown): KafkaProtocolError {
    const first = this.failure === null;
    this.failure ??= err as Error;
    this.logger.error(`${this.name}: ${what} failed, log is offline: ${(err as Error).message}`);
    if (first) this.onIoError?.(err as Error);
    return new KafkaProtocolError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `${what} on ${this.name} failed: ${(err as Error).message}`,
      { cause: err },
    );
  }

  /**
   * Another log of the same dir failed: this one goes offline too and closes its files (what
   * is on disk stays as it is; the next open recovers it, as after a crash).
   */
  markOffline(cause: Error): void {
    if (this.failure !== null) return;
    this.failure = cause;
    for (const seg of this.segments) seg.close();
  }

  // ---- append --------------------------------------------------------------------------

  /**
   * Appends a producer's batches, assigning offsets from the log end. The caller has already
   * run validateProducedBatches (framing, magic, CRC); only the framing is re-checked here, as
   * it costs nothing and a bad length would tear the log. Hot path: no record is decoded.
   *
   * Offsets are assigned by rewriting each batch's baseOffset and partitionLeaderEpoch in the
   * caller's buffer, fields outside the CRC. With message.timestamp.type=LogAppendTime the
   * timestamp type bit and maxTimestamp are rewritten too, which are covered by the CRC, so
   * only then is it recomputed. All batches go to disk with one write.
   *
   * Throws MESSAGE_TOO_LARGE when a batch exceeds max.message.bytes and RECORD_LIST_TOO_LARGE
   * when the whole set exceeds segment.bytes, appending nothing. `verificationGuard` is for a
   * broker that verifies transactions (KIP-890): what maybeStartTransactionVerification gave
   * before the coordinator confirmed the transaction (see ProducerStateManager.checkAppend).
   */
  append(records: Buffer, leaderEpoch: number, verificationGuard?: number): AppendResult {
    this.ensureOnline();
    const config = this._config;
    const len = records.length;
    if (len === 0) throw KafkaProtocolError.corrupt('no record batch to append');
    if (len > config.segmentBytes) {
      throw new KafkaProtocolError(
        ErrorCode.RECORD_LIST_TOO_LARGE,
        `${len} bytes of batches for ${this.name} exceed segment.bytes ${config.segmentBytes}`,
      );
    }
    let at = 0;
    let offsetCount = 0;
    let recordCount = 0;
    let maxTimestamp = -1;
    let idempotent = false;
    while (at < len) {
      if (len - at < BATCH.HEADER_SIZE)
        throw KafkaProtocolError.corrupt(`partial batch header at byte ${at}`);
      const size = records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
      if (size < BATCH.HEADER_SIZE || at + size > len) {
        throw KafkaProtocolError.corrupt(`batch at byte ${at} claims ${size} bytes of ${len - at}`);
      }
      if (size > config.maxMessageBytes) {
        throw new KafkaProtocolError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `batch of ${size} bytes for ${this.name} exceeds max.message.bytes ${config.maxMessageBytes}`,
        );
      }
      offsetCount += records.readInt32BE(at + BATCH.LAST_OFFSET_DELTA) + 1;
      recordCount += records.readInt32BE(at + BATCH.RECORD_COUNT);
      maxTimestamp = Math.max(maxTimestamp, readInt64(records, at + BATCH.MAX_TIMESTAMP));
      // A producer id (int64) is >= 0 exactly when its high half is.
      if (records.readInt32BE(at + BATCH.PRODUCER_ID) >= 0) idempotent = true;
      at += size;
    }

    if (config.compactEnabled) this.validateKeys(records);
    const now = Date.now();
    const logAppendTime = config.messageTimestampType === 'LogAppendTime' ? now : -1;
    if (idempotent) {
      const duplicate = this.producers.checkAppend(records, verificationGuard);
      if (duplicate !== null) {
        return {
          baseOffset: duplicate.firstOffset,
          lastOffset: duplicate.lastOffset,
          logAppendTime: logAppendTime >= 0 ? duplicate.timestamp : -1,
          recordCount: 0,
          duplicate: true,
          txnMarkers: NO_MARKERS,
        };
      }
    }
    return this.assignOffsetsAndWrite(
      records,
      leaderEpoch,
      offsetCount,
      recordCount,
      maxTimestamp,
      now,
      idempotent,
    );
  }

  /**
   * The leader appends the COMMIT or ABORT marker of a producer's transaction (WriteTxnMarkers):
   * one control batch, refused with INVALID_PRODUCER_EPOCH for an epoch older than the
   * producer's here and TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch than its
   * last marker's. An abort of a transaction with records here goes into the active
   * segment's transaction index.
   */
  appendTxnMarker(marker: TxnMarkerBatch, leaderEpoch: number): AppendResult {
    this.ensureOnline();
    this.producers.checkMarker(marker);
    const records = encodeTxnMarkerBatch(marker);
    const h = new BatchHeader(records);
    return this.assignOffsetsAndWrite(records, leaderEpoch, 1, 1, h.maxTimestamp, Date.now(), true);
  }

  /** Assigns offsets from the log end by rewriting the batch headers, writes, and follows the producers. */
  private assignOffsetsAndWrite(
    records: Buffer,
    leaderEpoch: number,
    offsetCount: number,
    recordCount: number,
    maxTimestamp: number,
    now: number,
    withProducers: boolean,
  ): AppendResult {
    const len = records.length;
    const logAppendTime = this._config.messageTimestampType === 'LogAppendTime' ? now : -1;
    const baseOffset = this._logEndOffset;
    const lastOffset = baseOffset + offsetCount - 1;
    this.maybeRoll(len, baseOffset, lastOffset, logAppendTime >= 0 ? now : maxTimestamp, now);

    let offset = baseOffset;
    for (let at = 0; at < len;) {
      const h = new BatchHeader(records, at);
      h.setBaseOffset(offset);
      h.setPartitionLeaderEpoch(leaderEpoch);
      if (logAppendTime >= 0) {
        records.writeInt16BE(h.attributes | ATTRIBUTE.TIMESTAMP_TYPE_LOG_APPEND, at + BATCH.ATTRIBUTES);
        writeInt64(records, at + BATCH.MAX_TIMESTAMP, logAppendTime);
        records.writeUInt32BE(h.computeCrc(), at + BATCH.CRC);
      }
      offset += h.lastOffsetDelta + 1;
      at += h.sizeInBytes;
    }

    this.writeToActive(records);
    this._logEndOffset = lastOffset + 1;
    if (leaderEpoch > this.epochs.latestEpoch) this.learnEpoch(leaderEpoch, baseOffset);
    const txnMarkers = withProducers ? this.applyProducerBatches(records, len) : NO_MARKERS;
    if (this.highWatermarkFollowsLogEnd) this.setHighWatermark(this._logEndOffset);
    this.unflushedMessages += recordCount;
    this.maybeFlush(now);
    return { baseOffset, lastOffset, logAppendTime, recordCount, duplicate: false, txnMarkers };
  }

  /**
   * The producer state follows batches just written to the active segment: transactional
   * batches open transactions, markers close them (an abort goes into the active segment's
   * transaction index). Returns the markers. Header reads only, but for a marker's record.
   */
  private applyProducerBatches(data: Buffer, end: number): readonly AppendedTxnMarker[] {
    let markers: AppendedTxnMarker[] | null = null;
    try {
      for (let at = 0; at < end;) {
        const h = new BatchHeader(data, at);
        const txn = this.producers.applyBatch(h);
        if (txn !== null) this.completeTxn(txn, this.active);
        if (h.isControl && h.producerId >= 0) {
          const marker = readTxnMarker(h);
          if (marker !== null) {
            (markers ??= []).push({
              producerId: h.producerId,
              producerEpoch: h.producerEpoch,
              committed: marker.committed,
              offset: h.baseOffset,
            });
          }
        }
        at += h.sizeInBytes;
      }
    } catch (err) {
      if (err instanceof KafkaProtocolError) throw err;
      throw this.goOffline('transaction index', err);
    }
    return markers ?? NO_MARKERS;
  }

  /**
   * A compacted topic refuses records without a key, as Kafka does: compaction could not
   * place them. The only check that decodes records on the produce path, for compacted
   * topics only.
   */
  private validateKeys(records: Buffer): void {
    for (let at = 0; at < records.length;) {
      const h = new BatchHeader(records, at);
      if (!h.isControl) {
        const missing: { batchIndex: number; message: string }[] = [];
        decodeRecordBatch(records, at).records.forEach((r, i) => {
          if (r.key === null) {
            missing.push({
              batchIndex: i,
              message: `Compacted topic cannot accept message without key in topic partition ${this.name}.`,
            });
          }
        });
        if (missing.length > 0) throw new RecordValidationError(missing[0].message, missing);
      }
      at += h.sizeInBytes;
    }
  }

  /**
   * Appends batches that keep their offsets: a follower's replication, or a mirror topic
   * written with its source's offsets. Every complete batch is checked (magic, CRC-32C) and
   * its offsets must follow the log end (a gap is allowed, going back is not:
   * OFFSET_OUT_OF_RANGE). A partial batch at the end, as a fetch response may carry, is left
   * out. An empty log starts at the first batch's offset.
   */
  appendAsFollower(records: Buffer): AppendResult {
    this.ensureOnline();
    let end = 0;
    let next = this._logEndOffset;
    let firstOffset = -1;
    let recordCount = 0;
    let maxTimestamp = -1;
    let at = 0;
    while (records.length - at >= BATCH.HEADER_SIZE) {
      const h = new BatchHeader(records, at);
      const size = h.sizeInBytes;
      if (size < BATCH.HEADER_SIZE)
        throw KafkaProtocolError.corrupt(`batch length ${h.batchLength} at byte ${at}`);
      if (at + size > records.length) break;
      if (h.magic !== 2) {
        throw new KafkaProtocolError(
          ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
          `record batch magic ${h.magic}`,
        );
      }
      if (!h.isCrcValid()) {
        throw KafkaProtocolError.corrupt(`CRC-32C mismatch in the batch at offset ${h.baseOffset}`);
      }
      if (h.lastOffsetDelta < 0) throw KafkaProtocolError.corrupt(`last offset delta ${h.lastOffsetDelta}`);
      if (h.baseOffset < next) {
        throw new KafkaProtocolError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `batch at offset ${h.baseOffset} is below ${next}, the end of ${this.name}`,
        );
      }
      if (firstOffset < 0) firstOffset = h.baseOffset;
      next = h.lastOffset + 1;
      recordCount += h.recordCount;
      maxTimestamp = Math.max(maxTimestamp, h.maxTimestamp);
      at += size;
      end = at;
    }
    if (end === 0) {
      return {
        baseOffset: this._logEndOffset,
        lastOffset: this._logEndOffset - 1,
        logAppendTime: -1,
        recordCount: 0,
        duplicate: false,
        txnMarkers: NO_MARKERS,
      };
    }
    const data = end === records.length ? records : records.subarray(0, end);
    if (this.size === 0 && firstOffset > this._logEndOffset) this.truncateFullyAndStartAt(firstOffset);
    const now = Date.now();
    this.maybeRoll(end, firstOffset, next - 1, maxTimestamp, now);
    this.writeToActive(data);
    this._logEndOffset = next;
    for (let b = 0; b < end;) {
      const h = new BatchHeader(data, b);
      if (h.partitionLeaderEpoch > this.epochs.latestEpoch)
        this.learnEpoch(h.partitionLeaderEpoch, h.baseOffset);
      b += h.sizeInBytes;
    }
    const txnMarkers = this.applyProducerBatches(data, end);
    if (this.highWatermarkFollowsLogEnd) this.setHighWatermark(next);
    this.unflushedMessages += recordCount;
    this.maybeFlush(now);
    return {
      baseOffset: firstOffset,
      lastOffset: next - 1,
      logAppendTime: -1,
      recordCount,
      duplicate: false,
      txnMarkers,
    };
  }

  /** A new epoch seen in appended batches; its checkpoint failing means the disk is failing. */
  private learnEpoch(epoch: number, startOffset: number): void {
    try {
      this.epochs.assign(epoch, startOffset);
    } catch (err) {
      throw this.goOffline('leader epoch checkpoint', err);
    }
  }

  private writeToActive(records: Buffer): void {
    const active = this.active;
    const position = active.size;
    try {
      active.append(records, this._config);
    } catch (err) {
      // Cut what part of the batches reached the file (a full disk takes a write in part), so
      // that nothing half-written is ever read or survives a restart; the log then goes offline.
      try {
        active.truncateBytes(position);
      } catch (rollbackErr) {
        this.logger.error(
          `${this.name}: cutting a failed append back failed too (recovery will): ${(rollbackErr as Error).message}`,
        );
      }
      throw this.goOffline('append', err);
    }
  }

  /**
   * Rolls a new segment before an append when the active one would pass segment.bytes, is
   * older than segment.ms (or a compacted topic's max.compaction.lag.ms, as the cleaner
   * never touches the active segment; less its jitter, by record time as Kafka measures it),
   * has a full index, or could not hold the offsets relative to its base.
   */
  private maybeRoll(
    bytes: number,
    firstOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    now: number,
  ): void {
    const config = this._config;
    const seg = this.active;
    const roll =
      (seg.size > 0 &&
        (seg.size + bytes > config.segmentBytes ||
          seg.timeWaitedForRoll(now, maxTimestamp) > config.maxSegmentMs - seg.rollJitterMs ||
          seg.indexesFull(config))) ||
      firstOffset < seg.baseOffset ||
      lastOffset - seg.baseOffset > INT32_MAX;
    if (roll) this.roll(firstOffset);
  }

  /**
   * Starts a new active segment at `baseOffset`; the old one is fsynced in the background.
   * The producer state is snapshotted at the new base, so a restart replays at most the
   * active segment.
   */
  private roll(baseOffset: number): void {
    const old = this.active;
    try {
      if (old.size === 0) {
        this.segments.pop();
        old.delete();
      } else {
        old.onBecomeInactive();
        old.flushAsync((err) => {
          if (err === null) this.advanceRecoveryPoint();
          else if (!this.closed) this.goOffline(`fsync of segment ${old.baseOffset}`, err);
        });
      }
      this.segments.push(LogSegment.create(this.dir, baseOffset, this._config));
      this.producers.takeSnapshot(baseOffset, false);
    } catch (err) {
      throw this.goOffline('segment roll', err);
    }
  }

  /** Moves the recovery point past every inactive segment whose fsync has completed. */
  private advanceRecoveryPoint(): void {
    if (this.closed) return;
    for (let i = 0; i < this.segments.length - 1; i++) {
      const next = this.segments[i + 1].baseOffset;
      if (next <= this._recoveryPoint) continue;
      if (this.segments[i].dirty) return;
      this._recoveryPoint = next;
    }
  }

  // ---- read ----------------------------------------------------------------------------

  /**
   * Stored bytes of whole batches from the batch containing fetchOffset: at most maxBytes
   * (except a first batch returned whole with minOneBatch), only batches below maxOffset, from
   * one segment. Empty at the log end or the bound. OFFSET_OUT_OF_RANGE outside
   * [logStartOffset, logEndOffset]. Hot path: an index lookup, a header scan, one read.
   */
  read(fetchOffset: number, maxBytes: number, options: ReadOptions): ReadResult {
    this.ensureOnline();
    if (fetchOffset < this._logStartOffset || fetchOffset > this._logEndOffset) {
      throw new KafkaProtocolError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `offset ${fetchOffset} is outside ${this.name}'s range [${this._logStartOffset}, ${this._logEndOffset}]`,
      );
    }
    const limit = Math.min(options.maxOffset ?? this._logEndOffset, this._logEndOffset);
    let records = EMPTY;
    if (fetchOffset < limit) {
      try {
        for (let i = this.segmentFor(fetchOffset); i < this.segments.length; i++) {
          const seg = this.segments[i];
          const first = seg.findBatch(fetchOffset);
          if (first === null) continue;
          records = seg.read(first, Math.max(0, maxBytes), limit, options.minOneBatch);
          break;
        }
      } catch (err) {
        throw this.goOffline('read', err);
      }
    }
    return {
      records,
      logStartOffset: this._logStartOffset,
      highWatermark: this._highWatermark,
      logEndOffset: this._logEndOffset,
    };
  }

  /**
   * The aborted transactions a read_committed consumer needs with `records`, read from
   * fetchOffset: those overlapping them (Kafka's addAbortedTransactions). Without a transaction
   * index entry from fetchOffset's segment on, nothing more is looked at.
   */
  abortedTransactions(fetchOffset: number, records: Buffer): AbortedTxn[] {
    if (records.length === 0) return [];
    let any = false;
    for (let i = this.segmentFor(fetchOffset); i < this.segments.length && !any; i++)
      any = this.segments[i].abortedTxnCount > 0;
    if (!any) return [];
    let upperBound = fetchOffset;
    for (const h of batchHeaders(records)) upperBound = h.lastOffset + 1;
    return this.collectAbortedTransactions(fetchOffset, upperBound);
  }

  /**
   * The aborted transactions overlapping [startOffset, upperBound) (Kafka's
   * collectAbortedTransactions): the indexes of the segment holding startOffset and the next,
   * until an entry's last stable offset reaches upperBound (no later abort can then overlap).
   */
  collectAbortedTransactions(startOffset: number, upperBound: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = this.segmentFor(startOffset); i < this.segments.length; i++) {
      if (this.segments[i].collectAbortedTxns(startOffset, upperBound, out)) break;
    }
    return out;
  }

  /** Index of the last segment whose base offset is <= offset (0 when none is). */
  private segmentFor(offset: number): number {
    const segs = this.segments;
    if (segs[segs.length - 1].baseOffset <= offset) return segs.length - 1;
    let lo = 0;
    let hi = segs.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * ListOffsets by timestamp: the first record at or after logStartOffset whose timestamp is
   * >= ts, or null. The time and offset indexes find the first batch whose max timestamp
   * reaches ts; only that batch is decoded for the exact record. Earliest (-2) and latest (-1)
   * are the caller's, from logStartOffset and logEndOffset / highWatermark.
   */
  offsetForTimestamp(timestamp: number): TimestampOffset | null {
    this.ensureOnline();
    let minOffset = this._logStartOffset;
    for (const seg of this.segments) {
      if (seg.nextOffset <= minOffset) continue;
      for (;;) {
        const found = seg.findBatchByTimestamp(timestamp, minOffset);
        if (found === null) break;
        const { records } = decodeRecordBatch(seg.readBatch(found));
        const record = records.find((r) => r.offset >= minOffset && r.timestamp >= timestamp);
        if (record !== undefined) return { offset: record.offset, timestamp: record.timestamp };
        minOffset = found.lastOffset + 1;
      }
    }
    return null;
  }

  /**
   * ListOffsets MAX_TIMESTAMP (-3, KIP-734): the record with the largest timestamp from
   * logStartOffset on (the first such), or null for an empty log. Segments track their max
   * timestamp and its batch; only that batch is decoded.
   */
  offsetOfMaxTimestamp(): TimestampOffset | null {
    this.ensureOnline();
    let best: { seg: LogSegment; timestamp: number; offset: number } | null = null;
    for (const seg of this.segments) {
      if (seg.nextOffset <= this._logStartOffset) continue;
      const max =
        seg.offsetOfMaxTimestamp >= this._logStartOffset
          ? { timestamp: seg.maxTimestamp, offset: seg.offsetOfMaxTimestamp }
          : seg.maxTimestampFrom(this._logStartOffset);
      if (max.timestamp >= 0 && (best === null || max.timestamp > best.timestamp)) best = { seg, ...max };
    }
    if (best === null) return null;
    const location = best.seg.findBatch(best.offset);
    if (location === null) return null;
    let found: TimestampOffset | null = null;
    for (const r of decodeRecordBatch(best.seg.readBatch(location)).records) {
      if (r.offset >= this._logStartOffset && (found === null || r.timestamp > found.timestamp)) {
        found = { offset: r.offset, timestamp: r.timestamp };
      }
    }
    return found;
  }

  // ---- deletion and truncation ---------------------------------------------------------

  /**
   * DeleteRecords: moves logStartOffset up to `offset` (-1: the high watermark), persisted at
   * once, and deletes the segments wholly below it. OFFSET_OUT_OF_RANGE above the high
   * watermark. Returns the new logStartOffset (the low watermark).
   */
  deleteRecordsBefore(offset: number): number {
    this.ensureOnline();
    const target = offset === -1 ? this._highWatermark : offset;
    if (target < 0 || target > this._highWatermark) {
      throw new KafkaProtocolError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `cannot delete records of ${this.name} before ${offset}: the high watermark is ${this._highWatermark}`,
      );
    }
    if (target > this._logStartOffset) {
      this._logStartOffset = target;
      this.checkpoint();
      this.epochs.truncateFromStart(target);
      this.deleteLogStartOffsetBreachedSegments();
    }
    return this._logStartOffset;
  }

  /**
   * Retention: deletes the oldest segments (never the active one, never above the high
   * watermark) older than retention.ms by their newest timestamp, then those beyond
   * retention.bytes, when cleanup.policy includes delete; and in any case the segments wholly
   * below logStartOffset. Returns how many segments were deleted.
   */
  deleteOldSegments(now = Date.now()): number {
    this.ensureOnline();
    const config = this._config;
    let deleted = 0;
    if (config.deleteEnabled && config.retentionMs >= 0) {
      deleted += this.deleteOldest(
        (seg) => now - seg.largestTimestamp() > config.retentionMs,
        `older than retention.ms ${config.retentionMs}`,
      );
    }
    if (config.deleteEnabled && config.retentionBytes >= 0) {
      let excess = this.size - config.retentionBytes;
      deleted += this.deleteOldest((seg) => {
        if (excess - seg.size < 0) return false;
        excess -= seg.size;
        return true;
      }, `beyond retention.bytes ${config.retentionBytes}`);
    }
    deleted += this.deleteLogStartOffsetBreachedSegments();
    return deleted;
  }

  private deleteLogStartOffsetBreachedSegments(): number {
    // A log emptied up to its end: roll so that the active segment can go too.
    if (this._logStartOffset >= this._logEndOffset && this.active.size > 0) this.roll(this._logEndOffset);
    return this.deleteOldest(
      (_seg, next) => next <= this._logStartOffset,
      `below log start offset ${this._logStartOffset}`,
    );
  }

  /** Deletes segments from the oldest while `deletable` says so, stopping at the first it refuses. */
  private deleteOldest(
    deletable: (seg: LogSegment, nextBaseOffset: number) => boolean,
    reason: string,
  ): number {
    let n = 0;
    while (n < this.segments.length - 1) {
      const next = this.segments[n + 1].baseOffset;
      if (next > this._highWatermark || !deletable(this.segments[n], next)) break;
      n++;
    }
    if (n === 0) return 0;
    const gone = this.segments.splice(0, n);
    this._segmentsVersion++;
    try {
      for (const seg of gone) {
        seg.delete();
        this.producers.deleteSnapshot(seg.baseOffset);
      }
    } catch (err) {
      throw this.goOffline('segment deletion', err);
    }
    this.logger.log(
      `${this.name}: deleted ${n} segment(s) from ${gone[0].baseOffset} to ${this.segments[0].baseOffset}: ${reason}`,
    );
    if (this.segments[0].baseOffset > this._logStartOffset) {
      this._logStartOffset = this.segments[0].baseOffset;
      this.checkpoint();
      this.epochs.truncateFromStart(this._logStartOffset);
    }
    return n;
  }

  /**
   * For a follower that diverged from its leader: removes every batch whose last offset is
   * >= offset. The log end becomes the end of the last batch kept, which is `offset` when it
   * is a batch boundary (a batch straddling it is removed whole). Returns whether anything was
   * removed.
   */
  truncateTo(offset: number): boolean {
    this.ensureOnline();
    if (offset < 0) throw KafkaProtocolError.invalidRequest(`cannot truncate ${this.name} to ${offset}`);
    if (offset >= this._logEndOffset) {
      // An epoch this replica began as leader without appending may still start at the log
      // end; a follower that diverged there must forget it, as Kafka does.
      this.epochs.truncateFromEnd(offset);
      return false;
    }
    if (this.segments[0].baseOffset > offset) {
      this.truncateFullyAndStartAt(offset);
      return true;
    }
    const logEndBefore = this._logEndOffset;
    this._segmentsVersion++;
    try {
      while (this.active.baseOffset > offset) this.segments.pop()!.delete();
      this.active.truncateTo(offset);
      this._logEndOffset = this.active.nextOffset;
      this.reloadProducerState();
    } catch (err) {
      throw this.goOffline('truncation', err);
    }
    const end = this.active.nextOffset;
    this.logger.log(`${this.name}: truncated to ${offset}, log end ${logEndBefore} -> ${end}`);
    this.epochs.truncateFromEnd(end);
    this._highWatermark = Math.min(this._highWatermark, end);
    this._logStartOffset = Math.min(this._logStartOffset, end);
    this._recoveryPoint = Math.min(this._recoveryPoint, end);
    this._cleanerOffset = Math.min(this._cleanerOffset, end);
    this.checkpoint();
    return true;
  }

  /** Deletes every segment and starts the log empty at `offset` (Kafka's name). */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureOnline();
    this._segmentsVersion++;
    try {
      for (const seg of this.segments.splice(0)) seg.delete();
      this.segments.push(LogSegment.create(this.dir, offset, this._config));
      this.producers.clear();
      this.producers.deleteAllSnapshots();
    } catch (err) {
      throw this.goOffline('truncation', err);
    }
    this.logger.log(`${this.name}: emptied, starting at ${offset}`);
    this._logStartOffset = this._logEndOffset = this._highWatermark = this._recoveryPoint = offset;
    this._cleanerOffset = -1;
    this.epochs.clear();
    this.unflushedMessages = 0;
    this.checkpoint();
  }

  // ---- compaction (for LogCleaner) -----------------------------------------------------

  /** Whether the log can be worked on: open and not failed. */
  get isOnline(): boolean {
    return !this.closed && this.failure === null;
  }

  /** The segments, oldest first, the active one last. Read-only, for the log cleaner. */
  get segmentList(): readonly LogSegment[] {
    return this.segments;
  }

  /** Changes whenever segments are deleted, truncated or replaced (not when one is rolled). */
  get segmentsVersion(): number {
    return this._segmentsVersion;
  }

  /** Where the cleaner's next pass starts: below it the log is clean (compacted). */
  get cleanerOffset(): number {
    return Math.max(this._cleanerOffset, this._logStartOffset);
  }

  /** Records (and checkpoints) that the log below `offset` is clean. */
  setCleanerOffset(offset: number): void {
    this._cleanerOffset = offset;
    this.checkpoint();
  }

  /** A new segment for the cleaner to fill, in `<base>.log.cleaned` and its indexes. */
  createCleanedSegment(baseOffset: number): LogSegment {
    return LogSegment.create(this.dir, baseOffset, this._config, CLEANED_SUFFIX);
  }

  /**
   * Puts a cleaned segment in place of the contiguous segments `old` (whose offsets it
   * covers, keeping each kept batch's offsets), crash-safely as Kafka does: the cleaned files
   * are fsynced and renamed `.swap` (the log last: that rename commits), the old segments
   * renamed `.deleted`, the swap files given their final names, then the old files removed. A
   * crash before the commit leaves the old segments (recovery drops the `.cleaned` files);
   * after it, recovery completes the swap.
   */
  replaceSegments(cleaned: LogSegment, old: readonly LogSegment[]): void {
    this.ensureOnline();
    const first = this.segments.indexOf(old[0]);
    if (
      first < 0 ||
      old.some((seg, i) => this.segments[first + i] !== seg) ||
      first + old.length >= this.segments.length
    ) {
      throw new Error(`${this.name}: the segments to replace are not a run of inactive segments`);
    }
    try {
      cleaned.onBecomeInactive();
      cleaned.flush();
      cleaned.changeFileSuffix(SWAP_SUFFIX);
      fsyncDir(this.dir);
      for (const seg of old) seg.changeFileSuffix(DELETED_SUFFIX);
      cleaned.changeFileSuffix('');
      fsyncDir(this.dir);
      this.segments.splice(first, old.length, cleaned);
      this._segmentsVersion++;
      for (const seg of old) {
        seg.delete();
        if (seg.baseOffset !== cleaned.baseOffset) this.producers.deleteSnapshot(seg.baseOffset);
      }
    } catch (err) {
      throw this.goOffline('segment swap', err);
    }
  }

  // ---- producers -----------------------------------------------------------------------

  /** What this partition knows of an idempotent producer. */
  producerState(producerId: number): Readonly<ProducerEntry> | undefined {
    return this.producers.entry(producerId);
  }

  /** The open transactions, earliest first: [producerId, firstOffset]. */
  openTransactions(): [number, number][] {
    return this.producers.openTransactions();
  }

  /** Whether the producer's transaction is open on this partition in `epoch`. */
  hasOngoingTransaction(producerId: number, epoch: number): boolean {
    return this.producers.hasOngoingTransaction(producerId, epoch);
  }

  /**
   * KIP-890: the guard a transactional append must bring once the coordinator confirmed the
   * transaction (NO_VERIFICATION_GUARD when it is already open here). See append().
   */
  maybeStartTransactionVerification(producerId: number, epoch: number): number {
    return this.producers.maybeStartTransactionVerification(producerId, epoch, Date.now());
  }

  /** Every idempotent producer this partition knows, with its epoch and last batches. */
  activeProducers(): Readonly<ProducerEntry>[] {
    return [...this.producers.all()];
  }

  /** The last offset of each known producer's latest batch. */
  producerLastBatchOffsets(): Map<number, number> {
    return this.producers.lastBatchOffsets();
  }

  /** Forgets producers whose latest batch is older than producer.id.expiration.ms; returns how many. */
  removeExpiredProducers(now: number, expirationMs: number): number {
    if (this.closed || this.failure !== null) return 0;
    return this.producers.removeExpired(now, expirationMs);
  }

  // ---- durability ----------------------------------------------------------------------

  /** fsyncs every segment written since its last fsync; the recovery point becomes the log end. */
  flush(): void {
    this.ensureOnline();
    try {
      for (const seg of this.segments) if (seg.dirty) seg.flush();
    } catch (err) {
      throw this.goOffline('flush', err);
    }
    this._recoveryPoint = this._logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushTime = Date.now();
  }

  /** flush.messages after an append; flush.ms here too, and from LogManager's flusher. */
  private maybeFlush(now: number): void {
    const config = this._config;
    if (this.unflushedMessages >= config.flushMessages || now - this.lastFlushTime >= config.flushMs)
      this.flush();
  }

  /** flush.ms for a log that has not been appended to since: called periodically. */
  flushIfDue(now = Date.now()): void {
    if (this.closed || this.failure !== null) return;
    if (this.unflushedMessages > 0 && now - this.lastFlushTime >= this._config.flushMs) this.flush();
  }

  /**
   * Persists logStartOffset, highWatermark and the recovery point when they changed, with an
   * atomic replace. Called when logStartOffset moves, periodically, and on close.
   */
  checkpoint(): void {
    if (this.failure !== null) return;
    // A high watermark that follows the log end is not worth a write per change: -1.
    const hw = this.highWatermarkFollowsLogEnd ? -1 : this._highWatermark;
    const text =
      `0\nlog-start-offset ${this._logStartOffset}\nhigh-watermark ${hw}\n` +
      `recovery-point ${this._recoveryPoint}\ncleaner-offset ${this._cleanerOffset}\n`;
    if (text === this.lastCheckpoint) return;
    try {
      writeFileAtomicSync(path.join(this.dir, OFFSETS_CHECKPOINT_FILE), text);
    } catch (err) {
      throw this.goOffline('offsets checkpoint', err);
    }
    this.lastCheckpoint = text;
  }

  /**
   * Clean shutdown: flush, checkpoint, close the files and leave the clean-shutdown marker so
   * the next open skips recovery. A log that went offline is closed without the marker.
   */
  close(): void {
    if (this.closed) return;
    try {
      if (this.failure === null) {
        this.active.onBecomeInactive();
        this.flush();
        this.producers.takeSnapshot(this._logEndOffset, true);
        this.checkpoint();
        fs.writeFileSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE), '');
        fsyncDir(this.dir);
      }
    } finally {
      this.closed = true;
      for (const seg of this.segments) seg.close();
    }
  }

  /** Closes the files without flushing or the clean-shutdown marker: the log is being deleted. */
  closeForDeletion(): void {
    if (this.closed) return;
    this.closed = true;
    for (const seg of this.segments) seg.close();
  }
}
