import { decodeRecordBatch, encodeRecordBatch, ErrorCode, errorCodeOf } from '@tributary/protocol';
import type { LogManager, PartitionLog } from '@tributary/storage';
import type { BrokerLogger } from '../broker-context';
import { visitBatches } from '../internal-topic-reader';
import type { ReplicaManager } from '../replica/replica-manager';
import type { TransactionConfig } from './transaction-config';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  TRANSACTION_STATE_TOPIC,
  transactionPartitionFor,
  type TransactionLogValue,
} from './transaction-log';
import {
  isExpirationAllowed,
  TRANSACTION_STATES,
  TransactionMetadata,
  type TransactionState,
  type TxnTransitMetadata,
} from './transaction-metadata';

/** How long a write to __transaction_state waits for its ISR (Kafka's request.timeout.ms). */
const TXN_LOG_APPEND_TIMEOUT_MS = 30_000;

export interface CoordinatorEpochAndMetadata {
  readonly coordinatorEpoch: number;
  readonly metadata: TransactionMetadata;
}

/** A transactional id's state here, or the error a client gets (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE). */
export type TransactionStateResult =
  | { readonly errorCode: number }
  | { readonly errorCode: 0; readonly entry: CoordinatorEpochAndMetadata | undefined };

interface TxnPartitionCache {
  /** The leader epoch of the partition when this broker took it over: the coordinator epoch of its markers. */
  readonly coordinatorEpoch: number;
  readonly metadata: Map<string, TransactionMetadata>;
}

export interface TransactionStateManagerOptions {
  readonly config: TransactionConfig;
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly logger: BrokerLogger;
  /** Partitions of the topic as the cluster knows it; the local topic's when left out. */
  readonly numPartitions?: () => number | undefined;
  /** Makes sure the topic exists (true when usable now, false while a cluster creates it); created locally when left out. */
  readonly ensureTopic?: () => boolean;
}

export interface ListedTransaction {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly state: TransactionState;
}

/**
 * The transactional ids of the __transaction_state partitions this broker leads (Kafka's
 * TransactionStateManager): loaded when it becomes a partition's leader, dropped when it
 * stops (NOT_COORDINATOR), and each state change written to the partition, with acks=all,
 * before it is applied. A lone broker leads every partition of the topic.
 */
export class TransactionStateManager {
  private readonly caches = new Map<number, TxnPartitionCache>();
  /** Null: every partition (a lone broker); otherwise those this broker leads. */
  private owned: Set<number> | null = null;
  private active = false;

  constructor(private readonly options: TransactionStateManagerOptions) {}

  /** A lone broker loads every partition it has; a cluster's broker waits to lead them (onElection). */
  startup(ownAllPartitions: boolean): TransactionMetadataToComplete[] {
    this.owned = ownAllPartitions ? null : new Set();
    this.active = true;
    if (!ownAllPartitions) return [];
    const loaded: TransactionMetadataToComplete[] = [];
    for (const partition of this.options.logs.partitions(TRANSACTION_STATE_TOPIC).keys())
      loaded.push(...this.loadPartition(partition));
    return loaded;
  }

  shutdown(): void {
    this.active = false;
    this.caches.clear();
  }

  get isActive(): boolean {
    return this.active;
  }

  get numPartitions(): number {
    return (
      this.options.numPartitions?.() ??
      this.options.logs.topic(TRANSACTION_STATE_TOPIC)?.numPartitions ??
      this.options.config.stateLogNumPartitions
    );
  }

  partitionFor(transactionalId: string): number {
    return transactionPartitionFor(transactionalId, this.numPartitions);
  }

  /** The configs __transaction_state is created with (min.insync.replicas at most its replicas). */
  static topicConfigs(config: TransactionConfig, replicationFactor: number): Record<string, string> {
    return {
      'cleanup.policy': 'compact',
      'compression.type': 'uncompressed',
      'min.insync.replicas': String(Math.max(1, Math.min(config.stateLogMinIsr, replicationFactor))),
      'segment.bytes': String(config.stateLogSegmentBytes),
      'unclean.leader.election.enable': 'false',
    };
  }

  /** Creates __transaction_state when it does not exist yet; false while a cluster is still creating it. */
  ensureTopic(): boolean {
    if (this.options.ensureTopic !== undefined) return this.options.ensureTopic();
    const { logs, config } = this.options;
    if (logs.topic(TRANSACTION_STATE_TOPIC) === undefined)
      logs.createTopic(
        TRANSACTION_STATE_TOPIC,
        config.stateLogNumPartitions,
        TransactionStateManager.topicConfigs(config, 1),
      );
    return true;
  }

  /** The cache of a partition this broker coordinates; a lone broker's is made on first use. */
  private cacheOf(partition: number): TxnPartitionCache | undefined {
    const cache = this.caches.get(partition);
    if (cache !== undefined || this.owned !== null) return cache;
    const fresh: TxnPartitionCache = { coordinatorEpoch: this.leaderEpoch(partition), metadata: new Map() };
    this.caches.set(partition, fresh);
    return fresh;
  }

  private leaderEpoch(partition: number): number {
    return Math.max(0, this.options.replicas.get(TRANSACTION_STATE_TOPIC, partition)?.leaderEpoch ?? 0);
  }

  isCoordinatorFor(transactionalId: string): boolean {
    const partition = this.partitionFor(transactionalId);
    return this.owned === null || this.owned.has(partition);
  }

  getTransactionState(transactionalId: string): TransactionStateResult {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    if (!this.isCoordinatorFor(transactionalId)) return { errorCode: ErrorCode.NOT_COORDINATOR };
    const cache = this.cacheOf(this.partitionFor(transactionalId));
    if (cache === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR };
    const metadata = cache.metadata.get(transactionalId);
    return {
      errorCode: ErrorCode.NONE,
      entry: metadata === undefined ? undefined : { coordinatorEpoch: cache.coordinatorEpoch, metadata },
    };
  }

  /** Adds a new transactional id's metadata, or returns the one another request added meanwhile. */
  putTransactionStateIfNotExists(metadata: TransactionMetadata): TransactionStateResult {
    const state = this.getTransactionState(metadata.transactionalId);
    if (state.errorCode !== ErrorCode.NONE || !('entry' in state) || state.entry !== undefined) return state;
    const cache = this.cacheOf(this.partitionFor(metadata.transactionalId))!;
    cache.metadata.set(metadata.transactionalId, metadata);
    return { errorCode: ErrorCode.NONE, entry: { coordinatorEpoch: cache.coordinatorEpoch, metadata } };
  }

  /**
   * Writes a transition to the transactional id's partition and waits for its ISR; then, if
   * this broker still coordinates the id in the same epoch, applies it (a Dead id is
   * removed). On failure the pending state is cleared so the client may retry, unless
   * `retryOnError` says the caller will retry the same transition itself. Resolves with the
   * error code a client gets (Kafka's mapping of append errors).
   */
  async appendTransactionToLog(
    transactionalId: string,
    coordinatorEpoch: number,
    transit: TxnTransitMetadata,
    retryOnError: (errorCode: number) => boolean = () => false,
  ): Promise<number> {
    const partitionIndex = this.partitionFor(transactionalId);
    const value: TransactionLogValue | null =
      transit.txnState === 'Dead'
        ? null
        : {
            producerId: transit.producerId,
            producerEpoch: transit.producerEpoch,
            transactionTimeoutMs: transit.txnTimeoutMs,
            state: transit.txnState,
            topicPartitions: transit.topicPartitions,
            lastUpdateTimestamp: transit.txnLastUpdateTimestamp,
            startTimestamp: transit.txnStartTimestamp,
          };
    const batch = encodeRecordBatch({
      records: [
        {
          key: encodeTransactionLogKey(transactionalId),
          value: value === null ? null : encodeTransactionLogValue(value),
          timestamp: Date.now(),
        },
      ],
    });
    let errorCode: number;
    // A lone broker asked before any FindCoordinator creates the topic now.
    const partition = this.ensureTopic()
      ? this.options.replicas.get(TRANSACTION_STATE_TOPIC, partitionIndex)
      : undefined;
    if (partition === undefined) errorCode = ErrorCode.NOT_COORDINATOR;
    else {
      try {
        const appended = partition.appendAsLeader(batch, -1, Date.now());
        errorCode = await partition.waitForReplication(appended.lastOffset + 1, TXN_LOG_APPEND_TIMEOUT_MS);
      } catch (err) {
        errorCode = errorCodeOf(err);
      }
    }
    errorCode = appendErrorCode(errorCode);
    const state = this.getTransactionState(transactionalId);
    const entry = 'entry' in state ? state.entry : undefined;
    if (entry === undefined || entry.coordinatorEpoch !== coordinatorEpoch) {
      // The partition moved (or was reloaded) meanwhile: its new coordinator has the truth.
      if (errorCode === ErrorCode.NONE) {
        this.options.logger.warn(
          `transactional id ${transactionalId}: ${transit.txnState} was written, but this broker no longer coordinates it in epoch ${coordinatorEpoch}`,
        );
      }
      return ErrorCode.NOT_COORDINATOR;
    }
    const metadata = entry.metadata;
    if (errorCode !== ErrorCode.NONE) {
      this.options.logger.warn(
        `transactional id ${transactionalId}: writing ${transit.txnState} to ${TRANSACTION_STATE_TOPIC}-${partitionIndex} failed (error ${errorCode})`,
      );
      if (!retryOnError(errorCode)) metadata.pendingState = null;
      return errorCode;
    }
    if (transit.txnState === 'Dead') {
      this.caches.get(partitionIndex)?.metadata.delete(transactionalId);
      return ErrorCode.NONE;
    }
    metadata.completeTransitionTo(transit);
    return ErrorCode.NONE;
  }

  /**
   * This broker leads a partition (in `coordinatorEpoch`): its transactional ids are read
   * from the log. Returns those whose markers were being written (PrepareCommit,
   * PrepareAbort), for the coordinator to finish.
   */
  onElection(partition: number): TransactionMetadataToComplete[] {
    if (this.owned === null) return [];
    this.owned.add(partition);
    return this.loadPartition(partition);
  }

  /** This broker no longer leads the partition: its transactional ids are forgotten here. */
  onResignation(partition: number): void {
    if (this.owned === null) return;
    this.owned.delete(partition);
    const cache = this.caches.get(partition);
    this.caches.delete(partition);
    if (cache !== undefined && cache.metadata.size > 0)
      this.options.logger.log(
        `unloaded ${cache.metadata.size} transactional id(s) of ${TRANSACTION_STATE_TOPIC}-${partition}`,
      );
  }

  private loadPartition(partition: number): TransactionMetadataToComplete[] {
    const log = this.options.logs.partition(TRANSACTION_STATE_TOPIC, partition);
    const coordinatorEpoch = this.leaderEpoch(partition);
    const metadata = new Map<string, TransactionMetadata>();
    if (log !== undefined) this.readPartition(log, partition, metadata);
    this.caches.set(partition, { coordinatorEpoch, metadata });
    if (metadata.size > 0)
      this.options.logger.log(
        `loaded ${metadata.size} transactional id(s) from ${TRANSACTION_STATE_TOPIC}-${partition} (coordinator epoch ${coordinatorEpoch})`,
      );
    return [...metadata.values()]
      .filter((m) => m.state === 'PrepareCommit' || m.state === 'PrepareAbort')
      .map((m) => ({ coordinatorEpoch, metadata: m }));
  }

  /** Reads a partition to its end: later records win, a tombstone removes; unreadable records are skipped with a warning. */
  private readPartition(log: PartitionLog, partition: number, into: Map<string, TransactionMetadata>): void {
    const warn = (what: string, offset: number, err: unknown): void =>
      this.options.logger.warn(
        `${TRANSACTION_STATE_TOPIC}-${partition}: skipping unreadable ${what} at offset ${offset}: ${(err as Error).message}`,
      );
    visitBatches(log, this.options.config.stateLogLoadBufferSize, (header, records, at) => {
      if (header.isControl) return;
      let batch;
      try {
        batch = decodeRecordBatch(records, at).records;
      } catch (err) {
        warn('batch', header.baseOffset, err);
        return;
      }
      for (const record of batch) {
        try {
          if (record.key === null) continue;
          const transactionalId = decodeTransactionLogKey(record.key);
          if (transactionalId === null) continue;
          if (record.value === null) {
            into.delete(transactionalId);
            continue;
          }
          const v = decodeTransactionLogValue(record.value);
          into.set(
            transactionalId,
            new TransactionMetadata(transactionalId, {
              producerId: v.producerId,
              producerEpoch: v.producerEpoch,
              txnTimeoutMs: v.transactionTimeoutMs,
              state: v.state,
              topicPartitions: v.topicPartitions,
              txnStartTimestamp: v.startTimestamp,
              txnLastUpdateTimestamp: v.lastUpdateTimestamp,
            }),
          );
        } catch (err) {
          warn('record', record.offset, err);
        }
      }
    });
  }

  /** Every transactional id this broker coordinates, with its partition's coordinator epoch. */
  *entries(): Generator<CoordinatorEpochAndMetadata> {
    for (const cache of this.caches.values()) {
      for (const metadata of cache.metadata.values())
        yield { coordinatorEpoch: cache.coordinatorEpoch, metadata };
    }
  }

  /** Ongoing transactions past their transaction.timeout.ms with no transition in progress. */
  timedOutTransactions(now: number): CoordinatorEpochAndMetadata[] {
    return [...this.entries()].filter(
      ({ metadata: m }) =>
        !m.pendingTransitionInProgress && m.state === 'Ongoing' && m.txnStartTimestamp + m.txnTimeoutMs < now,
    );
  }

  /** Transactional ids idle for transactional.id.expiration.ms with no transaction in progress. */
  expiredTransactionalIds(now: number): CoordinatorEpochAndMetadata[] {
    const expirationMs = this.options.config.transactionalIdExpirationMs;
    return [...this.entries()].filter(
      ({ metadata: m }) =>
        !m.pendingTransitionInProgress &&
        isExpirationAllowed(m.state) &&
        m.txnLastUpdateTimestamp <= now - expirationMs,
    );
  }

  /**
   * ListTransactions: the ids in the given states (by name; names that are no state come
   * back as unknown) and with the given producer ids, running for longer than
   * `durationFilterMs` when that is not negative. Dead ids are on their way out: never listed.
   */
  listTransactions(
    producerIds: readonly number[],
    stateNames: readonly string[],
    durationFilterMs: number,
    now: number,
  ): { unknownStateFilters: string[]; transactions: ListedTransaction[] } {
    const known = new Set<string>(TRANSACTION_STATES);
    const states = new Set(stateNames.filter((s) => known.has(s)));
    const ids = new Set(producerIds);
    const transactions: ListedTransaction[] = [];
    for (const { metadata: m } of this.entries()) {
      if (m.state === 'Dead') continue;
      if (ids.size > 0 && !ids.has(m.producerId)) continue;
      if (stateNames.length > 0 && !states.has(m.state)) continue;
      if (durationFilterMs >= 0 && now - m.txnStartTimestamp <= durationFilterMs) continue;
      transactions.push({ transactionalId: m.transactionalId, producerId: m.producerId, state: m.state });
    }
    return { unknownStateFilters: stateNames.filter((s) => !known.has(s)), transactions };
  }
}

/** A transaction loaded while its markers were being written: the coordinator writes them again. */
export interface TransactionMetadataToComplete {
  readonly coordinatorEpoch: number;
  readonly metadata: TransactionMetadata;
}

/** An append to __transaction_state failed: the error a client gets (Kafka's TransactionStateManager mapping). */
function appendErrorCode(code: number): number {
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
