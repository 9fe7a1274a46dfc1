import path from 'node:path';
import { readFileIfExists, writeFileAtomicSync } from './atomic-file';

/** Kafka's file name and format: "0", the entry count, then "<epoch> <startOffset>" lines. */
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/** OffsetForLeaderEpoch's answer: -1, -1 when the epoch is unknown here. */
export interface EpochEndOffset {
  readonly leaderEpoch: number;
  readonly endOffset: number;
}

/**
 * Kafka's LeaderEpochFileCache: the first offset of each leader epoch in this log, so a
 * follower can ask a new leader where its epoch ended and truncate exactly what diverged
 * (KIP-101). Changes are rare (a new leader), so each is persisted at once.
 */
export class LeaderEpochCache {
  private entries: EpochEntry[] = [];

  private constructor(private readonly file: string) {}

  /** Loads the cache of the log in `dir`; a malformed file is reported and rebuilt by recovery. */
  static load(dir: string, warn: (message: string) => void): LeaderEpochCache {
    const cache = new LeaderEpochCache(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE));
    const text = readFileIfExists(cache.file);
    if (text === null) return cache;
    const lines = text.split('\n').filter((l) => l.length > 0);
    const entries: EpochEntry[] = [];
    let ok = lines[0] === '0' && Number(lines[1]) === lines.length - 2;
    for (const line of lines.slice(2)) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (m === null) ok = false;
      else entries.push({ epoch: Number(m[1]), startOffset: Number(m[2]) });
    }
    if (ok) cache.entries = entries;
    else warn(`ignoring malformed ${cache.file}`);
    return cache;
  }

  get latestEpoch(): number {
    return this.entries.length === 0 ? -1 : this.entries[this.entries.length - 1].epoch;
  }

  epochEntries(): readonly EpochEntry[] {
    return this.entries;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Entries it contradicts (a later or equal
   * epoch, or a start at or after this one) are dropped, as in Kafka. Hot path: a compare
   * unless the epoch is new.
   */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0) return;
    const latest = this.entries[this.entries.length - 1];
    if (latest !== undefined && epoch === latest.epoch && startOffset >= latest.startOffset) return;
    this.entries = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    this.persist();
  }

  /**
   * Where `requestedEpoch` ended in this log: the log end for the latest epoch, else the start
   * of the next higher epoch, paired with the largest epoch at or below the one requested.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const undefinedEpoch = { leaderEpoch: -1, endOffset: -1 };
    if (requestedEpoch < 0 || this.entries.length === 0) return undefinedEpoch;
    if (requestedEpoch === this.latestEpoch) return { leaderEpoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.entries.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return undefinedEpoch;
    const floor = higher - 1;
    return {
      leaderEpoch: floor < 0 ? requestedEpoch : this.entries[floor].epoch,
      endOffset: this.entries[higher].startOffset,
    };
  }

  /** After truncation to `endOffset`: epochs starting at or after it are gone. */
  truncateFromEnd(endOffset: number): void {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.persist();
  }

  /** After logStartOffset moved to `startOffset`: the epoch holding it now starts there. */
  truncateFromStart(startOffset: number): void {
    let floor = -1;
    for (let i = 0; i < this.entries.length && this.entries[i].startOffset <= startOffset; i++) floor = i;
    if (floor < 0 || (floor === 0 && this.entries[0].startOffset === startOffset)) return;
    this.entries = [{ epoch: this.entries[floor].epoch, startOffset }, ...this.entries.slice(floor + 1)];
    this.persist();
  }

  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.persist();
  }

  private persist(): void {
    const lines = [
      '0',
      String(this.entries.length),
      ...this.entries.map((e) => `${e.epoch} ${e.startOffset}`),
    ];
    writeFileAtomicSync(this.file, lines.join('\n') + '\n');
  }
}
