import {
  BATCH,
  BatchHeader,
  batchHeaders,
  CompressionType,
  decodeRecordBatch,
  encodeRecordBatch,
  type KafkaRecord,
} from '@tributary/protocol';
import type { StorageLogger } from './logger';
import type { LogSegment } from './log-segment';
import type { PartitionLog } from './partition-log';
import type { AbortedTxn } from './transaction-index';

/** What one map entry costs besides its key bytes, to hold the map to log.cleaner.dedupe.buffer.size (an estimate for V8). */
const MAP_ENTRY_OVERHEAD = 80;
const INT32_MAX = 2147483647;

export interface LogCleanerOptions {
  /** The logs to consider, read at every choice. */
  readonly logs: () => Iterable<PartitionLog>;
  readonly logger: StorageLogger;
  /** log.cleaner.dedupe.buffer.size: memory for one cleaning's key map (default 128 MiB). */
  readonly dedupeBufferSize?: number;
  /** log.cleaner.io.buffer.size: bytes of log read per step (default 512 KiB). */
  readonly ioBufferSize?: number;
}

/** What one cleaning of one log did. */
export interface CleanerStats {
  readonly log: string;
  /** The key map covered [firstDirtyOffset, endOffset); every segment below endOffset was rewritten. */
  readonly firstDirtyOffset: number;
  readonly endOffset: number;
  readonly segmentsBefore: number;
  readonly segmentsAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly recordsRemoved: number;
  readonly tombstonesRemoved: number;
  /** Records removed because their transaction was aborted (counted in recordsRemoved too). */
  readonly abortedRecordsRemoved: number;
}

/** One cleaning in progress, carried from step to step. */
interface CleanJob {
  readonly log: PartitionLog;
  /** The log's segmentsVersion the work so far relies on; any other change aborts the job. */
  version: number;
  /** The time of the cleaning: delete horizons are stamped from it and compared with it. */
  readonly now: number;
  readonly firstDirty: number;
  /** The map stops here: the active segment, the high watermark, an open transaction, or min.compaction.lag.ms. */
  readonly uncleanableOffset: number;
  /** The aborted transactions below uncleanableOffset, by producer: their records go. */
  readonly aborted: Map<number, AbortedTxn[]>;
  readonly map: Map<string, number>;
  mapBytes: number;
  mapNext: number;
  /** Set when the map is complete: records at and after it are kept whatever their key. */
  mapEnd: number;
  /** The inactive segments below mapEnd, rewritten in groups: [groupStart, source] is the current one. */
  sources: LogSegment[] | null;
  groupStart: number;
  source: number;
  readNext: number;
  cleaned: LogSegment | null;
  /** Header of the last batch read from the current group: an empty copy may have to stay. */
  lastHeader: Buffer | null;
  producerLastBatches: Map<number, number>;
  earliestHorizon: number;
  segmentsBefore: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  abortedRecordsRemoved: number;
}

/** The choice of what to clean next, from segment sizes only. */
interface Candidate {
  readonly log: PartitionLog;
  readonly priority: number;
  readonly firstDirty: number;
  readonly uncleanableOffset: number;
}

/**
 * Kafka's log cleaner for topics with cleanup.policy compact (or compact,delete). A log is
 * cleaned when the share of its bytes written since the last cleaning (the dirty ratio)
 * exceeds min.cleanable.dirty.ratio, when its oldest dirty record is older than
 * max.compaction.lag.ms, or when tombstones it keeps have passed their delete horizon.
 *
 * A cleaning maps each key of the dirty section (below the active segment, the high
 * watermark and records younger than min.compaction.lag.ms) to its newest offset, then
 * rewrites every inactive segment below the map's end, in groups that fit segment.bytes,
 * keeping a record only when it is the newest of its key (or past the map). Kept records keep
 * their offsets: a batch with records removed is re-encoded with its original base offset,
 * last offset delta, timestamps and producer fields, so consumers see gaps, never moved
 * offsets. Tombstones (null values) are stamped with a delete horizon (now +
 * delete.retention.ms, KIP-534) the first time they are cleaned and dropped by the first
 * cleaning after it. A producer's latest batch stays as an empty batch when all its records
 * go, so its sequence survives (Kafka's RETAIN_EMPTY). Each group is swapped in atomically
 * by PartitionLog.replaceSegments.
 *
 * Transactions: nothing at or after the first unstable offset is cleaned (an open transaction
 * may still abort). Records of aborted transactions (from the transaction indexes) neither
 * enter the key map, where they would hide the committed value of their key, nor stay: their
 * batches go (or stay empty as a producer's last batch). Transaction markers and the index
 * entries of the cleaned segments stay, so what the index says stays true of the log (Kafka
 * also drops markers once nothing of their transaction is left and the delete horizon passed).
 *
 * The event loop is shared with every request, so the work is cut in steps: each step()
 * reads at most log.cleaner.io.buffer.size bytes of log (one chunk of the key map or of a
 * group's rewrite) and returns; the caller runs the next step on a later turn of the loop.
 * A job survives between steps only while its log's segments stay as they were: retention,
 * truncation, deletion or a config change without compact abort it, and it starts over.
 */
export class LogCleaner {
  private job: CleanJob | null = null;
  private readonly uncleanable = new WeakSet<PartitionLog>();
  /** Earliest delete horizon among the tombstones each log keeps (known since this process cleaned it). */
  private readonly horizons = new WeakMap<PartitionLog, number>();
  private dedupeBufferSize: number;
  private ioBufferSize: number;

  constructor(private readonly options: LogCleanerOptions) {
    this.dedupeBufferSize = options.dedupeBufferSize ?? 128 * 1024 * 1024;
    this.ioBufferSize = options.ioBufferSize ?? 512 * 1024;
  }

  /** New buffer sizes (dynamic broker configs); a cleaning under way goes on with them. */
  resize(dedupeBufferSize: number, ioBufferSize: number): void {
    this.dedupeBufferSize = dedupeBufferSize;
    this.ioBufferSize = ioBufferSize;
  }

  /** Whether a cleaning is under way. */
  get busy(): boolean {
    return this.job !== null;
  }

  /**
   * One bounded step: starts a cleaning of the dirtiest log if none is under way, or goes on
   * with the current one. `more` says whether to call again soon (else: nothing to clean).
   * Never throws: a log that fails to clean is logged and left alone until a restart.
   */
  step(now = Date.now()): { more: boolean; cleaned?: CleanerStats } {
    let job = this.job;
    if (job !== null && !this.stillValid(job)) {
      this.abort();
      job = null;
    }
    let log: PartitionLog | null = job?.log ?? null;
    try {
      if (job === null) {
        const candidate = this.choose(now);
        if (candidate === null) return { more: false };
        log = candidate.log;
        job = this.job = this.start(candidate, now);
      }
      if (job.mapEnd < 0) this.mapStep(job);
      else return this.cleanStep(job);
    } catch (err) {
      const name = log?.name ?? 'choosing a log';
      this.options.logger.error(
        `${name}: log cleaning failed; the log is left uncleaned until restart: ${(err as Error).stack ?? err}`,
      );
      if (log === null) return { more: false };
      this.uncleanable.add(log);
      this.abort();
    }
    return { more: true };
  }

  /** Runs steps until no log needs cleaning; returns what was cleaned. For tests and tools. */
  cleanUntilIdle(now = Date.now()): CleanerStats[] {
    const done: CleanerStats[] = [];
    for (;;) {
      const r = this.step(now);
      if (r.cleaned !== undefined) done.push(r.cleaned);
      if (!r.more) return done;
    }
  }

  /** Drops the cleaning under way, removing its unfinished `.cleaned` segment. */
  abort(): void {
    const job = this.job;
    this.job = null;
    if (job?.cleaned) {
      try {
        job.cleaned.delete();
      } catch (err) {
        this.options.logger.warn(`${job.log.name}: could not remove an unfinished cleaned segment: ${err}`);
      }
    }
  }

  private stillValid(job: CleanJob): boolean {
    return job.log.isOnline && job.log.config.compactEnabled && job.log.segmentsVersion === job.version;
  }

  // ---- choosing ------------------------------------------------------------------------

  private choose(now: number): Candidate | null {
    let best: Candidate | null = null;
    for (const log of this.options.logs()) {
      if (!log.isOnline || !log.config.compactEnabled || this.uncleanable.has(log)) continue;
      const c = this.cleanability(log, now);
      if (c !== null && (best === null || c.priority > best.priority)) best = c;
    }
    return best;
  }

  /** Kafka's LogToClean: dirty ratio, max.compaction.lag.ms, and (ours) tombstones due. */
  private cleanability(log: PartitionLog, now: number): Candidate | null {
    const config = log.config;
    const segments = log.segmentList;
    const inactive = segments.slice(0, -1);
    const firstDirty = log.cleanerOffset;
    let uncleanableOffset = Math.min(segments[segments.length - 1].baseOffset, log.highWatermark);
    const firstUnstable = log.firstUnstableOffset;
    if (firstUnstable >= 0) uncleanableOffset = Math.min(uncleanableOffset, firstUnstable);
    if (config.minCompactionLagMs > 0) {
      const young = inactive.find(
        (s) => s.nextOffset > firstDirty && s.largestTimestamp() > now - config.minCompactionLagMs,
      );
      if (young !== undefined) uncleanableOffset = Math.min(uncleanableOffset, young.baseOffset);
    }
    uncleanableOffset = Math.max(uncleanableOffset, firstDirty);
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let mustClean = false;
    for (const s of inactive) {
      if (s.nextOffset <= firstDirty) cleanBytes += s.size;
      else if (s.baseOffset < uncleanableOffset && firstDirty < uncleanableOffset) {
        if (dirtyBytes === 0 && s.firstBatchTimestamp >= 0) {
          mustClean = now - s.firstBatchTimestamp > config.maxCompactionLagMs;
        }
        dirtyBytes += s.size;
      }
    }
    const ratio = dirtyBytes === 0 ? 0 : dirtyBytes / (cleanBytes + dirtyBytes);
    const horizon = this.horizons.get(log);
    const tombstonesDue = horizon !== undefined && horizon <= now && inactive.length > 0;
    let priority: number;
    if (dirtyBytes > 0 && mustClean) priority = 2 + ratio;
    else if (dirtyBytes > 0 && ratio > config.minCleanableDirtyRatio) priority = 1 + ratio;
    else if (tombstonesDue) priority = 0;
    else return null;
    return { log, priority, firstDirty, uncleanableOffset };
  }

  private start(c: Candidate, now: number): CleanJob {
    const aborted = new Map<number, AbortedTxn[]>();
    for (const t of c.log.collectAbortedTransactions(c.log.logStartOffset, c.uncleanableOffset)) {
      const list = aborted.get(t.producerId);
      if (list === undefined) aborted.set(t.producerId, [t]);
      else list.push(t);
    }
    return {
      log: c.log,
      version: c.log.segmentsVersion,
      now,
      firstDirty: c.firstDirty,
      uncleanableOffset: c.uncleanableOffset,
      aborted,
      map: new Map(),
      mapBytes: 0,
      mapNext: c.firstDirty,
      mapEnd: -1,
      sources: null,
      groupStart: 0,
      source: 0,
      readNext: 0,
      cleaned: null,
      lastHeader: null,
      producerLastBatches: new Map(),
      earliestHorizon: Infinity,
      segmentsBefore: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      abortedRecordsRemoved: 0,
    };
  }

  // ---- the key map ---------------------------------------------------------------------

  /**
   * Maps keys to their newest offset over up to ioBufferSize bytes of the dirty section.
   * When the map reaches log.cleaner.dedupe.buffer.size it ends before the next batch; the
   * next cleaning goes on from there.
   */
  private mapStep(job: CleanJob): void {
    let budget = this.ioBufferSize;
    while (budget > 0) {
      const seg = segmentHolding(job.log, job.mapNext);
      if (seg === null || job.mapNext >= job.uncleanableOffset) {
        job.mapEnd = job.uncleanableOffset;
        return;
      }
      const first = seg.findBatch(job.mapNext);
      const chunk = first === null ? null : seg.read(first, budget, job.uncleanableOffset, true);
      if (chunk === null || chunk.length === 0) {
        job.mapNext = first === null ? seg.nextOffset : job.uncleanableOffset;
        continue;
      }
      budget -= chunk.length;
      for (const h of batchHeaders(chunk)) {
        if (job.mapBytes >= this.dedupeBufferSize) {
          job.mapEnd = h.baseOffset;
          return;
        }
        if (!h.isControl && !isAborted(job, h)) {
          for (const r of decodeRecordBatch(chunk, h.at).records) {
            if (r.key === null || r.offset < job.firstDirty) continue;
            const key = r.key.toString('latin1');
            if (!job.map.has(key)) job.mapBytes += key.length + MAP_ENTRY_OVERHEAD;
            job.map.set(key, r.offset);
          }
        }
        job.mapNext = h.lastOffset + 1;
      }
    }
  }

  // ---- rewriting -----------------------------------------------------------------------

  /**
   * Rewrites up to ioBufferSize bytes into the current group's cleaned segment. A group is
   * Kafka's groupSegmentsBySize, decided as it goes: after each source segment the next one
   * joins while the cleaned output plus its size fits segment.bytes (and its offsets fit the
   * segment's relative range); otherwise the group is swapped in.
   */
  private cleanStep(job: CleanJob): { more: boolean; cleaned?: CleanerStats } {
    const log = job.log;
    if (job.sources === null) {
      job.sources = log.segmentList.slice(0, -1).filter((s) => s.baseOffset < job.mapEnd);
      job.segmentsBefore = log.segmentList.length;
      job.producerLastBatches = log.producerLastBatchOffsets();
      job.readNext = job.sources[0]?.baseOffset ?? 0;
    }
    const sources = job.sources;
    if (job.groupStart >= sources.length) return { more: true, cleaned: this.finish(job) };
    const groupBase = sources[job.groupStart].baseOffset;
    job.cleaned ??= log.createCleanedSegment(groupBase);
    let budget = this.ioBufferSize;
    while (budget > 0) {
      const seg = sources[job.source];
      const first = seg.findBatch(job.readNext);
      if (first === null) {
        const next = sources[job.source + 1];
        if (
          next !== undefined &&
          job.cleaned.size + next.size <= log.config.segmentBytes &&
          next.nextOffset - 1 - groupBase <= INT32_MAX
        ) {
          job.source++;
          job.readNext = next.baseOffset;
          continue;
        }
        this.swapGroup(job, sources.slice(job.groupStart, job.source + 1));
        break;
      }
      const chunk = seg.read(first, budget, Number.MAX_SAFE_INTEGER, true);
      budget -= chunk.length;
      const kept: Buffer[] = [];
      for (const h of batchHeaders(chunk)) {
        const out = this.cleanBatch(job, chunk, h);
        if (out !== null) kept.push(out);
        job.lastHeader = Buffer.from(chunk.subarray(h.at, h.at + BATCH.HEADER_SIZE));
        job.readNext = h.lastOffset + 1;
      }
      if (kept.length > 0) job.cleaned.append(kept.length === 1 ? kept[0] : Buffer.concat(kept), log.config);
    }
    return { more: true };
  }

  /** The batch as it should be stored after cleaning, or null when nothing of it stays. */
  private cleanBatch(job: CleanJob, chunk: Buffer, h: BatchHeader): Buffer | null {
    const original = chunk.subarray(h.at, h.at + h.sizeInBytes);
    // Transaction markers stay, and with them their transaction index entries.
    if (h.isControl) return original;
    if (isAborted(job, h)) {
      job.recordsRemoved += h.recordCount;
      job.abortedRecordsRemoved += h.recordCount;
      return job.producerLastBatches.get(h.producerId) === h.lastOffset ? emptyBatch(h) : null;
    }
    const records = decodeRecordBatch(chunk, h.at).records;
    const kept: KafkaRecord[] = [];
    let keptTombstone = false;
    for (const r of records) {
      if (this.retain(job, h, r)) {
        kept.push(r);
        if (r.value === null) keptTombstone = true;
      } else {
        job.recordsRemoved++;
        if (r.value === null) job.tombstonesRemoved++;
      }
    }
    const horizon = h.hasDeleteHorizon
      ? h.baseTimestamp
      : keptTombstone
        ? job.now + job.log.config.deleteRetentionMs
        : undefined;
    if (keptTombstone) job.earliestHorizon = Math.min(job.earliestHorizon, horizon!);
    if (kept.length === records.length && (horizon === undefined || h.hasDeleteHorizon)) return original;
    if (kept.length === 0) {
      const producerLast = h.producerId >= 0 && job.producerLastBatches.get(h.producerId) === h.lastOffset;
      return producerLast ? emptyBatch(h) : null;
    }
    return encodeRecordBatch({
      baseOffset: h.baseOffset,
      records: kept.map((r) => ({
        key: r.key,
        value: r.value,
        headers: r.headers,
        timestamp: r.timestamp,
        offsetDelta: r.offset - h.baseOffset,
      })),
      compression: h.compression,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      isTransactional: h.isTransactional,
      timestampType: h.timestampType,
      lastOffsetDelta: h.lastOffsetDelta,
      baseTimestamp: h.baseTimestamp,
      maxTimestamp: h.maxTimestamp,
      deleteHorizonMs: horizon,
    });
  }

  /** Kafka's shouldRetainRecord. */
  private retain(job: CleanJob, h: BatchHeader, r: KafkaRecord): boolean {
    if (r.offset >= job.mapEnd) return true;
    if (r.key === null) return false; // a compacted topic refuses these since; older ones cannot be placed
    const newest = job.map.get(r.key.toString('latin1'));
    if (newest !== undefined && newest > r.offset) return false;
    return r.value !== null || !h.hasDeleteHorizon || job.now < h.baseTimestamp;
  }

  private swapGroup(job: CleanJob, group: LogSegment[]): void {
    const cleaned = job.cleaned!;
    const config = job.log.config;
    // Recovery reads the offsets a committed swap replaces from the cleaned log itself, so it
    // must reach into the last segment it replaces: if everything there went, an empty copy
    // of the group's last batch stays.
    if (cleaned.nextOffset <= group[group.length - 1].baseOffset && job.lastHeader !== null) {
      cleaned.append(emptyBatch(new BatchHeader(job.lastHeader)), config);
    }
    for (const s of group) {
      job.bytesBefore += s.size;
      for (const t of s.abortedTxns()) cleaned.appendAbortedTxn(t);
    }
    job.bytesAfter += cleaned.size;
    job.log.replaceSegments(cleaned, group);
    job.version = job.log.segmentsVersion;
    job.cleaned = null;
    job.lastHeader = null;
    job.groupStart = job.source = job.source + 1;
    job.readNext = job.sources![job.source]?.baseOffset ?? 0;
  }

  private finish(job: CleanJob): CleanerStats {
    const log = job.log;
    this.job = null;
    log.setCleanerOffset(job.mapEnd);
    if (job.earliestHorizon === Infinity) this.horizons.delete(log);
    else this.horizons.set(log, job.earliestHorizon);
    const stats: CleanerStats = {
      log: log.name,
      firstDirtyOffset: job.firstDirty,
      endOffset: job.mapEnd,
      segmentsBefore: job.segmentsBefore,
      segmentsAfter: log.segmentList.length,
      bytesBefore: job.bytesBefore,
      bytesAfter: job.bytesAfter,
      recordsRemoved: job.recordsRemoved,
      tombstonesRemoved: job.tombstonesRemoved,
      abortedRecordsRemoved: job.abortedRecordsRemoved,
    };
    this.options.logger.log(
      `${log.name}: cleaned offsets below ${stats.endOffset} (dirty from ${stats.firstDirtyOffset}): ` +
        `${stats.bytesBefore} -> ${stats.bytesAfter} bytes, ${stats.recordsRemoved} records removed ` +
        `(${stats.tombstonesRemoved} tombstones), ${stats.segmentsBefore} -> ${stats.segmentsAfter} segments`,
    );
    return stats;
  }
}

/** Whether a data batch belongs to a transaction that was aborted (Kafka's CleanedTransactionMetadata). */
function isAborted(job: CleanJob, h: BatchHeader): boolean {
  if (!h.isTransactional || job.aborted.size === 0) return false;
  const base = h.baseOffset;
  return job.aborted.get(h.producerId)?.some((t) => t.firstOffset <= base && base <= t.lastOffset) ?? false;
}

/** The first segment that holds offsets at or after `offset`, the active one excluded; null when none. */
function segmentHolding(log: PartitionLog, offset: number): LogSegment | null {
  const segments = log.segmentList;
  for (let i = 0; i < segments.length - 1; i++) if (segments[i].nextOffset > offset) return segments[i];
  return null;
}

/** Kafka's writeEmptyHeader: a batch that keeps only its offsets and producer fields, no records. */
function emptyBatch(h: BatchHeader): Buffer {
  return encodeRecordBatch({
    baseOffset: h.baseOffset,
    records: [],
    compression: CompressionType.None,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    isTransactional: h.isTransactional,
    timestampType: h.timestampType,
    lastOffsetDelta: h.lastOffsetDelta,
    baseTimestamp: h.maxTimestamp,
    maxTimestamp: h.maxTimestamp,
  });
}
