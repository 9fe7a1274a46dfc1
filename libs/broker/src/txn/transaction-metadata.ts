import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';

/**
 * A transactional id's state at its coordinator (Kafka's TransactionState, before KIP-890's
 * transaction version 2). The id is what __transaction_state stores.
 *
 *   Empty / CompleteCommit / CompleteAbort --AddPartitions/AddOffsets--> Ongoing
 *   Ongoing --EndTxn--> PrepareCommit | PrepareAbort --markers written--> CompleteCommit | CompleteAbort
 *   Ongoing --InitProducerId or timeout--> PrepareEpochFence (never stored) --> PrepareAbort
 *   Empty / CompleteCommit / CompleteAbort --InitProducerId--> Empty (epoch bumped)
 *   Empty / CompleteCommit / CompleteAbort --transactional.id.expiration.ms--> Dead (a tombstone)
 */
export type TransactionState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

/** Each state's id in TransactionLogValue's TransactionStatus. */
export const TRANSACTION_STATE_IDS: Readonly<Record<TransactionState, number>> = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
};

export const TRANSACTION_STATES = Object.keys(TRANSACTION_STATE_IDS) as TransactionState[];

export function transactionStateOf(id: number): TransactionState {
  const state = TRANSACTION_STATES.find((s) => TRANSACTION_STATE_IDS[s] === id);
  if (state === undefined) throw KafkaProtocolError.corrupt(`unknown transaction state id ${id}`);
  return state;
}

const VALID_PREVIOUS: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  PrepareAbort: ['Ongoing', 'PrepareEpochFence'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

/** States in which a transactional id may expire (no transaction in progress). */
export function isExpirationAllowed(state: TransactionState): boolean {
  return state === 'Empty' || state === 'CompleteCommit' || state === 'CompleteAbort';
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
const SHORT_MAX = 32767;

/** The highest epochs are kept back so that the coordinator can always fence a producer with a bump. */
export function isEpochExhausted(epoch: number): boolean {
  return epoch >= SHORT_MAX - 1;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/** A state a transactional id is about to take, once it is in __transaction_state (Kafka's TxnTransitMetadata). */
export interface TxnTransitMetadata {
  readonly producerId: number;
  /** The producer id before the transition. */
  readonly lastProducerId: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly txnState: TransactionState;
  readonly topicPartitions: readonly TopicPartition[];
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

export class IllegalTransitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IllegalTransitionError';
  }
}

/**
 * One transactional id at its coordinator (Kafka's TransactionMetadata). A change is prepared
 * (`prepare*`, which sets the pending state and refuses another change meanwhile), written
 * to __transaction_state, and only then applied (`completeTransitionTo`); a failed write
 * clears the pending state. The producer's current id and epoch, the partitions of its
 * transaction in progress, and the timestamps expiry and timeouts count from.
 */
export class TransactionMetadata {
  producerId: number;
  lastProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  txnTimeoutMs: number;
  state: TransactionState;
  readonly topicPartitions = new Map<string, TopicPartition>();
  txnStartTimestamp: number;
  txnLastUpdateTimestamp: number;
  /** The state being written to the log; null when no transition is in progress. */
  pendingState: TransactionState | null = null;
  /** A fence whose write failed already bumped the epoch in memory: the next fence does not bump it again. */
  hasFailedEpochFence = false;

  constructor(
    readonly transactionalId: string,
    init: {
      producerId: number;
      lastProducerId?: number;
      producerEpoch: number;
      lastProducerEpoch?: number;
      txnTimeoutMs: number;
      state: TransactionState;
      topicPartitions?: readonly TopicPartition[];
      txnStartTimestamp?: number;
      txnLastUpdateTimestamp: number;
    },
  ) {
    this.producerId = init.producerId;
    this.lastProducerId = init.lastProducerId ?? NO_PRODUCER_ID;
    this.producerEpoch = init.producerEpoch;
    this.lastProducerEpoch = init.lastProducerEpoch ?? NO_PRODUCER_EPOCH;
    this.txnTimeoutMs = init.txnTimeoutMs;
    this.state = init.state;
    for (const tp of init.topicPartitions ?? []) this.topicPartitions.set(tpKey(tp), tp);
    this.txnStartTimestamp = init.txnStartTimestamp ?? -1;
    this.txnLastUpdateTimestamp = init.txnLastUpdateTimestamp;
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== null;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  get partitions(): TopicPartition[] {
    return [...this.topicPartitions.values()];
  }

  /** A partition's marker was written: it no longer waits (only while preparing to commit or abort). */
  removePartition(tp: TopicPartition): void {
    if (this.state !== 'PrepareCommit' && this.state !== 'PrepareAbort') {
      throw new IllegalTransitionError(
        `transactional id ${this.transactionalId} is ${this.state}: no marker should be in flight`,
      );
    }
    this.topicPartitions.delete(tpKey(tp));
  }

  /** Fences the producer: its epoch goes up by one, and its transaction in progress is aborted. */
  prepareFenceProducerEpoch(): TxnTransitMetadata {
    if (this.producerEpoch === SHORT_MAX) {
      throw new IllegalTransitionError(
        `cannot fence producer ${this.producerId}: its epoch is at its maximum`,
      );
    }
    const bumped = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo({
      state: 'PrepareEpochFence',
      producerEpoch: bumped,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      txnLastUpdateTimestamp: this.txnLastUpdateTimestamp,
    });
  }

  /**
   * InitProducerId's epoch bump. `expectedEpoch` (KIP-360, InitProducerId v3+) is the epoch the
   * producer has: the current one (it recovers after an error: bumped again), the previous
   * one (a retry of a bump it never heard of: the current epoch again), or a fenced one
   * (PRODUCER_FENCED).
   */
  prepareIncrementProducerEpoch(
    newTxnTimeoutMs: number,
    expectedEpoch: number | null,
    now: number,
  ): TxnTransitMetadata {
    if (this.isProducerEpochExhausted) {
      throw new IllegalTransitionError(
        `cannot allocate more producer epochs for producer ${this.producerId}`,
      );
    }
    const bumped = this.producerEpoch + 1;
    let epochs: { producerEpoch: number; lastProducerEpoch: number };
    if (expectedEpoch === null) epochs = { producerEpoch: bumped, lastProducerEpoch: NO_PRODUCER_EPOCH };
    else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch)
      epochs = { producerEpoch: bumped, lastProducerEpoch: this.producerEpoch };
    else if (expectedEpoch === this.lastProducerEpoch)
      epochs = { producerEpoch: this.producerEpoch, lastProducerEpoch: this.lastProducerEpoch };
    else {
      throw new KafkaProtocolError(
        ErrorCode.PRODUCER_FENCED,
        `producer epoch ${expectedEpoch} of ${this.transactionalId} is neither its current epoch ${this.producerEpoch} nor its previous one`,
      );
    }
    return this.prepareTransitionTo({
      state: 'Empty',
      ...epochs,
      txnTimeoutMs: newTxnTimeoutMs,
      topicPartitions: [],
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** A new producer id when the epochs of the current one are used up. */
  prepareProducerIdRotation(
    newProducerId: number,
    newTxnTimeoutMs: number,
    now: number,
    recordLastEpoch: boolean,
  ): TxnTransitMetadata {
    if (this.state === 'Ongoing' || this.state === 'PrepareAbort' || this.state === 'PrepareCommit') {
      throw new IllegalTransitionError('cannot rotate producer ids while a transaction is still pending');
    }
    return this.prepareTransitionTo({
      state: 'Empty',
      producerId: newProducerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      txnTimeoutMs: newTxnTimeoutMs,
      topicPartitions: [],
      txnStartTimestamp: -1,
      txnLastUpdateTimestamp: now,
    });
  }

  /** Partitions join the transaction, which starts now if none was in progress. */
  prepareAddPartitions(added: readonly TopicPartition[], now: number): TxnTransitMetadata {
    const starting =
      this.state === 'Empty' || this.state === 'CompleteCommit' || this.state === 'CompleteAbort';
    const partitions = new Map(this.topicPartitions);
    for (const tp of added) partitions.set(tpKey(tp), tp);
    return this.prepareTransitionTo({
      state: 'Ongoing',
      topicPartitions: [...partitions.values()],
      txnStartTimestamp: starting ? now : this.txnStartTimestamp,
      txnLastUpdateTimestamp: now,
    });
  }

  prepareAbortOrCommit(newState: 'PrepareCommit' | 'PrepareAbort', now: number): TxnTransitMetadata {
    return this.prepareTransitionTo({ state: newState, txnLastUpdateTimestamp: now });
  }

  /** Every marker is written: the transaction is complete and holds no partitions. */
  prepareComplete(now: number): TxnTransitMetadata {
    this.hasFailedEpochFence = false;
    return this.prepareTransitionTo({
      state: this.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort',
      topicPartitions: [],
      txnLastUpdateTimestamp: now,
    });
  }

  prepareDead(): TxnTransitMetadata {
    return this.prepareTransitionTo({ state: 'Dead', topicPartitions: [] });
  }

  private prepareTransitionTo(change: {
    state: TransactionState;
    producerId?: number;
    producerEpoch?: number;
    lastProducerEpoch?: number;
    txnTimeoutMs?: number;
    topicPartitions?: readonly TopicPartition[];
    txnStartTimestamp?: number;
    txnLastUpdateTimestamp?: number;
  }): TxnTransitMetadata {
    if (this.pendingState !== null) {
      throw new IllegalTransitionError(
        `transactional id ${this.transactionalId}: a transition to ${change.state} while one to ${this.pendingState} is in progress`,
      );
    }
    const producerId = change.producerId ?? this.producerId;
    const producerEpoch = change.producerEpoch ?? this.producerEpoch;
    if (producerId < 0) throw new IllegalTransitionError(`illegal new producer id ${producerId}`);
    if (change.state !== 'Dead' && producerEpoch < 0)
      throw new IllegalTransitionError(`illegal new producer epoch ${producerEpoch}`);
    if (!VALID_PREVIOUS[change.state].includes(this.state)) {
      throw new IllegalTransitionError(
        `transactional id ${this.transactionalId} cannot go from ${this.state} to ${change.state}`,
      );
    }
    this.pendingState = change.state;
    return {
      producerId,
      lastProducerId: this.producerId,
      producerEpoch,
      lastProducerEpoch: change.lastProducerEpoch ?? this.lastProducerEpoch,
      txnTimeoutMs: change.txnTimeoutMs ?? this.txnTimeoutMs,
      txnState: change.state,
      topicPartitions: change.topicPartitions ?? this.partitions,
      txnStartTimestamp: change.txnStartTimestamp ?? this.txnStartTimestamp,
      txnLastUpdateTimestamp: change.txnLastUpdateTimestamp ?? this.txnLastUpdateTimestamp,
    };
  }

  /**
   * Applies a transition now in the log. Checks, as Kafka does, that it is the pending one and
   * consistent with the current state (epoch kept or bumped by one or a new producer id;
   * partitions only added while Ongoing; the same partitions when preparing to end).
   */
  completeTransitionTo(t: TxnTransitMetadata): void {
    const toState = this.pendingState;
    const fail = (): never => {
      throw new IllegalTransitionError(
        `transactional id ${this.transactionalId} cannot complete the transition from ${this.state} to ${t.txnState} (pending ${toState})`,
      );
    };
    if (toState === null || toState !== t.txnState) fail();
    const sameProducer = t.producerId === this.producerId && t.producerEpoch === this.producerEpoch;
    switch (t.txnState) {
      case 'Empty': {
        const bumped =
          t.producerEpoch === this.producerEpoch + 1 ||
          (t.producerEpoch === 0 && t.producerId !== this.producerId);
        if (
          (t.producerEpoch !== this.producerEpoch && !bumped) ||
          t.topicPartitions.length > 0 ||
          t.txnStartTimestamp !== -1
        )
          fail();
        break;
      }
      case 'Ongoing': {
        const kept = [...this.topicPartitions.keys()];
        const next = new Set(t.topicPartitions.map(tpKey));
        if (!sameProducer || !kept.every((k) => next.has(k)) || t.txnTimeoutMs !== this.txnTimeoutMs) fail();
        break;
      }
      case 'PrepareCommit':
      case 'PrepareAbort': {
        const same =
          t.topicPartitions.length === this.topicPartitions.size &&
          t.topicPartitions.every((tp) => this.topicPartitions.has(tpKey(tp)));
        if (
          !sameProducer ||
          !same ||
          t.txnTimeoutMs !== this.txnTimeoutMs ||
          t.txnStartTimestamp !== this.txnStartTimestamp
        )
          fail();
        break;
      }
      case 'CompleteCommit':
      case 'CompleteAbort':
        if (!sameProducer || t.txnTimeoutMs !== this.txnTimeoutMs || t.txnStartTimestamp === -1) fail();
        break;
      default:
        // PrepareEpochFence is never written and Dead is removed, not applied.
        fail();
    }
    this.producerId = t.producerId;
    this.lastProducerId = t.lastProducerId;
    this.producerEpoch = t.producerEpoch;
    this.lastProducerEpoch = t.lastProducerEpoch;
    this.txnTimeoutMs = t.txnTimeoutMs;
    this.topicPartitions.clear();
    for (const tp of t.topicPartitions) this.topicPartitions.set(tpKey(tp), tp);
    this.txnStartTimestamp = t.txnStartTimestamp;
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.pendingState = null;
    this.state = t.txnState;
  }
}
