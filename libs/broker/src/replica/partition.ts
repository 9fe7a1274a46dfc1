import { ErrorCode, KafkaProtocolError, type TxnMarkerBatch } from '@tributary/protocol';
import type { AppendedTxnMarker, AppendResult, PartitionLog } from '@tributary/storage';

/** A partition's replication state as the cluster decided it (Kafka's LeaderAndIsr plus the assignment). */
export interface PartitionState {
  /** -1: no leader. */
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** Bumped by every change of the state; AlterPartition proposals name the one they change. */
  readonly partitionEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

/** What a leader asks the cluster for when its ISR should change (Kafka's AlterPartition). */
export interface IsrProposal {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
}

/** What a Partition needs from its ReplicaManager. */
export interface PartitionHost {
  readonly localId: number;
  readonly replicaLagTimeMaxMs: number;
  /** Fetches waiting on this partition are woken (new data or a new high watermark). */
  wake(partition: Partition): void;
  proposeIsr(partition: Partition, proposal: IsrProposal): void;
  /** Transaction markers went into the log (written here as leader, or copied as follower). */
  markersAppended(partition: Partition, markers: readonly AppendedTxnMarker[]): void;
}

/** The leader's view of one follower (Kafka's Replica state). */
export interface FollowerState {
  /** -1 until the follower has fetched from this leader. */
  logEndOffset: number;
  logStartOffset: number;
  lastCaughtUpTimeMs: number;
  lastFetchTimeMs: number;
  lastFetchLeaderLogEndOffset: number;
}

interface PendingProduce {
  readonly requiredOffset: number;
  readonly deadline: number;
  readonly done: (errorCode: number) => void;
}

const NO_STATE: PartitionState = {
  leaderId: -1,
  leaderEpoch: -1,
  partitionEpoch: -1,
  replicas: [],
  isr: [],
  addingReplicas: [],
  removingReplicas: [],
};

/**
 * One partition this broker holds a replica of (Kafka's Partition): as leader it tracks each
 * follower's fetch position, moves the high watermark to the lowest log end of the ISR,
 * proposes ISR changes (a follower that fell behind for replica.lag.time.max.ms leaves, one
 * that caught up rejoins) and completes acks=all produces once the ISR has their batches; as
 * follower it appends what the leader sent and takes the leader's high watermark. A lone
 * broker's partitions are leaders with an ISR of one.
 */
export class Partition {
  private _state: PartitionState = NO_STATE;
  /** The ISR proposed to the cluster and not yet answered (Kafka's pending AlterPartition). */
  private pendingIsr: readonly number[] | null = null;
  private readonly followers = new Map<number, FollowerState>();
  /** acks=all produces waiting for the high watermark, by required offset (Kafka's produce purgatory). */
  private pendingProduces: PendingProduce[] = [];
  /** One timer for the earliest deadline of the waiting produces. */
  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryAt = Infinity;
  /** The first offset of this leader's epoch: a follower must reach it to rejoin the ISR. */
  private leaderEpochStartOffset = 0;

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
    private readonly host: PartitionHost,
  ) {}

  get state(): PartitionState {
    return this._state;
  }
  get isLeader(): boolean {
    return this._state.leaderId === this.host.localId;
  }
  get leaderId(): number {
    return this._state.leaderId;
  }
  get leaderEpoch(): number {
    return this._state.leaderEpoch;
  }
  get isr(): readonly number[] {
    return this._state.isr;
  }
  get highWatermark(): number {
    return this.log.highWatermark;
  }
  /** The ISR the high watermark must respect: the committed one and a proposed expansion (KIP-497). */
  get maximalIsr(): readonly number[] {
    const pending = this.pendingIsr;
    if (pending === null) return this._state.isr;
    return [...new Set([...this._state.isr, ...pending])];
  }
  follower(id: number): Readonly<FollowerState> | undefined {
    return this.followers.get(id);
  }

  /**
   * Becomes (or stays) the leader with `state`. A new leader epoch starts at the log end, and
   * every follower starts unknown, the ISR members counted as caught up now, as Kafka does. A
   * state of the same epoch only updates the ISR and replicas. Returns false for a stale state.
   */
  makeLeader(state: PartitionState, now: number): boolean {
    if (this.isStale(state)) return false;
    const newEpoch = state.leaderEpoch > this._state.leaderEpoch || !this.isLeader;
    this._state = state;
    this.pendingIsr = null;
    if (newEpoch) {
      this.log.assignLeaderEpoch(state.leaderEpoch);
      this.leaderEpochStartOffset = this.log.logEndOffset;
      this.followers.clear();
    }
    for (const id of [...state.replicas, ...state.addingReplicas]) {
      if (id === this.host.localId || this.followers.has(id)) continue;
      this.followers.set(id, {
        logEndOffset: -1,
        logStartOffset: -1,
        lastCaughtUpTimeMs: state.isr.includes(id) ? now : 0,
        lastFetchTimeMs: 0,
        lastFetchLeaderLogEndOffset: -1,
      });
    }
    for (const id of [...this.followers.keys()]) {
      if (!state.replicas.includes(id) && !state.addingReplicas.includes(id)) this.followers.delete(id);
    }
    this.maybeIncrementHighWatermark(now);
    return true;
  }

  /** Follows `state.leaderId` (or no one, -1). Waiting acks=all produces fail: this broker no longer leads. */
  makeFollower(state: PartitionState): boolean {
    if (this.isStale(state)) return false;
    this._state = state;
    this.pendingIsr = null;
    this.followers.clear();
    this.failPendingProduces(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return true;
  }

  /** The replica is going away (deleted or moved): nothing waits on it any more. */
  stop(): void {
    this._state = NO_STATE;
    this.followers.clear();
    this.failPendingProduces(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  }

  /**
   * The log dir failed: this replica neither leads nor follows any more (Kafka's offline
   * partition) and the produces waiting for replication get KAFKA_STORAGE_ERROR.
   */
  markOffline(): void {
    this._state = NO_STATE;
    this.pendingIsr = null;
    this.followers.clear();
    this.failPendingProduces(ErrorCode.KAFKA_STORAGE_ERROR);
  }

  /** An older state than the one applied (a late notification): ignored. */
  private isStale(state: PartitionState): boolean {
    return (
      state.leaderEpoch < this._state.leaderEpoch ||
      (state.leaderEpoch === this._state.leaderEpoch && state.partitionEpoch < this._state.partitionEpoch)
    );
  }

  // ---- leader ---------------------------------------------------------------------------

  /**
   * A producer's batches onto the leader's log (Kafka's appendRecordsToLeader). acks=-1 needs
   * min.insync.replicas in the ISR before anything is appended (NOT_ENOUGH_REPLICAS).
   * `verificationGuard`: see PartitionLog.append. Hot path: checks on the state, then the
   * log's header-only append.
   */
  appendAsLeader(records: Buffer, acks: number, now: number, verificationGuard?: number): AppendResult {
    this.checkLeaderFor(acks);
    const appended = this.log.append(records, this._state.leaderEpoch, verificationGuard);
    if (!appended.duplicate) {
      // Followers (and, if the high watermark moved, consumers) waiting on this partition wake once.
      this.advanceHighWatermark(now);
      this.host.wake(this);
    }
    return appended;
  }

  /**
   * The COMMIT or ABORT marker of a transaction onto the leader's log (WriteTxnMarkers), as an
   * acks=-1 append: NOT_ENOUGH_REPLICAS below min.insync.replicas; the caller waits for
   * replication. The log refuses a stale producer or coordinator epoch.
   */
  appendTxnMarkerAsLeader(marker: TxnMarkerBatch, now: number): AppendResult {
    this.checkLeaderFor(-1);
    const appended = this.log.appendTxnMarker(marker, this._state.leaderEpoch);
    this.advanceHighWatermark(now);
    this.host.wake(this);
    this.host.markersAppended(this, appended.txnMarkers);
    return appended;
  }

  private checkLeaderFor(acks: number): void {
    // An offline replica answers KAFKA_STORAGE_ERROR before anything else, as in Kafka.
    this.log.ensureOnline();
    if (!this.isLeader) {
      throw new KafkaProtocolError(
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        `this broker does not lead ${this.topic}-${this.index}`,
      );
    }
    const minIsr = this.log.config.minInsyncReplicas;
    if (acks === -1 && this._state.isr.length < minIsr) {
      throw new KafkaProtocolError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `${this.topic}-${this.index} has ${this._state.isr.length} in-sync replica(s), fewer than min.insync.replicas ${minIsr}`,
      );
    }
  }

  /**
   * The replicator's batches onto a mirror topic's leader, keeping the source's offsets
   * (MirrorProduce). The caller has restamped their leader epoch with this leader's. Needs
   * min.insync.replicas in the ISR, as acks=-1 does; the answer waits for replication.
   */
  appendMirrorAsLeader(records: Buffer, now: number): AppendResult {
    this.checkLeaderFor(-1);
    const appended = this.log.appendAsFollower(records);
    this.advanceHighWatermark(now);
    this.host.wake(this);
    if (appended.txnMarkers.length > 0) this.host.markersAppended(this, appended.txnMarkers);
    return appended;
  }

  /**
   * Resolves with the acks=all answer for a produce whose last offset is requiredOffset - 1:
   * NONE once the high watermark passed it (NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR then
   * is below min.insync.replicas), REQUEST_TIMED_OUT after timeoutMs, NOT_LEADER_OR_FOLLOWER
   * if leadership moves first.
   */
  waitForReplication(requiredOffset: number, timeoutMs: number): Promise<number> {
    const ready = this.replicationResult(requiredOffset);
    if (ready !== null) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const entry: PendingProduce = { requiredOffset, deadline: Date.now() + timeoutMs, done: resolve };
      // Appends come in offset order, so this is nearly always a push.
      const list = this.pendingProduces;
      let at = list.length;
      while (at > 0 && list[at - 1].requiredOffset > requiredOffset) at--;
      list.splice(at, 0, entry);
      if (entry.deadline < this.expiryAt) this.armExpiry(entry.deadline);
    });
  }

  private armExpiry(deadline: number): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryAt = deadline;
    this.expiryTimer = setTimeout(() => this.expirePendingProduces(), Math.max(0, deadline - Date.now()));
  }

  private expirePendingProduces(): void {
    this.expiryTimer = null;
    this.expiryAt = Infinity;
    const now = Date.now();
    const waiting: PendingProduce[] = [];
    let next = Infinity;
    for (const p of this.pendingProduces) {
      if (p.deadline <= now) p.done(ErrorCode.REQUEST_TIMED_OUT);
      else {
        waiting.push(p);
        next = Math.min(next, p.deadline);
      }
    }
    this.pendingProduces = waiting;
    if (next < Infinity) this.armExpiry(next);
  }

  private replicationResult(requiredOffset: number): number | null {
    if (!this.isLeader) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
    if (this.log.highWatermark < requiredOffset) return null;
    return this._state.isr.length < this.log.config.minInsyncReplicas
      ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
      : ErrorCode.NONE;
  }

  /** The high watermark moved: the produces it passed are answered, oldest first. */
  private completePendingProduces(): void {
    const list = this.pendingProduces;
    let done = 0;
    while (done < list.length) {
      const result = this.replicationResult(list[done].requiredOffset);
      if (result === null) break;
      list[done++].done(result);
    }
    if (done > 0) list.splice(0, done);
    if (list.length === 0 && this.expiryTimer !== null) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = null;
      this.expiryAt = Infinity;
    }
  }

  private failPendingProduces(errorCode: number): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.expiryAt = Infinity;
    for (const p of this.pendingProduces.splice(0)) p.done(errorCode);
  }

  /**
   * A follower fetched from `fetchOffset` (its log end): Kafka's updateFollowerFetchState.
   * It counts as caught up at this fetch if it reached the leader's log end, or at its
   * previous fetch if it reached what the log end was then. It may then rejoin the ISR, and
   * the high watermark may move.
   */
  updateFollowerFetch(
    followerId: number,
    fetchOffset: number,
    followerLogStartOffset: number,
    now: number,
  ): void {
    const f = this.followers.get(followerId);
    if (f === undefined) return;
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, now);
    else if (fetchOffset >= f.lastFetchLeaderLogEndOffset)
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    f.logEndOffset = fetchOffset;
    f.logStartOffset = followerLogStartOffset;
    f.lastFetchLeaderLogEndOffset = leaderEnd;
    f.lastFetchTimeMs = now;
    this.maybeExpandIsr(followerId, f);
    this.maybeIncrementHighWatermark(now);
  }

  private isCaughtUp(f: FollowerState, now: number): boolean {
    return (
      f.logEndOffset >= this.log.logEndOffset || now - f.lastCaughtUpTimeMs <= this.host.replicaLagTimeMaxMs
    );
  }

  /**
   * The high watermark is the lowest log end among the leader, the (maximal) ISR and the
   * followers still caught up; it only moves forward while this broker leads.
   */
  maybeIncrementHighWatermark(now: number): boolean {
    const moved = this.advanceHighWatermark(now);
    if (moved) this.host.wake(this);
    return moved;
  }

  private advanceHighWatermark(now: number): boolean {
    if (!this.isLeader) return false;
    let hw = this.log.logEndOffset;
    const isr = this.maximalIsr;
    for (const [id, f] of this.followers) {
      if (f.logEndOffset >= hw) continue;
      if (isr.includes(id) || (f.logEndOffset >= 0 && this.isCaughtUp(f, now)))
        hw = Math.max(f.logEndOffset, 0);
    }
    if (hw <= this.log.highWatermark) return false;
    this.log.setHighWatermark(hw);
    this.completePendingProduces();
    return true;
  }

  /** A follower that caught up with the high watermark and this epoch's start rejoins the ISR. */
  private maybeExpandIsr(followerId: number, f: FollowerState): void {
    if (this.pendingIsr !== null || this._state.isr.includes(followerId)) return;
    if (!this._state.replicas.includes(followerId)) return;
    if (f.logEndOffset < this.log.highWatermark || f.logEndOffset < this.leaderEpochStartOffset) return;
    this.propose([...this._state.isr, followerId]);
  }

  /** Followers that have not caught up for replica.lag.time.max.ms leave the ISR (the leader never does). */
  maybeShrinkIsr(now: number): void {
    if (!this.isLeader || this.pendingIsr !== null) return;
    const outOfSync = this._state.isr.filter((id) => {
      if (id === this.host.localId) return false;
      const f = this.followers.get(id);
      return f === undefined || now - f.lastCaughtUpTimeMs > this.host.replicaLagTimeMaxMs;
    });
    if (outOfSync.length === 0) return;
    this.propose(this._state.isr.filter((id) => !outOfSync.includes(id)));
  }

  private propose(isr: readonly number[]): void {
    this.pendingIsr = isr;
    this.host.proposeIsr(this, {
      leaderId: this._state.leaderId,
      leaderEpoch: this._state.leaderEpoch,
      partitionEpoch: this._state.partitionEpoch,
      isr,
    });
  }

  /** The cluster answered a proposal: the committed state, or null when it was refused (stale or fenced). */
  isrProposalDone(proposal: IsrProposal, committed: PartitionState | null, now: number): void {
    if (this.pendingIsr !== proposal.isr) return;
    this.pendingIsr = null;
    if (committed === null) return;
    if (
      committed.leaderEpoch !== this._state.leaderEpoch ||
      committed.partitionEpoch <= this._state.partitionEpoch
    )
      return;
    this._state = committed;
    this.maybeIncrementHighWatermark(now);
  }

  // ---- follower -------------------------------------------------------------------------

  /**
   * Batches fetched from the leader, stored as they came (appendAsFollower keeps the leader's
   * offsets and epochs); then the leader's high watermark and log start, as far as this log has them.
   */
  appendFromLeader(records: Buffer, leaderHighWatermark: number, leaderLogStartOffset: number): AppendResult {
    const appended = this.log.appendAsFollower(records);
    this.followLeaderOffsets(leaderHighWatermark, leaderLogStartOffset);
    if (appended.txnMarkers.length > 0) this.host.markersAppended(this, appended.txnMarkers);
    return appended;
  }

  /** Takes the leader's high watermark and log start offset, bounded by this log. */
  followLeaderOffsets(leaderHighWatermark: number, leaderLogStartOffset: number): void {
    const log = this.log;
    const hw = Math.min(leaderHighWatermark, log.logEndOffset);
    let moved = false;
    if (hw > log.highWatermark) {
      log.setHighWatermark(hw);
      moved = true;
    }
    if (leaderLogStartOffset > log.logStartOffset && leaderLogStartOffset <= log.highWatermark) {
      log.deleteRecordsBefore(leaderLogStartOffset);
    }
    if (moved) this.host.wake(this);
  }
}
