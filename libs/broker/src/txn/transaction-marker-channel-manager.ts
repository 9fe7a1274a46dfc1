import { ErrorCode } from '@tributary/protocol';
import type { BrokerLogger, ClusterView } from '../broker-context';
import type { TransactionVerification, TxnMarkerEntry } from '../replica/replica-manager';
import type { TransactionStateManager } from './transaction-state-manager';
import type { TopicPartition, TransactionMetadata, TxnTransitMetadata } from './transaction-metadata';

export interface MarkerPartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
}

/**
 * Writes markers to partitions: locally (the ReplicaManager, for partitions this broker
 * leads) or through a WriteTxnMarkers request to another broker. Resolves with each entry's
 * results, in order; rejects when the broker could not be reached (every partition is retried).
 */
export type MarkerWriter = (markers: readonly TxnMarkerEntry[]) => Promise<MarkerPartitionResult[][]>;

/**
 * Transactions' requests to other brokers of a cluster, over the inter-broker listener:
 * WriteTxnMarkers to partition leaders, and AddPartitionsToTxn verifyOnly to coordinators.
 */
export interface TxnBrokerChannel {
  writeTxnMarkers(brokerId: number, markers: readonly TxnMarkerEntry[]): Promise<MarkerPartitionResult[][]>;
  verifyPartitions(brokerId: number, request: TransactionVerification): Promise<MarkerPartitionResult[]>;
  close(): void;
}

/** Errors after which a partition's marker is sent again, to whoever leads it then. */
const RETRIABLE = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.NETWORK_EXCEPTION,
  ErrorCode.BROKER_NOT_AVAILABLE,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

const RETRY_BACKOFF_MS = 100;
const MAX_RETRY_BACKOFF_MS = 1000;

/**
 * Markers waiting for one destination (this broker, or another one): each request carries
 * everything queued since the previous one was answered, one request in flight at a time, as
 * Kafka's marker channel does. An entry per producer id per request, since the answer is keyed by it.
 */
class MarkerQueue {
  private queued: {
    marker: TxnMarkerEntry;
    resolve: (r: MarkerPartitionResult[]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private inFlight = false;

  constructor(private readonly write: MarkerWriter) {}

  send(marker: TxnMarkerEntry): Promise<MarkerPartitionResult[]> {
    return new Promise((resolve, reject) => {
      this.queued.push({ marker, resolve, reject });
      this.drain();
    });
  }

  private drain(): void {
    if (this.inFlight || this.queued.length === 0) return;
    const batch: typeof this.queued = [];
    const later: typeof this.queued = [];
    const producers = new Set<number>();
    for (const q of this.queued) {
      if (producers.has(q.marker.producerId)) later.push(q);
      else {
        producers.add(q.marker.producerId);
        batch.push(q);
      }
    }
    this.queued = later;
    this.inFlight = true;
    this.write(batch.map((q) => q.marker))
      .then(
        (results) => batch.forEach((q, i) => q.resolve(results[i] ?? [])),
        (err: unknown) => batch.forEach((q) => q.reject(err)),
      )
      .finally(() => {
        this.inFlight = false;
        this.drain();
      });
  }
}

export interface MarkerChannelOptions {
  readonly localId: number;
  readonly cluster: ClusterView;
  readonly stateManager: TransactionStateManager;
  /** Markers for partitions this broker leads. */
  readonly writeLocal: MarkerWriter;
  /** Markers for partitions other brokers lead; null on a lone broker, which leads every partition. */
  readonly sender: TxnBrokerChannel | null;
  readonly logger: BrokerLogger;
}

/**
 * Writes the markers of transactions being committed or aborted (Kafka's
 * TransactionMarkerChannelManager): each partition of the transaction gets its COMMIT or
 * ABORT marker from its current leader, retried until written (a partition whose topic was
 * deleted is skipped); then the transaction's Complete state is written to
 * __transaction_state. Sending stops when this broker no longer coordinates the
 * transactional id in the same coordinator epoch, or when a leader says the producer or the
 * coordinator has been fenced.
 */
export class TransactionMarkerChannelManager {
  private readonly local: MarkerQueue;
  private readonly remote = new Map<number, MarkerQueue>();
  /** Transactions whose markers are being written, by transactional id. */
  private readonly inProgress = new Map<string, TransactionMetadata>();
  private active = true;
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly options: MarkerChannelOptions) {
    this.local = new MarkerQueue(options.writeLocal);
  }

  /** Transactions whose markers are being written (for tests and metrics). */
  get pendingCount(): number {
    return this.inProgress.size;
  }

  /**
   * Writes `metadata`'s markers (it is PrepareCommit or PrepareAbort, with `complete` its
   * pending transition), then `complete`. Runs in the background; failures are logged.
   */
  addTxnMarkersToSend(
    coordinatorEpoch: number,
    committed: boolean,
    metadata: TransactionMetadata,
    complete: TxnTransitMetadata,
  ): void {
    this.inProgress.set(metadata.transactionalId, metadata);
    this.complete(coordinatorEpoch, committed, metadata, complete)
      .catch((err: unknown) =>
        this.options.logger.error(
          `transaction markers of ${metadata.transactionalId}: ${(err as Error).stack ?? String(err)}`,
        ),
      )
      .finally(() => {
        if (this.inProgress.get(metadata.transactionalId) === metadata)
          this.inProgress.delete(metadata.transactionalId);
      });
  }

  /** Stops: transactions left half-written are completed by whoever loads their partition next. */
  shutdown(): void {
    this.active = false;
    for (const wake of [...this.sleepers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** Whether this broker still coordinates the transaction as it did when sending started. */
  private stillCoordinating(metadata: TransactionMetadata, coordinatorEpoch: number): boolean {
    if (!this.active) return false;
    const state = this.options.stateManager.getTransactionState(metadata.transactionalId);
    const entry = 'entry' in state ? state.entry : undefined;
    return entry !== undefined && entry.metadata === metadata && entry.coordinatorEpoch === coordinatorEpoch;
  }

  private async complete(
    coordinatorEpoch: number,
    committed: boolean,
    metadata: TransactionMetadata,
    complete: TxnTransitMetadata,
  ): Promise<void> {
    const txnId = metadata.transactionalId;
    const result = committed ? 'COMMIT' : 'ABORT';
    let backoff = RETRY_BACKOFF_MS;
    for (;;) {
      if (!this.stillCoordinating(metadata, coordinatorEpoch)) {
        this.options.logger.log(
          `transactional id ${txnId}: no longer its coordinator, ${result} markers not sent`,
        );
        return;
      }
      const partitions = metadata.partitions;
      if (partitions.length === 0) break;
      const outcome = await this.sendRound(metadata, coordinatorEpoch, committed, partitions);
      if (outcome === 'fenced') return;
      if (metadata.topicPartitions.size === 0) break;
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS);
    }
    backoff = RETRY_BACKOFF_MS;
    for (;;) {
      const errorCode = await this.options.stateManager.appendTransactionToLog(
        txnId,
        coordinatorEpoch,
        complete,
        (code) => code === ErrorCode.COORDINATOR_NOT_AVAILABLE,
      );
      if (errorCode === ErrorCode.NONE) return;
      if (errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE || !this.active) {
        this.options.logger.warn(
          `transactional id ${txnId}: ${complete.txnState} not written (error ${errorCode}); its next coordinator completes it`,
        );
        return;
      }
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS);
    }
  }

  /**
   * One attempt at every partition still waiting: grouped by leader, sent, and each written
   * one removed from the transaction. 'fenced' when a leader refused the producer's epoch or
   * this coordinator's (the transaction is someone else's to finish).
   */
  private async sendRound(
    metadata: TransactionMetadata,
    coordinatorEpoch: number,
    committed: boolean,
    partitions: readonly TopicPartition[],
  ): Promise<'sent' | 'fenced'> {
    const { cluster, localId, sender, logger } = this.options;
    const byLeader = new Map<number, TopicPartition[]>();
    for (const tp of partitions) {
      const topic = cluster.topic(tp.topic);
      if (topic === undefined || tp.partition >= topic.numPartitions) {
        // Kafka skips a partition with no metadata: its topic was deleted, nobody reads it.
        logger.log(
          `transactional id ${metadata.transactionalId}: ${tp.topic}-${tp.partition} no longer exists, its marker is skipped`,
        );
        metadata.removePartition(tp);
        continue;
      }
      const leader = cluster.leadership(tp.topic, tp.partition).leaderId;
      if (leader < 0 || (leader !== localId && sender === null)) continue;
      const list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, [tp]);
      else list.push(tp);
    }
    const sends = [...byLeader].map(async ([leader, tps]) => {
      const marker: TxnMarkerEntry = {
        producerId: metadata.producerId,
        producerEpoch: metadata.producerEpoch,
        coordinatorEpoch,
        committed,
        partitions: tps,
      };
      try {
        return await this.queueFor(leader).send(marker);
      } catch (err) {
        logger.warn(
          `transactional id ${metadata.transactionalId}: markers to broker ${leader} failed, retrying: ${(err as Error).message}`,
        );
        return [];
      }
    });
    const results = (await Promise.all(sends)).flat();
    if (!this.stillCoordinating(metadata, coordinatorEpoch)) return 'sent';
    for (const r of results) {
      if (r.errorCode === ErrorCode.NONE) {
        metadata.removePartition(r);
      } else if (
        r.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH ||
        r.errorCode === ErrorCode.TRANSACTION_COORDINATOR_FENCED
      ) {
        logger.warn(
          `transactional id ${metadata.transactionalId}: ${r.topic}-${r.partition} refused its marker (error ${r.errorCode}): the producer or this coordinator was fenced, markers no longer sent`,
        );
        return 'fenced';
      } else if (
        r.errorCode === ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT ||
        r.errorCode === ErrorCode.UNSUPPORTED_VERSION
      ) {
        metadata.removePartition(r);
      } else if (!RETRIABLE.has(r.errorCode)) {
        logger.error(
          `transactional id ${metadata.transactionalId}: unexpected error ${r.errorCode} writing the marker of ${r.topic}-${r.partition}, retrying`,
        );
      }
    }
    return 'sent';
  }

  private queueFor(leader: number): MarkerQueue {
    if (leader === this.options.localId) return this.local;
    let q = this.remote.get(leader);
    if (q === undefined) {
      const sender = this.options.sender!;
      q = new MarkerQueue((markers) => sender.writeTxnMarkers(leader, markers));
      this.remote.set(leader, q);
    }
    return q;
  }
}
