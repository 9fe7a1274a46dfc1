import fs from 'node:fs';
import path from 'node:path';
import { fsyncDir, readFileIfExists } from './atomic-file';
import { LeaderEpochCache } from './leader-epoch-cache';
import type { StorageLogger } from './logger';
import {
  CLEANED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  LogSegment,
  nextOffsetOfLogFile,
  segmentFileName,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
} from './log-segment';
import type { TopicConfig } from './topic-config';
import { TXN_INDEX_SUFFIX } from './transaction-index';

/**
 * Opening a partition's directory (Kafka's LogLoader): the offsets checkpoint, the leader
 * epochs, interrupted cleaner swaps completed, leftovers removed, and every segment opened,
 * validated batch by batch from the recovery point on after an unclean shutdown. PartitionLog
 * builds its offsets and producer state on what this returns.
 */

/** Written on clean close, removed on open: its absence at open means recovery is needed. */
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';
export const OFFSETS_CHECKPOINT_FILE = 'offsets.checkpoint';
const SEGMENT_NAME = /^(\d{20})\.log$/;

/**
 * The partition's persisted offsets (Kafka keeps these in log-start-offset-checkpoint,
 * replication-offset-checkpoint and recovery-point-offset-checkpoint per log dir; here one
 * small file per partition, replaced atomically).
 */
export interface OffsetsCheckpoint {
  logStartOffset: number;
  highWatermark: number;
  recoveryPoint: number;
  /** Where the log cleaner's next pass starts (Kafka's cleaner-offset-checkpoint); -1 when none. */
  cleanerOffset: number;
}

export interface LoadedSegments {
  readonly segments: LogSegment[];
  /** Segments recovery validated (and maybe cut) or whose indexes it rebuilt: to be flushed. */
  readonly recovered: readonly LogSegment[];
  /** Base offsets of segments an interrupted cleaning swapped in (their transaction index is rebuilt). */
  readonly swapped: ReadonlySet<number>;
  readonly checkpoint: OffsetsCheckpoint | null;
  readonly epochs: LeaderEpochCache;
}

/**
 * Opens (creating when new) the segments in `dir`. After an unclean shutdown every segment from
 * the recovery point on is validated batch by batch and cut at the first torn or corrupt batch;
 * segments after a cut are deleted, as they follow a hole.
 */
export function loadSegments(
  dir: string,
  logName: string,
  config: TopicConfig,
  logger: StorageLogger,
): LoadedSegments {
  fs.mkdirSync(dir, { recursive: true });
  const checkpointText = readFileIfExists(path.join(dir, OFFSETS_CHECKPOINT_FILE));
  const checkpoint = checkpointText === null ? null : parseCheckpoint(checkpointText);
  if (checkpointText !== null && checkpoint === null) {
    logger.warn(`${logName}: ignoring malformed ${OFFSETS_CHECKPOINT_FILE}`);
  }
  const epochs = LeaderEpochCache.load(dir, (m) => logger.warn(`${logName}: ${m}`));
  const learnEpoch = (epoch: number, baseOffset: number) => {
    if (epoch > epochs.latestEpoch) epochs.assign(epoch, baseOffset);
  };
  const marker = path.join(dir, CLEAN_SHUTDOWN_FILE);
  const clean = fs.existsSync(marker);
  if (clean) {
    fs.unlinkSync(marker);
    fsyncDir(dir);
  }

  const swapped = completeInterruptedSwaps(dir, logName, logger);
  const names = fs.readdirSync(dir);
  const bases: number[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m !== null) bases.push(Number(m[1]));
    else if (/\.(tmp|deleted|cleaned|swap)$/.test(name)) {
      fs.rmSync(path.join(dir, name), { force: true });
      logger.warn(`${logName}: removed leftover ${name}`);
    }
  }
  bases.sort((a, b) => a - b);
  const logs = new Set(bases.map((b) => String(b).padStart(20, '0')));
  for (const name of names) {
    const stem = name.replace(/\.(index|timeindex|txnindex)$/, '');
    if (stem !== name && /^\d{20}$/.test(stem) && !logs.has(stem)) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }

  // Without the clean-shutdown marker, everything from the segment holding the recovery
  // point on may hold unflushed (torn) writes.
  const recoverFrom = clean ? Infinity : (checkpoint?.recoveryPoint ?? 0);
  // Recovered segments are fsynced below: what a crashed process left in the page cache is
  // only durable after that, and the recovery point is about to cover it.
  const segments: LogSegment[] = [];
  const recovered: LogSegment[] = [];
  let cut = false;
  try {
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i];
      if (cut) {
        deleteSegmentFiles(dir, base);
        logger.warn(`${logName}: deleted segment ${base}, which followed a truncated segment`);
        continue;
      }
      const needsRecovery = i === bases.length - 1 ? !clean : bases[i + 1] > recoverFrom;
      const { segment, truncated, rebuilt } = LogSegment.open(dir, base, config, needsRecovery, learnEpoch);
      segments.push(segment);
      if (rebuilt) {
        recovered.push(segment);
        if (!needsRecovery) logger.warn(`${logName}: rebuilt the indexes of segment ${base}`);
      }
      if (truncated !== null) {
        // Past the recovery point what follows a torn write cannot be trusted; before it (a
        // flushed segment that went bad) later segments stay, as in Kafka, leaving a gap.
        if (needsRecovery) cut = true;
        logger.warn(
          `${logName}: recovery truncated segment ${base} to ${segment.size} bytes, ` +
            `next offset ${segment.nextOffset}, dropping ${truncated.bytes} bytes: ${truncated.reason}`,
        );
      }
    }
    if (segments.length === 0) {
      segments.push(LogSegment.create(dir, Math.max(0, checkpoint?.logStartOffset ?? 0), config));
    }
  } catch (err) {
    for (const s of segments) s.close();
    throw err;
  }
  return { segments, recovered, swapped, checkpoint, epochs };
}

/**
 * Finishes what a crash interrupted in the log cleaner's swap (Kafka's LogLoader): an
 * unfinished `.cleaned` segment is dropped, the old segments being whole; a `<base>.log.swap`
 * was committed, so every old segment within its offsets (as it is or already `.deleted`)
 * goes and the swap files take their final names. A transaction index may not exist, so
 * which one is new cannot be told from the names: the swapped-in segment's is rebuilt from
 * the log, and its base offset returned for that. Orphan index swaps and `.deleted` files
 * are removed by the caller.
 */
function completeInterruptedSwaps(dir: string, logName: string, logger: StorageLogger): Set<number> {
  const swapped = new Set<number>();
  const names = fs.readdirSync(dir);
  for (const name of names) {
    if (!name.endsWith(CLEANED_SUFFIX)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    logger.warn(`${logName}: removed ${name}, left by a cleaning that did not finish`);
  }
  for (const name of names) {
    const m = /^(\d{20})\.log\.swap$/.exec(name);
    if (m === null) continue;
    const base = Number(m[1]);
    const next = nextOffsetOfLogFile(path.join(dir, name), base);
    for (const old of fs.readdirSync(dir)) {
      const o = /^(\d{20})\.(log|index|timeindex|txnindex)(\.deleted|\.swap)?$/.exec(old);
      if (o === null || Number(o[1]) < base || Number(o[1]) >= next) continue;
      if (o[2] === 'txnindex') {
        fs.rmSync(path.join(dir, old));
        continue;
      }
      if (o[3] === SWAP_SUFFIX) continue;
      // The swap's own index already under its final name is the new one: the final renames
      // had begun (index swaps exist until then), so leave it.
      const ownIndex = Number(o[1]) === base && o[2] !== 'log' && o[3] === undefined;
      if (ownIndex && !fs.existsSync(path.join(dir, old + SWAP_SUFFIX))) continue;
      fs.rmSync(path.join(dir, old));
    }
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX]) {
      const swap = path.join(dir, segmentFileName(base, suffix) + SWAP_SUFFIX);
      if (fs.existsSync(swap)) fs.renameSync(swap, path.join(dir, segmentFileName(base, suffix)));
    }
    swapped.add(base);
    logger.warn(`${logName}: completed the swap of cleaned segment ${base} (offsets ${base} to ${next})`);
  }
  fsyncDir(dir);
  return swapped;
}

function deleteSegmentFiles(dir: string, base: number): void {
  for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
    fs.rmSync(path.join(dir, String(base).padStart(20, '0') + suffix), { force: true });
  }
}

function parseCheckpoint(text: string): OffsetsCheckpoint | null {
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '0') return null;
  const values = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const [key, value] = line.split(' ');
    if (!/^-?\d+$/.test(value ?? '')) return null;
    values.set(key, Number(value));
  }
  const get = (k: string) => values.get(k);
  const logStartOffset = get('log-start-offset');
  const highWatermark = get('high-watermark');
  const recoveryPoint = get('recovery-point');
  if (logStartOffset === undefined || highWatermark === undefined || recoveryPoint === undefined) return null;
  return { logStartOffset, highWatermark, recoveryPoint, cleanerOffset: get('cleaner-offset') ?? -1 };
}
