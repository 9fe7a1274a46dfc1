import fs from 'node:fs';
import path from 'node:path';
import { BATCH, BatchHeader } from '@tributary/protocol';
import { IndexFile, readFully, writeFully } from './index-file';
import { takeReadBuffer } from './read-buffers';
import { readInt64, writeInt64 } from './int64';
import { TransactionIndex, TXN_INDEX_SUFFIX, type AbortedTxn } from './transaction-index';
import type { TopicConfig } from './topic-config';

/** Offset index entry: relative offset int32, file position int32. */
const OFFSET_ENTRY = 8;
/** Time index entry: timestamp int64, relative offset int32. */
const TIME_ENTRY = 12;
const INT32_MAX = 2147483647;
const EMPTY: Buffer = Buffer.alloc(0);

/** Header scans read this much at a time; one scratch buffer, as the log is single-threaded and scans never nest. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);
/** Recovery reads whole batches (for their CRC) this much at a time, more for a larger batch. */
const RECOVERY_CHUNK = 1024 * 1024;

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Kafka's suffixes for a segment the cleaner is writing, one committed to replace others, and one replaced. */
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const DELETED_SUFFIX = '.deleted';

/** Kafka's segment file name: the base offset zero-padded to 20 digits. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** The offset after the last whole batch of a log file (`baseOffset` when it has none). */
export function nextOffsetOfLogFile(file: string, baseOffset: number): number {
  const fd = fs.openSync(file, 'r');
  try {
    let next = baseOffset;
    scanHeaders(fd, 0, fs.fstatSync(fd).size, (h) => {
      next = h.lastOffset + 1;
      return true;
    });
    return next;
  } finally {
    fs.closeSync(fd);
  }
}

/** Where a batch is in a segment and the header fields the log needs from it. */
export interface BatchLocation {
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

function locate(h: BatchHeader, position: number): BatchLocation {
  return {
    position,
    size: h.sizeInBytes,
    baseOffset: h.baseOffset,
    lastOffset: h.lastOffset,
    maxTimestamp: h.maxTimestamp,
  };
}

/**
 * Visits the batch headers in [from, end) of a log file, reading chunks into a scratch buffer.
 * `visit` gets a header over the scratch buffer (valid only during the call; a control batch's
 * bytes are all there) and returns false to stop. Returns the position it stopped at: `end` when the framing adds up exactly.
 * Hot path for reads: header fields only, one read per chunk.
 */
function scanHeaders(
  fd: number,
  from: number,
  end: number,
  visit: (h: BatchHeader, position: number) => boolean,
): number {
  let chunkPos = from;
  let chunkLen = 0;
  let pos = from;
  while (end - pos >= BATCH.HEADER_SIZE) {
    if (pos + BATCH.HEADER_SIZE > chunkPos + chunkLen) {
      chunkPos = pos;
      chunkLen = readFully(fd, SCRATCH, 0, Math.min(SCRATCH.length, end - pos), pos);
      if (chunkLen < BATCH.HEADER_SIZE) return pos;
    }
    let h = new BatchHeader(SCRATCH, pos - chunkPos);
    const size = h.sizeInBytes;
    if (size < BATCH.HEADER_SIZE || pos + size > end) return pos;
    // A control batch (a transaction marker, a few dozen bytes) is visited whole: its record is read too.
    if (h.isControl && pos + size > chunkPos + chunkLen && size <= SCRATCH.length) {
      chunkPos = pos;
      chunkLen = readFully(fd, SCRATCH, 0, Math.min(SCRATCH.length, end - pos), pos);
      h = new BatchHeader(SCRATCH, 0);
    }
    if (!visit(h, pos)) return pos;
    pos += size;
  }
  return pos;
}

/**
 * One segment of a partition log: `<baseOffset>.log` holding record batches exactly as
 * appended, a sparse offset index `.index` (an entry per index.interval.bytes of log), a
 * time index `.timeindex` (an entry whenever the segment's max timestamp has grown by the next
 * offset index entry, and one when the segment becomes inactive) and, once a transaction is
 * aborted in it, the aborted transactions index `.txnindex`.
 *
 * Writes are synchronous (fs.writeSync on the segment's fd): they only reach the page cache,
 * which is fast, and being synchronous keeps appends ordered with no queue in between.
 * Durability is fsync's job (flush(), the flush.* policy, recovery after a crash).
 */
export class LogSegment {
  size: number;
  /** The offset after the last batch; the base offset when empty. */
  nextOffset: number;
  /** Largest batch max timestamp so far, -1 when none, and the base offset of its batch. */
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** Max timestamp of the first batch, Kafka's rollingBasedTimestamp for segment.ms. */
  firstBatchTimestamp = -1;
  /** Wall-clock creation (or load) time, for segment.ms when batches carry no timestamps. */
  created: number;
  /** Random part of segment.ms for this segment (segment.jitter.ms). */
  readonly rollJitterMs: number;
  /** Whether bytes were written since the last fsync. */
  dirty = false;
  /** Counts changes to the file, so a background fsync only clears what it covered. */
  private writes = 0;

  /**
   * False when the `.txnindex` found at open was torn or inconsistent: the partition rebuilds
   * it from the log, as it does for a recovered segment.
   */
  txnIndexWellFormed = true;

  private bytesSinceLastIndexEntry = 0;
  private pendingIo = 0;
  private closeRequested = false;
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly fd: number,
    private readonly offsetIndex: IndexFile,
    private readonly timeIndex: IndexFile,
    private readonly txnIndex: TransactionIndex,
    config: TopicConfig,
    /** After the usual suffixes: '' for a live segment, or CLEANED_SUFFIX, SWAP_SUFFIX, DELETED_SUFFIX. */
    private fileSuffix = '',
  ) {
    this.size = fs.fstatSync(fd).size;
    this.nextOffset = baseOffset;
    this.created = Date.now();
    const jitter = Math.min(config.segmentJitterMs, config.segmentMs);
    this.rollJitterMs = jitter > 0 ? Math.floor(Math.random() * jitter) : 0;
  }

  get logFile(): string {
    return this.file(LOG_SUFFIX);
  }

  private file(suffix: string): string {
    return path.join(this.dir, segmentFileName(this.baseOffset, suffix) + this.fileSuffix);
  }

  /**
   * Creates an empty segment, replacing stale files of the same name; with `fileSuffix`
   * (CLEANED_SUFFIX) a segment the cleaner writes beside the live one of the same base.
   */
  static create(dir: string, baseOffset: number, config: TopicConfig, fileSuffix = ''): LogSegment {
    const name = (s: string) => path.join(dir, segmentFileName(baseOffset, s) + fileSuffix);
    const fd = fs.openSync(name(LOG_SUFFIX), 'w+');
    return new LogSegment(
      dir,
      baseOffset,
      fd,
      IndexFile.open(name(INDEX_SUFFIX), OFFSET_ENTRY, true),
      IndexFile.open(name(TIME_INDEX_SUFFIX), TIME_ENTRY, true),
      TransactionIndex.create(name(TXN_INDEX_SUFFIX)),
      config,
      fileSuffix,
    );
  }

  /**
   * Renames the files to carry `fileSuffix` instead of the current one, the indexes first and
   * the log last: for a swap, the log's rename is the commit.
   */
  changeFileSuffix(fileSuffix: string): void {
    const target = (suffix: string) =>
      path.join(this.dir, segmentFileName(this.baseOffset, suffix) + fileSuffix);
    this.offsetIndex.renameTo(target(INDEX_SUFFIX));
    this.timeIndex.renameTo(target(TIME_INDEX_SUFFIX));
    this.txnIndex.renameTo(target(TXN_INDEX_SUFFIX));
    fs.renameSync(this.logFile, target(LOG_SUFFIX));
    this.fileSuffix = fileSuffix;
  }

  /**
   * Opens an existing segment. With `recover`, or when its indexes do not agree with its log,
   * every batch is validated (framing, magic, CRC-32C, increasing offsets), the file is cut
   * at the first bad one and the indexes are rebuilt; `truncated` says what was cut.
   */
  static open(
    dir: string,
    baseOffset: number,
    config: TopicConfig,
    recover: boolean,
    onRecoveredBatch?: (partitionLeaderEpoch: number, baseOffset: number) => void,
  ): { segment: LogSegment; truncated: { bytes: number; reason: string } | null; rebuilt: boolean } {
    const name = (s: string) => path.join(dir, segmentFileName(baseOffset, s));
    const fd = fs.openSync(name(LOG_SUFFIX), 'r+');
    let offsetIndex: IndexFile | undefined;
    let timeIndex: IndexFile | undefined;
    try {
      offsetIndex = IndexFile.open(name(INDEX_SUFFIX), OFFSET_ENTRY);
      timeIndex = IndexFile.open(name(TIME_INDEX_SUFFIX), TIME_ENTRY);
      const txn = TransactionIndex.open(name(TXN_INDEX_SUFFIX), baseOffset);
      const segment = new LogSegment(dir, baseOffset, fd, offsetIndex, timeIndex, txn.index, config);
      segment.txnIndexWellFormed = txn.wellFormed;
      if (!recover && segment.loadFromIndexes()) return { segment, truncated: null, rebuilt: false };
      return { segment, truncated: segment.recover(config, onRecoveredBatch), rebuilt: true };
    } catch (err) {
      offsetIndex?.close();
      timeIndex?.close();
      fs.closeSync(fd);
      throw err;
    }
  }

  // ---- indexes -------------------------------------------------------------------------

  private offsetEntryRel(i: number): number {
    return this.offsetIndex.view.readInt32BE(i * OFFSET_ENTRY);
  }
  private offsetEntryPos(i: number): number {
    return this.offsetIndex.view.readInt32BE(i * OFFSET_ENTRY + 4);
  }
  private timeEntryTs(i: number): number {
    return readInt64(this.timeIndex.view, i * TIME_ENTRY);
  }
  private timeEntryRel(i: number): number {
    return this.timeIndex.view.readInt32BE(i * TIME_ENTRY + 8);
  }

  /** Index of the last offset index entry with relative offset <= rel, or -1. */
  private floorOffsetEntry(rel: number): number {
    let lo = 0;
    let hi = this.offsetIndex.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsetEntryRel(mid) <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The position of the indexed batch nearest below `offset`: where a scan for it starts. */
  private lookupPosition(offset: number): number {
    const i = this.floorOffsetEntry(offset - this.baseOffset);
    return i < 0 ? 0 : this.offsetEntryPos(i);
  }

  private offsetIndexFull(config: TopicConfig): boolean {
    return this.offsetIndex.count >= Math.floor(config.segmentIndexBytes / OFFSET_ENTRY);
  }

  private timeIndexFull(config: TopicConfig): boolean {
    return this.timeIndex.count >= Math.floor(config.segmentIndexBytes / TIME_ENTRY);
  }

  /** Whether an index has no room left, which rolls the segment as in Kafka. */
  indexesFull(config: TopicConfig): boolean {
    return this.offsetIndexFull(config) || this.timeIndexFull(config);
  }

  private appendTimeEntry(timestamp: number, offset: number): void {
    const n = this.timeIndex.count;
    if (timestamp < 0 || (n > 0 && timestamp <= this.timeEntryTs(n - 1))) return;
    this.timeIndex.append((buf, at) => {
      writeInt64(buf, at, timestamp);
      buf.writeInt32BE(offset - this.baseOffset, at + 8);
    });
  }

  /** Accounts one batch appended at `position`: max timestamp, index entries, next offset. */
  private indexBatch(
    config: TopicConfig,
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    position: number,
    size: number,
  ): void {
    if (position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = baseOffset;
    }
    if (this.bytesSinceLastIndexEntry > config.indexIntervalBytes && !this.offsetIndexFull(config)) {
      this.offsetIndex.append((buf, at) => {
        buf.writeInt32BE(baseOffset - this.baseOffset, at);
        buf.writeInt32BE(position, at + 4);
      });
      if (!this.timeIndexFull(config)) this.appendTimeEntry(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }

  /**
   * Trusts the index files of a cleanly closed (or flushed) segment after checking that they
   * agree with the log, then reads the headers after the last indexed batch to find the next
   * offset. False when anything disagrees, so the caller rebuilds from the log.
   */
  private loadFromIndexes(): boolean {
    if (!this.offsetIndex.wellFormed || !this.timeIndex.wellFormed) return false;
    const n = this.offsetIndex.count;
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < n; i++) {
      const rel = this.offsetEntryRel(i);
      const pos = this.offsetEntryPos(i);
      if (rel <= prevRel || pos <= prevPos || pos >= this.size) return false;
      prevRel = rel;
      prevPos = pos;
    }
    let prevTs = -1;
    let prevTimeRel = -1;
    for (let i = 0; i < this.timeIndex.count; i++) {
      const ts = this.timeEntryTs(i);
      const rel = this.timeEntryRel(i);
      if (ts <= prevTs || rel < prevTimeRel) return false;
      prevTs = ts;
      prevTimeRel = rel;
    }
    const from = n > 0 ? this.offsetEntryPos(n - 1) : 0;
    if (!this.restoreTail(from, n > 0 ? this.baseOffset + this.offsetEntryRel(n - 1) : -1)) return false;
    if (prevTimeRel >= 0 && this.baseOffset + prevTimeRel >= this.nextOffset) return false;
    return true;
  }

  /**
   * Recomputes the next offset, max timestamp and bytes since the last index entry from the
   * batches at and after `from` (the last indexed batch, whose base offset must be
   * `expectedBase` when given), and the max timestamp the time index already covers.
   */
  private restoreTail(from: number, expectedBase: number): boolean {
    const t = this.timeIndex.count;
    this.maxTimestamp = t > 0 ? this.timeEntryTs(t - 1) : -1;
    this.offsetOfMaxTimestamp = t > 0 ? this.baseOffset + this.timeEntryRel(t - 1) : -1;
    this.nextOffset = this.baseOffset;
    let first = true;
    let consistent = true;
    const stop = scanHeaders(this.fd, from, this.size, (h, pos) => {
      if (first && expectedBase >= 0 && h.baseOffset !== expectedBase) {
        consistent = false;
        return false;
      }
      first = false;
      if (h.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = h.maxTimestamp;
        this.offsetOfMaxTimestamp = h.baseOffset;
      }
      if (pos === 0) this.firstBatchTimestamp = h.maxTimestamp;
      this.nextOffset = h.lastOffset + 1;
      return true;
    });
    if (!consistent || stop !== this.size) return false;
    this.bytesSinceLastIndexEntry = this.size - from;
    if (from > 0) {
      scanHeaders(this.fd, 0, this.size, (h) => {
        this.firstBatchTimestamp = h.maxTimestamp;
        return false;
      });
    } else if (this.size === 0) this.firstBatchTimestamp = -1;
    return true;
  }

  /**
   * Validates every batch from the start (framing, magic 2, CRC-32C, offsets that increase
   * and fit the relative offset range), truncates the file at the first bad byte and rebuilds
   * both indexes. `onBatch` sees each good batch (the leader epoch cache learns from it).
   * Returns what was cut, or null when the whole file was good.
   */
  recover(
    config: TopicConfig,
    onBatch?: (partitionLeaderEpoch: number, baseOffset: number) => void,
  ): { bytes: number; reason: string } | null {
    this.offsetIndex.beginBulk();
    this.timeIndex.beginBulk();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.firstBatchTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const end = this.size;
    let buf = Buffer.allocUnsafe(Math.min(RECOVERY_CHUNK, Math.max(end, BATCH.HEADER_SIZE)));
    let chunkPos = 0;
    let chunkLen = 0;
    let pos = 0;
    let reason: string | null = null;
    while (pos < end) {
      if (end - pos < BATCH.HEADER_SIZE) {
        reason = `${end - pos} trailing bytes at position ${pos} are too few for a batch header`;
        break;
      }
      if (pos + BATCH.HEADER_SIZE > chunkPos + chunkLen) {
        chunkPos = pos;
        chunkLen = readFully(this.fd, buf, 0, Math.min(buf.length, end - pos), pos);
      }
      const size = buf.readInt32BE(pos - chunkPos + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
      if (size < BATCH.HEADER_SIZE) {
        reason = `batch length ${size - BATCH.LOG_OVERHEAD} at position ${pos} is shorter than a header`;
        break;
      }
      if (pos + size > end) {
        reason = `partial batch at position ${pos}: ${size} bytes long, ${end - pos} written`;
        break;
      }
      if (pos + size > chunkPos + chunkLen) {
        if (size > buf.length) buf = Buffer.allocUnsafe(size);
        chunkPos = pos;
        chunkLen = readFully(this.fd, buf, 0, Math.min(buf.length, end - pos), pos);
      }
      const h = new BatchHeader(buf, pos - chunkPos);
      if (h.magic !== 2) {
        reason = `batch at position ${pos} has magic ${h.magic}`;
        break;
      }
      if (!h.isCrcValid()) {
        reason = `batch at position ${pos} fails its CRC-32C (stored ${h.crc}, computed ${h.computeCrc()})`;
        break;
      }
      const baseOffset = h.baseOffset;
      const lastOffset = h.lastOffset;
      if (h.lastOffsetDelta < 0 || baseOffset < this.nextOffset || lastOffset - this.baseOffset > INT32_MAX) {
        reason = `batch at position ${pos} has offsets ${baseOffset}..${lastOffset} after next offset ${this.nextOffset}`;
        break;
      }
      this.indexBatch(config, baseOffset, lastOffset, h.maxTimestamp, pos, size);
      onBatch?.(h.partitionLeaderEpoch, baseOffset);
      pos += size;
    }
    if (pos < end) {
      fs.ftruncateSync(this.fd, pos);
      this.size = pos;
      this.markDirty();
    }
    this.offsetIndex.endBulk();
    this.timeIndex.endBulk();
    return reason === null ? null : { bytes: end - pos, reason };
  }

  // ---- append and read -----------------------------------------------------------------

  /**
   * Appends whole batches (offsets already assigned) with a single write, then indexes them.
   * Hot path: one writeSync, header reads only. Throws the write's error; the caller rolls
   * back with truncateBytes().
   */
  append(records: Buffer, config: TopicConfig): void {
    const position = this.size;
    writeFully(this.fd, records, 0, records.length, position);
    this.size += records.length;
    this.markDirty();
    let at = 0;
    while (at < records.length) {
      const size = records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
      const baseOffset = readInt64(records, at + BATCH.BASE_OFFSET);
      this.indexBatch(
        config,
        baseOffset,
        baseOffset + records.readInt32BE(at + BATCH.LAST_OFFSET_DELTA),
        readInt64(records, at + BATCH.MAX_TIMESTAMP),
        position + at,
        size,
      );
      at += size;
    }
  }

  /** Cuts the log file back to `position` after a failed write; indexes are untouched. */
  truncateBytes(position: number): void {
    fs.ftruncateSync(this.fd, position);
    this.size = position;
  }

  /**
   * The first batch whose last offset is >= offset: offset index lookup, then a header scan
   * of at most about index.interval.bytes. Null when every batch here is below it. Hot path.
   */
  findBatch(offset: number): BatchLocation | null {
    if (offset >= this.nextOffset) return null;
    let found: BatchLocation | null = null;
    const from = offset <= this.baseOffset ? 0 : this.lookupPosition(offset);
    scanHeaders(this.fd, from, this.size, (h, pos) => {
      if (h.lastOffset < offset) return true;
      found = locate(h, pos);
      return false;
    });
    return found;
  }

  /**
   * Stored bytes of whole batches from `first`: at most maxBytes, only batches whose last
   * offset is below limitOffset, except that with minOneBatch the first batch is returned
   * whole even when larger than maxBytes (KIP-74). Hot path: one readSync into one Buffer,
   * then header reads to cut at a batch boundary.
   */
  read(first: BatchLocation, maxBytes: number, limitOffset: number, minOneBatch: boolean): Buffer {
    if (first.lastOffset >= limitOffset) return EMPTY;
    if (first.size > maxBytes) {
      if (!minOneBatch) return EMPTY;
      const one = Buffer.allocUnsafe(first.size);
      readFully(this.fd, one, 0, first.size, first.position);
      return one;
    }
    const len = Math.min(maxBytes, this.size - first.position);
    const buf = takeReadBuffer(len);
    const got = readFully(this.fd, buf, 0, len, first.position);
    let at = 0;
    while (got - at >= BATCH.HEADER_SIZE) {
      const size = buf.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
      if (at + size > got) break;
      const last = readInt64(buf, at + BATCH.BASE_OFFSET) + buf.readInt32BE(at + BATCH.LAST_OFFSET_DELTA);
      if (last >= limitOffset) break;
      at += size;
    }
    return at === len ? buf : buf.subarray(0, at);
  }

  /**
   * The first batch at or after `minOffset` whose max timestamp is >= timestamp: the time
   * index gives the last entry at or below the timestamp (every batch before its offset is
   * older), the offset index a position at or before that batch, then a header scan.
   */
  findBatchByTimestamp(timestamp: number, minOffset: number): BatchLocation | null {
    if (this.maxTimestamp < timestamp) return null;
    let lo = 0;
    let hi = this.timeIndex.count - 1;
    let entry = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeEntryTs(mid) <= timestamp) {
        entry = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const fromOffset = Math.max(
      minOffset,
      entry < 0 ? this.baseOffset : this.baseOffset + this.timeEntryRel(entry),
    );
    const from = fromOffset <= this.baseOffset ? 0 : this.lookupPosition(fromOffset);
    let found: BatchLocation | null = null;
    scanHeaders(this.fd, from, this.size, (h, pos) => {
      if (h.lastOffset < minOffset || h.maxTimestamp < timestamp) return true;
      found = locate(h, pos);
      return false;
    });
    return found;
  }

  /**
   * The largest batch max timestamp among batches ending at or after minOffset, and the base
   * offset of the first batch that has it; a header scan, for a segment cut by logStartOffset.
   */
  maxTimestampFrom(minOffset: number): { timestamp: number; offset: number } {
    let timestamp = -1;
    let offset = -1;
    const from = minOffset <= this.baseOffset ? 0 : this.lookupPosition(minOffset);
    scanHeaders(this.fd, from, this.size, (h) => {
      if (h.lastOffset >= minOffset && h.maxTimestamp > timestamp) {
        timestamp = h.maxTimestamp;
        offset = h.baseOffset;
      }
      return true;
    });
    return { timestamp, offset };
  }

  /**
   * Visits the header of every batch whose last offset is >= fromOffset, in order; the header
   * is valid only during the call. For rebuilding state from the log (producer state).
   */
  visitBatches(fromOffset: number, visit: (h: BatchHeader) => void): void {
    const from = fromOffset <= this.baseOffset ? 0 : this.lookupPosition(fromOffset);
    scanHeaders(this.fd, from, this.size, (h) => {
      if (h.lastOffset >= fromOffset) visit(h);
      return true;
    });
  }

  /** Reads one batch's bytes. */
  readBatch(location: BatchLocation): Buffer {
    const buf = Buffer.allocUnsafe(location.size);
    readFully(this.fd, buf, 0, location.size, location.position);
    return buf;
  }

  /**
   * Removes every batch whose last offset is >= offset, from the log and both indexes.
   * Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    const first = this.findBatch(offset);
    if (first === null) return 0;
    const removed = this.size - first.position;
    fs.ftruncateSync(this.fd, first.position);
    this.size = first.position;
    this.markDirty();
    let keep = this.offsetIndex.count;
    while (keep > 0 && this.offsetEntryPos(keep - 1) >= first.position) keep--;
    this.offsetIndex.truncateTo(keep);
    let keepTime = this.timeIndex.count;
    while (keepTime > 0 && this.baseOffset + this.timeEntryRel(keepTime - 1) >= first.baseOffset) keepTime--;
    this.timeIndex.truncateTo(keepTime);
    this.txnIndex.truncateTo(first.baseOffset);
    const from = keep > 0 ? this.offsetEntryPos(keep - 1) : 0;
    this.restoreTail(from, keep > 0 ? this.baseOffset + this.offsetEntryRel(keep - 1) : -1);
    if (this.size === 0) this.created = Date.now();
    return removed;
  }

  // ---- aborted transactions ------------------------------------------------------------

  /** How many aborted transactions end in this segment. */
  get abortedTxnCount(): number {
    return this.txnIndex.count;
  }

  /** Records a transaction aborted by a marker in this segment. */
  appendAbortedTxn(txn: AbortedTxn): void {
    this.txnIndex.append(txn);
  }

  /** The aborted transactions ending in this segment, in marker order. */
  abortedTxns(): AbortedTxn[] {
    return this.txnIndex.all();
  }

  /** See TransactionIndex.collect. */
  collectAbortedTxns(fetchOffset: number, upperBound: number, out: AbortedTxn[]): boolean {
    return this.txnIndex.collect(fetchOffset, upperBound, out);
  }

  /** Empties the aborted transactions index before it is rebuilt from the log. */
  resetTxnIndex(): void {
    this.txnIndex.reset();
    this.txnIndexWellFormed = true;
  }

  /** Kafka's segment.ms clock: record time since the first batch, else wall-clock age. */
  timeWaitedForRoll(now: number, incomingMaxTimestamp: number): number {
    return this.firstBatchTimestamp >= 0
      ? incomingMaxTimestamp - this.firstBatchTimestamp
      : now - this.created;
  }

  /** Retention's notion of age: the newest record timestamp, else the file's modification time. */
  largestTimestamp(): number {
    return this.maxTimestamp >= 0 ? this.maxTimestamp : fs.fstatSync(this.fd).mtimeMs;
  }

  /** Called on roll and close: a last time index entry so the segment's max timestamp survives. */
  onBecomeInactive(): void {
    this.appendTimeEntry(this.maxTimestamp, this.offsetOfMaxTimestamp);
  }

  private markDirty(): void {
    this.dirty = true;
    this.writes++;
  }

  /** fsync of the log and its indexes. */
  flush(): void {
    fs.fdatasyncSync(this.fd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
    this.txnIndex.flush();
    this.dirty = false;
  }

  /**
   * fsync in the background (libuv's pool), for a segment just rolled, so the append path
   * does not wait for a whole segment to reach the disk. The fd stays open until it is done.
   */
  flushAsync(done: (err: Error | null) => void): void {
    this.pendingIo++;
    const writes = this.writes;
    fs.fdatasync(this.fd, (err) => {
      let failure: Error | null = err;
      if (failure === null && !this.closed) {
        try {
          this.offsetIndex.flush();
          this.timeIndex.flush();
          this.txnIndex.flush();
          // Written again meanwhile (truncation made it active again): still dirty.
          if (this.writes === writes) this.dirty = false;
        } catch (e) {
          failure = e as Error;
        }
      }
      this.pendingIo--;
      if (this.closeRequested && this.pendingIo === 0) this.closeFiles();
      done(failure);
    });
  }

  close(): void {
    if (this.closeRequested) return;
    this.closeRequested = true;
    if (this.pendingIo === 0) this.closeFiles();
  }

  private closeFiles(): void {
    if (this.closed) return;
    this.closed = true;
    this.offsetIndex.close();
    this.timeIndex.close();
    this.txnIndex.close();
    fs.closeSync(this.fd);
  }

  /** Closes and removes the segment's files. */
  delete(): void {
    this.close();
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
      fs.rmSync(this.file(suffix), { force: true });
    }
  }
}
