import { ErrorCode, errorCodeOf, KafkaProtocolError } from '@tributary/protocol';
import type { BrokerLogger } from '../broker-context';
import type { ProducerIdManager } from '../producer-id-manager';
import type { TransactionConfig } from './transaction-config';
import { TRANSACTION_STATE_TOPIC } from './transaction-log';
import type { TransactionMarkerChannelManager } from './transaction-marker-channel-manager';
import {
  IllegalTransitionError,
  isEpochExhausted,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  TransactionMetadata,
  tpKey,
  type TopicPartition,
  type TransactionState,
  type TxnTransitMetadata,
} from './transaction-metadata';
import type {
  CoordinatorEpochAndMetadata,
  ListedTransaction,
  TransactionMetadataToComplete,
  TransactionStateManager,
} from './transaction-state-manager';

export interface InitProducerIdResult {
  readonly errorCode: number;
  readonly producerId: number;
  readonly producerEpoch: number;
}

export interface TransactionDescription {
  readonly errorCode: number;
  readonly transactionalId: string;
  readonly state: TransactionState | '';
  readonly transactionTimeoutMs: number;
  readonly transactionStartTimeMs: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly topicPartitions: readonly TopicPartition[];
}

export interface TransactionCoordinatorOptions {
  readonly config: TransactionConfig;
  readonly stateManager: TransactionStateManager;
  readonly markers: TransactionMarkerChannelManager;
  readonly producerIds: ProducerIdManager;
  readonly logger: BrokerLogger;
}

/** DescribeTransactions' answer for an id that is not described: only its error. */
export function undescribedTransaction(transactionalId: string, errorCode: number): TransactionDescription {
  return {
    errorCode,
    transactionalId,
    state: '',
    transactionTimeoutMs: 0,
    transactionStartTimeMs: -1,
    producerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    topicPartitions: [],
  };
}

type Prepared =
  | { readonly errorCode: number }
  | { readonly coordinatorEpoch: number; readonly transit: TxnTransitMetadata };

const fail = (errorCode: number): { errorCode: number } => ({ errorCode });
const initError = (errorCode: number): InitProducerIdResult => ({
  errorCode,
  producerId: NO_PRODUCER_ID,
  producerEpoch: NO_PRODUCER_EPOCH,
});

/**
 * Kafka's transaction coordinator (KIP-98, with KIP-360's epoch bumps) for the transactional
 * ids of the __transaction_state partitions this broker leads. InitProducerId gives a
 * transactional id its producer id and a new epoch, which fences the previous instance and
 * aborts its transaction; AddPartitionsToTxn and AddOffsetsToTxn start and grow a
 * transaction; EndTxn prepares its commit or abort, answers, and has the markers written.
 * Each change is in __transaction_state before it is answered. Timers abort transactions
 * past their transaction.timeout.ms (fencing the producer, as Kafka does) and remove ids
 * idle for transactional.id.expiration.ms. Everything runs on the event loop; a change in
 * progress (a write awaited) holds the id's pending state, and other changes meanwhile are
 * answered CONCURRENT_TRANSACTIONS.
 */
export class TransactionCoordinator {
  private readonly config: TransactionConfig;
  private readonly state: TransactionStateManager;
  private readonly markers: TransactionMarkerChannelManager;
  private readonly producerIds: ProducerIdManager;
  private readonly logger: BrokerLogger;
  private active = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(options: TransactionCoordinatorOptions) {
    this.config = options.config;
    this.state = options.stateManager;
    this.markers = options.markers;
    this.producerIds = options.producerIds;
    this.logger = options.logger;
  }

  get isActive(): boolean {
    return this.active;
  }

  get stateManager(): TransactionStateManager {
    return this.state;
  }

  /** A background task must never throw out of the event loop: failures are logged. */
  private onTimer(what: string, task: () => Promise<void>): () => void {
    return () => {
      task().catch((err: unknown) =>
        this.logger.error(`transaction coordinator: ${what} failed: ${(err as Error).stack ?? String(err)}`),
      );
    };
  }

  /**
   * Starts the timers and, on a lone broker (ownAllPartitions), loads every partition of
   * __transaction_state and completes the transactions whose markers were being written.
   */
  startup(ownAllPartitions: boolean): void {
    const loaded = this.state.startup(ownAllPartitions);
    this.active = true;
    this.resumeMarkers(loaded);
    const abort = setInterval(
      this.onTimer('aborting timed out transactions', () => this.abortTimedOutTransactions(Date.now())),
      this.config.abortTimedOutTransactionCleanupIntervalMs,
    );
    const expire = setInterval(
      this.onTimer('removing expired transactional ids', () =>
        this.removeExpiredTransactionalIds(Date.now()),
      ),
      this.config.removeExpiredTransactionalIdCleanupIntervalMs,
    );
    abort.unref();
    expire.unref();
    this.timers = [abort, expire];
  }

  shutdown(): void {
    this.active = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.markers.shutdown();
    this.state.shutdown();
  }

  /** This broker now leads a partition of __transaction_state (Kafka's onElection). */
  onElection(partition: number): void {
    try {
      this.resumeMarkers(this.state.onElection(partition));
    } catch (err) {
      this.logger.error(
        `loading ${TRANSACTION_STATE_TOPIC}-${partition} failed: ${(err as Error).stack ?? String(err)}`,
      );
    }
  }

  onResignation(partition: number): void {
    this.state.onResignation(partition);
  }

  /** Transactions loaded half-ended: their markers are written again, then their completion. */
  private resumeMarkers(loaded: readonly TransactionMetadataToComplete[]): void {
    const now = Date.now();
    for (const { coordinatorEpoch, metadata } of loaded) {
      const committed = metadata.state === 'PrepareCommit';
      this.logger.log(
        `transactional id ${metadata.transactionalId}: completing its ${committed ? 'commit' : 'abort'} after taking it over`,
      );
      this.markers.addTxnMarkersToSend(coordinatorEpoch, committed, metadata, metadata.prepareComplete(now));
    }
  }

  partitionFor(transactionalId: string): number {
    return this.state.partitionFor(transactionalId);
  }

  // ---- InitProducerId ---------------------------------------------------------------------

  /**
   * InitProducerId with a transactional id. `expected` (v3+) is the producer id and epoch the
   * producer has, when it recovers from an error (KIP-360).
   */
  async initProducerId(
    transactionalId: string,
    transactionTimeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
  ): Promise<InitProducerIdResult> {
    if (transactionalId === '') return initError(ErrorCode.INVALID_REQUEST);
    if (transactionTimeoutMs <= 0 || transactionTimeoutMs > this.config.maxTimeoutMs)
      return initError(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let found = this.state.getTransactionState(transactionalId);
    if (found.errorCode !== ErrorCode.NONE) return initError(found.errorCode);
    try {
      if ('entry' in found && found.entry === undefined) {
        const producerId = await this.producerIds.generateProducerId();
        found = this.state.putTransactionStateIfNotExists(
          new TransactionMetadata(transactionalId, {
            producerId,
            producerEpoch: NO_PRODUCER_EPOCH,
            txnTimeoutMs: transactionTimeoutMs,
            state: 'Empty',
            txnLastUpdateTimestamp: Date.now(),
          }),
        );
      }
      let rotatedId: number | null = null;
      for (;;) {
        const entry = 'entry' in found ? found.entry : undefined;
        if (found.errorCode !== ErrorCode.NONE || entry === undefined)
          return initError(found.errorCode || ErrorCode.NOT_COORDINATOR);
        const prepared = this.prepareInitProducerIdTransit(entry, transactionTimeoutMs, expected, rotatedId);
        if (prepared === 'needs-new-producer-id') {
          rotatedId = await this.producerIds.generateProducerId();
          found = this.state.getTransactionState(transactionalId);
          continue;
        }
        if ('errorCode' in prepared) return initError(prepared.errorCode);
        const { coordinatorEpoch, transit } = prepared;
        if (transit.txnState === 'PrepareEpochFence') {
          // The previous instance's transaction is aborted first, under a bumped epoch that is
          // never returned; the producer retries and then gets a second bump.
          const code = await this.endTransaction(
            transactionalId,
            transit.producerId,
            transit.producerEpoch,
            false,
            false,
          );
          return initError(code === ErrorCode.NONE ? ErrorCode.CONCURRENT_TRANSACTIONS : code);
        }
        const code = await this.state.appendTransactionToLog(transactionalId, coordinatorEpoch, transit);
        if (code !== ErrorCode.NONE) return initError(code);
        this.logger.log(
          `transactional id ${transactionalId}: producer id ${transit.producerId} epoch ${transit.producerEpoch}`,
        );
        return {
          errorCode: ErrorCode.NONE,
          producerId: transit.producerId,
          producerEpoch: transit.producerEpoch,
        };
      }
    } catch (err) {
      if (!(err instanceof KafkaProtocolError)) this.unexpected(`InitProducerId of ${transactionalId}`, err);
      return initError(errorCodeOf(err));
    }
  }

  /** A state the coordinator should never reach (Kafka's IllegalStateException): logged, UNKNOWN_SERVER_ERROR. */
  private unexpected(what: string, err: unknown): number {
    this.logger.error(`transaction coordinator: ${what} failed: ${(err as Error).stack ?? String(err)}`);
    return ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  private prepareInitProducerIdTransit(
    { coordinatorEpoch, metadata: m }: CoordinatorEpochAndMetadata,
    transactionTimeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
    rotatedId: number | null,
  ): Prepared | 'needs-new-producer-id' {
    if (m.pendingTransitionInProgress) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    // The producer's id must be the current one, unless the metadata was just created (it
    // recovers from UNKNOWN_PRODUCER_ID) or it is the previous one with an exhausted epoch (a
    // retry of the rotation it never heard of).
    if (
      expected !== null &&
      !(
        m.producerEpoch === NO_PRODUCER_EPOCH ||
        expected.producerId === m.producerId ||
        (expected.producerId === m.lastProducerId && isEpochExhausted(expected.producerEpoch))
      )
    )
      return fail(ErrorCode.PRODUCER_FENCED);
    switch (m.state) {
      case 'PrepareAbort':
      case 'PrepareCommit':
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'CompleteAbort':
      case 'CompleteCommit':
      case 'Empty': {
        if (m.isProducerEpochExhausted && (expected === null || expected.producerEpoch === m.producerEpoch)) {
          if (rotatedId === null) return 'needs-new-producer-id';
          return {
            coordinatorEpoch,
            transit: m.prepareProducerIdRotation(
              rotatedId,
              transactionTimeoutMs,
              Date.now(),
              expected !== null,
            ),
          };
        }
        return {
          coordinatorEpoch,
          transit: m.prepareIncrementProducerEpoch(
            transactionTimeoutMs,
            expected?.producerEpoch ?? null,
            Date.now(),
          ),
        };
      }
      case 'Ongoing':
        return { coordinatorEpoch, transit: m.prepareFenceProducerEpoch() };
      default:
        throw new IllegalTransitionError(
          `transactional id ${m.transactionalId} is ${m.state}, which it never should be here`,
        );
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn -------------------------------------------------

  /** Adds partitions to the producer's transaction (starting it); the error code for all of them. */
  async addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<number> {
    try {
      return await this.doAddPartitions(transactionalId, producerId, producerEpoch, partitions);
    } catch (err) {
      return this.unexpected(`AddPartitionsToTxn of ${transactionalId}`, err);
    }
  }

  private async doAddPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const found = this.state.getTransactionState(transactionalId);
    if (found.errorCode !== ErrorCode.NONE) return found.errorCode;
    const entry = 'entry' in found ? found.entry : undefined;
    if (entry === undefined) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    const m = entry.metadata;
    if (m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (m.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort') return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (m.state === 'Ongoing' && partitions.every((tp) => m.topicPartitions.has(tpKey(tp))))
      return ErrorCode.NONE;
    const transit = m.prepareAddPartitions(partitions, Date.now());
    return this.state.appendTransactionToLog(transactionalId, entry.coordinatorEpoch, transit);
  }

  /**
   * AddPartitionsToTxn v4's verifyOnly (KIP-890): whether each partition is in the producer's
   * transaction (INVALID_TXN_STATE when not); an error for the whole transaction otherwise.
   */
  verifyPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly TopicPartition[],
  ): Map<string, number> {
    const all = (code: number) => new Map(partitions.map((tp) => [tpKey(tp), code]));
    if (transactionalId === '') return all(ErrorCode.INVALID_REQUEST);
    const found = this.state.getTransactionState(transactionalId);
    if (found.errorCode !== ErrorCode.NONE) return all(found.errorCode);
    const m = 'entry' in found ? found.entry?.metadata : undefined;
    if (m === undefined || m.producerId !== producerId) return all(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    if (m.producerEpoch !== producerEpoch) return all(ErrorCode.PRODUCER_FENCED);
    if (m.state === 'PrepareCommit' || m.state === 'PrepareAbort')
      return all(ErrorCode.CONCURRENT_TRANSACTIONS);
    return new Map(
      partitions.map((tp) => [
        tpKey(tp),
        m.topicPartitions.has(tpKey(tp)) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE,
      ]),
    );
  }

  // ---- EndTxn -----------------------------------------------------------------------------

  /** EndTxn from a producer: commit or abort its transaction. */
  async endTxn(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    committed: boolean,
  ): Promise<number> {
    try {
      return await this.endTransaction(transactionalId, producerId, producerEpoch, committed, true);
    } catch (err) {
      return this.unexpected(`EndTxn of ${transactionalId}`, err);
    }
  }

  /**
   * Prepares the commit or abort, and once that is in the log answers and has the markers
   * written. From the coordinator itself (isFromClient false: a fence by InitProducerId or a
   * timeout) the epoch may be the one just bumped, and the abort goes through the pending fence.
   */
  private async endTransaction(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    committed: boolean,
    isFromClient: boolean,
  ): Promise<number> {
    if (transactionalId === '') return ErrorCode.INVALID_REQUEST;
    const found = this.state.getTransactionState(transactionalId);
    if (found.errorCode !== ErrorCode.NONE) return found.errorCode;
    const entry = 'entry' in found ? found.entry : undefined;
    if (entry === undefined) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    const { coordinatorEpoch, metadata: m } = entry;
    let isEpochFence = false;
    if (m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // Producers must name their current epoch; the coordinator's own abort carries the bumped one.
    if ((isFromClient && producerEpoch !== m.producerEpoch) || producerEpoch < m.producerEpoch)
      return ErrorCode.PRODUCER_FENCED;
    if (m.pendingTransitionInProgress && m.pendingState !== 'PrepareEpochFence')
      return ErrorCode.CONCURRENT_TRANSACTIONS;
    let transit: TxnTransitMetadata;
    switch (m.state) {
      case 'Ongoing':
        if (!committed && m.pendingState === 'PrepareEpochFence') {
          // The fence's bump takes effect now, with the abort it makes way for.
          isEpochFence = true;
          m.pendingState = null;
          m.producerEpoch = producerEpoch;
          m.lastProducerEpoch = NO_PRODUCER_EPOCH;
        }
        transit = m.prepareAbortOrCommit(committed ? 'PrepareCommit' : 'PrepareAbort', Date.now());
        break;
      case 'CompleteCommit':
        return committed ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return committed ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case 'PrepareCommit':
        return committed ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case 'PrepareAbort':
        return committed ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      case 'Empty':
        return ErrorCode.INVALID_TXN_STATE;
      default:
        throw new IllegalTransitionError(
          `transactional id ${transactionalId} is ${m.state}, which it never should be here`,
        );
    }
    const code = await this.state.appendTransactionToLog(transactionalId, coordinatorEpoch, transit);
    if (code !== ErrorCode.NONE) {
      if (isEpochFence && this.state.getTransactionState(transactionalId).errorCode === ErrorCode.NONE)
        m.hasFailedEpochFence = true;
      return code;
    }
    // Still this transaction's coordinator, in the same epoch and state, before answering.
    const after = this.state.getTransactionState(transactionalId);
    const now = 'entry' in after ? after.entry : undefined;
    if (now === undefined || now.coordinatorEpoch !== coordinatorEpoch || now.metadata !== m)
      return ErrorCode.NOT_COORDINATOR;
    if (m.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (m.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (m.pendingTransitionInProgress) return ErrorCode.CONCURRENT_TRANSACTIONS;
    // The write was awaited: the state is no longer what the switch above saw.
    if ((m.state as TransactionState) !== (committed ? 'PrepareCommit' : 'PrepareAbort'))
      return ErrorCode.INVALID_TXN_STATE;
    this.markers.addTxnMarkersToSend(coordinatorEpoch, committed, m, m.prepareComplete(Date.now()));
    return ErrorCode.NONE;
  }

  // ---- DescribeTransactions / ListTransactions -------------------------------------------------

  describeTransaction(transactionalId: string): TransactionDescription {
    const none = (errorCode: number) => undescribedTransaction(transactionalId, errorCode);
    if (!this.active) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    if (transactionalId === '') return none(ErrorCode.INVALID_REQUEST);
    const found = this.state.getTransactionState(transactionalId);
    if (found.errorCode !== ErrorCode.NONE) return none(found.errorCode);
    const m = 'entry' in found ? found.entry?.metadata : undefined;
    if (m === undefined || m.state === 'Dead') return none(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    return {
      errorCode: ErrorCode.NONE,
      transactionalId,
      state: m.state,
      transactionTimeoutMs: m.txnTimeoutMs,
      transactionStartTimeMs: m.txnStartTimestamp,
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      topicPartitions: m.partitions,
    };
  }

  listTransactions(
    producerIds: readonly number[],
    states: readonly string[],
    durationFilterMs: number,
  ): { errorCode: number; unknownStateFilters: string[]; transactions: ListedTransaction[] } {
    if (!this.active)
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, unknownStateFilters: [], transactions: [] };
    return {
      errorCode: ErrorCode.NONE,
      ...this.state.listTransactions(producerIds, states, durationFilterMs, Date.now()),
    };
  }

  // ---- timers -------------------------------------------------------------------------------

  /** Aborts transactions past their timeout, fencing their producer with a bumped epoch (Kafka's way). */
  async abortTimedOutTransactions(now: number): Promise<void> {
    if (!this.active) return;
    const aborts = this.state.timedOutTransactions(now).map(async ({ metadata: m }) => {
      if (m.pendingTransitionInProgress || m.state !== 'Ongoing') return;
      const fence = m.prepareFenceProducerEpoch();
      this.logger.log(
        `transactional id ${m.transactionalId}: transaction of producer ${m.producerId} timed out after ${m.txnTimeoutMs} ms, aborting it`,
      );
      const code = await this.endTransaction(
        m.transactionalId,
        fence.producerId,
        fence.producerEpoch,
        false,
        false,
      );
      if (code !== ErrorCode.NONE)
        this.logger.warn(
          `transactional id ${m.transactionalId}: aborting the timed out transaction failed (error ${code})`,
        );
    });
    await Promise.all(aborts);
  }

  /** Removes transactional ids idle for transactional.id.expiration.ms (a tombstone in the log). */
  async removeExpiredTransactionalIds(now: number): Promise<void> {
    if (!this.active) return;
    const removals = this.state
      .expiredTransactionalIds(now)
      .map(async ({ coordinatorEpoch, metadata: m }) => {
        const code = await this.state.appendTransactionToLog(
          m.transactionalId,
          coordinatorEpoch,
          m.prepareDead(),
        );
        if (code === ErrorCode.NONE)
          this.logger.log(`transactional id ${m.transactionalId} expired and was removed`);
      });
    await Promise.all(removals);
  }
}
