import { errorCodeOf, ErrorCode } from '@tributary/protocol';
import type { AppendedTxnMarker, LogManager, PartitionLog } from '@tributary/storage';
import type { BrokerLogger } from '../broker-context';
import { FetchWaiters } from './fetch-waiters';
import { Partition, type IsrProposal, type PartitionHost, type PartitionState } from './partition';

/** Where ISR proposals go: the cluster's coordination (Kafka's AlterPartition to the controller). */
export interface PartitionStateChannel {
  /** Resolves with the committed state; rejects with a KafkaProtocolError when refused (stale version, fenced epoch). */
  alterPartition(topic: string, partition: number, proposal: IsrProposal): Promise<PartitionState>;
}

export type LeadershipListener = (topic: string, partition: number, isLeader: boolean) => void;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** One WriteTxnMarkers marker: the end of a producer's transaction on some partitions. */
export interface TxnMarkerEntry {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly committed: boolean;
  readonly partitions: readonly TopicPartition[];
}

/** What became of one marker, per partition (ErrorCode.NONE once the ISR has it). */
export interface TxnMarkerResult {
  readonly producerId: number;
  readonly partitions: readonly (TopicPartition & { readonly errorCode: number })[];
}

/** A marker appended to a partition here, as leader or follower (what the group coordinator needs). */
export interface TransactionMarkerEvent {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly committed: boolean;
  readonly offset: number;
}

export type TransactionMarkerListener = (event: TransactionMarkerEvent) => void;

/** A transactional producer's batches to partitions where its transaction is not yet open (KIP-890). */
export interface TransactionVerification {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitions: readonly TopicPartition[];
}

/**
 * Asks the transaction coordinator whether the partitions are in the producer's ongoing
 * transaction (Kafka's AddPartitionsToTxn with verifyOnly); resolves with an error code per
 * partition, NONE when it is (INVALID_TXN_STATE when not; the coordinator's own errors pass).
 */
export type TransactionVerifier = (
  request: TransactionVerification,
) => Promise<readonly (TopicPartition & { readonly errorCode: number })[]>;

/** Kafka's request.timeout.ms default: how long a marker may wait for the ISR. */
const MARKER_TIMEOUT_MS = 30000;

export interface ReplicaManagerOptions {
  readonly localId: number;
  readonly logs: LogManager;
  readonly waiters: FetchWaiters;
  readonly logger: BrokerLogger;
  readonly replicaLagTimeMaxMs: number;
  /** Told of every ISR change of a partition led here: how many replicas joined and left (metrics). */
  readonly onIsrChange?: (expanded: number, shrunk: number) => void;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * The partitions this broker holds and their roles (Kafka's ReplicaManager). A lone broker's
 * partitions are all leaders of an ISR of one, made on first use; in a replicated cluster the
 * cluster makes each partition leader or follower as its state says, and a timer shrinks the
 * ISRs of led partitions whose followers fell behind.
 */
export class ReplicaManager implements PartitionHost {
  readonly localId: number;
  readonly replicaLagTimeMaxMs: number;
  private readonly partitions = new Map<string, Partition>();
  private readonly listeners: LeadershipListener[] = [];
  private readonly markerListeners: TransactionMarkerListener[] = [];
  private verifier: TransactionVerifier | null = null;
  private channel: PartitionStateChannel | null = null;
  private shrinkTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ReplicaManagerOptions) {
    this.localId = options.localId;
    this.replicaLagTimeMaxMs = options.replicaLagTimeMaxMs;
    options.logs.onLogDirFailure(() => this.handleLogDirFailure());
  }

  /**
   * The log dir failed (Kafka's ReplicaManager.handleLogDirFailure): every replica here goes
   * offline, its waiting produces are answered KAFKA_STORAGE_ERROR, and the leaderships it
   * held are given up (the group coordinator unloads). Requests for its partitions then get
   * KAFKA_STORAGE_ERROR from the offline logs; the cluster moves leadership elsewhere.
   */
  private handleLogDirFailure(): void {
    for (const p of this.partitions.values()) {
      const wasLeader = p.isLeader;
      p.markOffline();
      if (wasLeader) this.emit(p.topic, p.index, false);
      this.wake(p);
    }
    this.options.logger.error(
      `log dir ${this.options.logs.dataDir} is offline: its ${this.partitions.size} replica(s) are offline until a restart`,
    );
  }

  /** A replicated cluster: partitions get their roles from the cluster, ISR changes go through `channel`. */
  useStateChannel(channel: PartitionStateChannel): void {
    this.channel = channel;
    this.shrinkTimer = setInterval(() => this.shrinkIsrs(), Math.max(10, this.replicaLagTimeMaxMs / 2));
    this.shrinkTimer.unref();
  }

  get replicated(): boolean {
    return this.channel !== null;
  }

  onLeadershipChange(listener: LeadershipListener): void {
    this.listeners.push(listener);
  }

  /**
   * Told of every transaction marker appended to a partition here, as leader (WriteTxnMarkers)
   * or follower (copied from the leader), once it is in the log (the ISR may not have it yet).
   */
  onTransactionMarker(listener: TransactionMarkerListener): void {
    this.markerListeners.push(listener);
  }

  /**
   * Turns on KIP-890's verification of transactional produce: a transactional producer's
   * first batch on a partition is appended only once `verifier` confirmed the partition is in
   * its transaction (Kafka's transaction.partition.verification.enable). Off until set.
   */
  useTransactionVerifier(verifier: TransactionVerifier | null): void {
    this.verifier = verifier;
  }

  get transactionVerifier(): TransactionVerifier | null {
    return this.verifier;
  }

  /**
   * Appends each marker's control batch to each of its partitions that this broker leads
   * (Kafka's WriteTxnMarkers on the partition leaders) and resolves once the ISR has every
   * one, with an error code per partition: NONE, or UNKNOWN_TOPIC_OR_PARTITION (not hosted
   * here), NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS(_AFTER_APPEND), INVALID_PRODUCER_EPOCH
   * (the producer moved on), TRANSACTION_COORDINATOR_FENCED (a newer coordinator wrote a
   * marker), REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR. Never rejects.
   */
  async writeTxnMarkers(
    markers: readonly TxnMarkerEntry[],
    timeoutMs = MARKER_TIMEOUT_MS,
  ): Promise<TxnMarkerResult[]> {
    const now = Date.now();
    const results = markers.map((m) => ({
      producerId: m.producerId,
      partitions: m.partitions.map((tp) => {
        const result = { topic: tp.topic, partition: tp.partition, errorCode: ErrorCode.NONE as number };
        const p = this.get(tp.topic, tp.partition);
        if (p === undefined) {
          result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return { result, wait: Promise.resolve() };
        }
        try {
          const appended = p.appendTxnMarkerAsLeader(
            {
              producerId: m.producerId,
              producerEpoch: m.producerEpoch,
              coordinatorEpoch: m.coordinatorEpoch,
              committed: m.committed,
            },
            now,
          );
          const wait = p.waitForReplication(appended.lastOffset + 1, timeoutMs).then((code) => {
            result.errorCode = code;
          });
          return { result, wait };
        } catch (err) {
          result.errorCode = errorCodeOf(err);
          if (result.errorCode === ErrorCode.UNKNOWN_SERVER_ERROR) {
            this.options.logger.error(
              `transaction marker for ${tp.topic}-${tp.partition}: ${(err as Error).stack ?? err}`,
            );
          }
          return { result, wait: Promise.resolve() };
        }
      }),
    }));
    await Promise.all(results.flatMap((m) => m.partitions.map((p) => p.wait)));
    return results.map((m) => ({ producerId: m.producerId, partitions: m.partitions.map((p) => p.result) }));
  }

  markersAppended(partition: Partition, markers: readonly AppendedTxnMarker[]): void {
    for (const m of markers) {
      const event: TransactionMarkerEvent = { topic: partition.topic, partition: partition.index, ...m };
      for (const l of this.markerListeners) {
        try {
          l(event);
        } catch (err) {
          this.options.logger.error(
            `transaction marker listener for ${partition.topic}-${partition.index}: ${(err as Error).stack ?? err}`,
          );
        }
      }
    }
  }

  /**
   * The partition if this broker holds it. Hot path: one map look-up (and on a lone broker a
   * check that the log is still the same, so a deleted and re-created topic starts afresh).
   */
  get(topic: string, partition: number): Partition | undefined {
    const log = this.options.logs.partition(topic, partition);
    if (log === undefined) return undefined;
    const k = key(topic, partition);
    const p = this.partitions.get(k);
    if (p !== undefined && p.log === log) return p;
    if (this.channel !== null) return undefined;
    const lone = new Partition(topic, partition, log, this);
    this.partitions.set(k, lone);
    if (!log.isOnline) return lone;
    lone.makeLeader(
      {
        leaderId: this.localId,
        leaderEpoch: 0,
        partitionEpoch: 0,
        replicas: [this.localId],
        isr: [this.localId],
        addingReplicas: [],
        removingReplicas: [],
      },
      Date.now(),
    );
    return lone;
  }

  private ensure(topic: string, partition: number, log: PartitionLog): Partition {
    const k = key(topic, partition);
    let p = this.partitions.get(k);
    if (p === undefined || p.log !== log) {
      p?.stop();
      p = new Partition(topic, partition, log, this);
      this.partitions.set(k, p);
    }
    return p;
  }

  /** Kafka's makeLeaders for one partition. */
  makeLeader(topic: string, partition: number, log: PartitionLog, state: PartitionState): void {
    const p = this.ensure(topic, partition, log);
    const wasLeader = p.isLeader;
    const isrBefore = p.isr;
    if (!p.makeLeader(state, Date.now())) return;
    // the controller changed the ISR of a partition led here (a dead broker dropped from it)
    if (wasLeader) this.countIsrChange(isrBefore, state.isr);
    if (!wasLeader) {
      this.options.logger.log(
        `leading ${topic}-${partition} in epoch ${state.leaderEpoch}, ISR [${state.isr}]`,
      );
      this.emit(topic, partition, true);
    }
    this.wake(p);
  }

  /** Kafka's makeFollowers for one partition; fetching from the leader is the cluster's part. */
  makeFollower(topic: string, partition: number, log: PartitionLog, state: PartitionState): void {
    const p = this.ensure(topic, partition, log);
    const wasLeader = p.isLeader;
    const before = p.state.leaderId;
    if (!p.makeFollower(state)) return;
    if (wasLeader) this.emit(topic, partition, false);
    if (before !== state.leaderId || wasLeader) {
      this.options.logger.log(
        `following ${state.leaderId < 0 ? 'no leader' : `broker ${state.leaderId}`} for ${topic}-${partition} in epoch ${state.leaderEpoch}`,
      );
    }
    this.wake(p);
  }

  /** The replica goes away (topic deleted, replica moved): Kafka's StopReplica. */
  stopReplica(topic: string, partition: number): void {
    const k = key(topic, partition);
    const p = this.partitions.get(k);
    if (p === undefined) return;
    const wasLeader = p.isLeader;
    p.stop();
    this.partitions.delete(k);
    if (wasLeader) this.emit(topic, partition, false);
    this.wake(p);
  }

  private emit(topic: string, partition: number, isLeader: boolean): void {
    for (const l of this.listeners) {
      try {
        l(topic, partition, isLeader);
      } catch (err) {
        this.options.logger.error(
          `leadership change of ${topic}-${partition}: ${(err as Error).stack ?? err}`,
        );
      }
    }
  }

  wake(partition: Partition): void {
    this.options.waiters.notify(FetchWaiters.key(partition.topic, partition.index));
  }

  private countIsrChange(before: readonly number[], after: readonly number[]): void {
    const joined = after.filter((id) => !before.includes(id)).length;
    const left = before.filter((id) => !after.includes(id)).length;
    if (joined + left > 0) this.options.onIsrChange?.(joined, left);
  }

  proposeIsr(partition: Partition, proposal: IsrProposal): void {
    const channel = this.channel;
    if (channel === null) return;
    const { topic, index } = partition;
    this.options.logger.log(
      `proposing ISR [${proposal.isr}] for ${topic}-${index} (was [${partition.isr}], epoch ${proposal.leaderEpoch})`,
    );
    channel.alterPartition(topic, index, proposal).then(
      (committed) => {
        // against the ISR now: the cluster's notice of this change may have been applied first
        this.countIsrChange(partition.isr, committed.isr);
        partition.isrProposalDone(proposal, committed, Date.now());
      },
      (err: unknown) => {
        const code = errorCodeOf(err);
        const level = code === ErrorCode.UNKNOWN_SERVER_ERROR ? 'error' : 'warn';
        this.options.logger[level](`ISR change of ${topic}-${index} refused: ${(err as Error).message}`);
        partition.isrProposalDone(proposal, null, Date.now());
      },
    );
  }

  private shrinkIsrs(): void {
    const now = Date.now();
    for (const p of this.partitions.values()) {
      try {
        p.maybeShrinkIsr(now);
      } catch (err) {
        this.options.logger.error(`ISR check of ${p.topic}-${p.index}: ${(err as Error).stack ?? err}`);
      }
    }
  }

  /** Stops the timer and fails whatever still waits. */
  close(): void {
    if (this.shrinkTimer !== null) clearInterval(this.shrinkTimer);
    this.shrinkTimer = null;
    for (const p of this.partitions.values()) p.stop();
    this.partitions.clear();
  }
}
