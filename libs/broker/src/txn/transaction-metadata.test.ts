import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import {
  IllegalTransitionError,
  isEpochExhausted,
  TransactionMetadata,
  type TransactionState,
} from './transaction-metadata';

const tp = (topic: string, partition: number) => ({ topic, partition });

function metadata(
  state: TransactionState,
  producerEpoch: number,
  partitions = [tp('t', 0)],
): TransactionMetadata {
  return new TransactionMetadata('txn', {
    producerId: 7,
    producerEpoch,
    txnTimeoutMs: 60_000,
    state,
    topicPartitions: state === 'Ongoing' || state.startsWith('Prepare') ? partitions : [],
    txnStartTimestamp: state === 'Empty' ? -1 : 100,
    txnLastUpdateTimestamp: 100,
  });
}

/** Prepares and completes, as the coordinator does once the log has the transition. */
function apply(
  m: TransactionMetadata,
  prepare: (m: TransactionMetadata) => ReturnType<TransactionMetadata['prepareComplete']>,
): void {
  m.completeTransitionTo(prepare(m));
}

describe('transaction state machine', () => {
  test('a new transactional id gets epoch 0, then a transaction runs to CompleteCommit', () => {
    const m = metadata('Empty', -1);
    apply(m, (x) => x.prepareIncrementProducerEpoch(30_000, null, 200));
    assert.deepEqual(
      [m.state, m.producerEpoch, m.lastProducerEpoch, m.txnTimeoutMs],
      ['Empty', 0, -1, 30_000],
    );

    apply(m, (x) => x.prepareAddPartitions([tp('t', 0)], 300));
    assert.deepEqual([m.state, m.txnStartTimestamp, m.partitions], ['Ongoing', 300, [tp('t', 0)]]);
    // More partitions keep the transaction's start.
    apply(m, (x) => x.prepareAddPartitions([tp('t', 1), tp('t', 0)], 400));
    assert.deepEqual([m.txnStartTimestamp, m.txnLastUpdateTimestamp, m.topicPartitions.size], [300, 400, 2]);

    apply(m, (x) => x.prepareAbortOrCommit('PrepareCommit', 500));
    assert.equal(m.state, 'PrepareCommit');
    const complete = m.prepareComplete(600);
    assert.equal(m.pendingState, 'CompleteCommit');
    // Markers are written partition by partition while the completion is pending.
    m.removePartition(tp('t', 0));
    m.removePartition(tp('t', 1));
    m.completeTransitionTo(complete);
    assert.deepEqual([m.state, m.partitions, m.pendingState], ['CompleteCommit', [], null]);

    // The next transaction starts from CompleteCommit.
    apply(m, (x) => x.prepareAddPartitions([tp('u', 0)], 700));
    assert.deepEqual([m.state, m.txnStartTimestamp], ['Ongoing', 700]);
  });

  test('a transition in progress refuses another; a failed write clears it', () => {
    const m = metadata('Ongoing', 3);
    m.prepareAbortOrCommit('PrepareAbort', 1);
    assert.throws(() => m.prepareAddPartitions([tp('t', 2)], 2), IllegalTransitionError);
    m.pendingState = null;
    apply(m, (x) => x.prepareAbortOrCommit('PrepareAbort', 3));
    assert.equal(m.state, 'PrepareAbort');
  });

  test("Kafka's valid previous states: anything else is refused", () => {
    assert.throws(
      () => metadata('Empty', 0).prepareAbortOrCommit('PrepareCommit', 1),
      /cannot go from Empty/,
    );
    assert.throws(
      () => metadata('PrepareCommit', 0).prepareAddPartitions([tp('t', 1)], 1),
      IllegalTransitionError,
    );
    assert.throws(
      () => metadata('Ongoing', 0).prepareIncrementProducerEpoch(1, null, 1),
      IllegalTransitionError,
    );
    assert.throws(() => metadata('Ongoing', 0).prepareDead(), IllegalTransitionError);
    assert.throws(() => metadata('CompleteAbort', 0).prepareFenceProducerEpoch(), IllegalTransitionError);
    // A transition that was not the pending one cannot be completed.
    const m = metadata('Ongoing', 0);
    const t = m.prepareAbortOrCommit('PrepareCommit', 1);
    m.pendingState = 'PrepareAbort';
    assert.throws(() => m.completeTransitionTo(t), IllegalTransitionError);
  });

  test('KIP-360: a producer naming its current epoch is bumped; its previous epoch is a retry; others are fenced', () => {
    const m = metadata('CompleteCommit', 4);
    apply(m, (x) => x.prepareIncrementProducerEpoch(1000, 4, 1));
    assert.deepEqual([m.producerEpoch, m.lastProducerEpoch], [5, 4]);
    // The response was lost and the producer retries with the epoch it had: same answer.
    apply(m, (x) => x.prepareIncrementProducerEpoch(1000, 4, 2));
    assert.deepEqual([m.producerEpoch, m.lastProducerEpoch], [5, 4]);
    assert.throws(
      () => m.prepareIncrementProducerEpoch(1000, 2, 3),
      (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.PRODUCER_FENCED,
    );
    // Without an expected epoch (a new producer instance) the previous epoch is forgotten.
    apply(m, (x) => x.prepareIncrementProducerEpoch(1000, null, 4));
    assert.deepEqual([m.producerEpoch, m.lastProducerEpoch], [6, -1]);
  });

  test('epochs are exhausted below Short.MAX_VALUE; then a new producer id starts at epoch 0', () => {
    assert.equal(isEpochExhausted(32765), false);
    assert.equal(isEpochExhausted(32766), true);
    const m = metadata('Empty', 32766);
    assert.throws(() => m.prepareIncrementProducerEpoch(1, null, 1), /cannot allocate more producer epochs/);
    apply(m, (x) => x.prepareProducerIdRotation(99, 1000, 5, true));
    assert.deepEqual(
      [m.producerId, m.producerEpoch, m.lastProducerEpoch, m.lastProducerId],
      [99, 0, 32766, 7],
    );
  });

  test('fencing bumps the epoch once, and not again after a fence whose write failed', () => {
    const m = metadata('Ongoing', 2);
    const fence = m.prepareFenceProducerEpoch();
    assert.deepEqual(
      [fence.txnState, fence.producerEpoch, fence.lastProducerEpoch],
      ['PrepareEpochFence', 3, -1],
    );
    // PrepareEpochFence is never written: completing it is refused.
    assert.throws(() => m.completeTransitionTo(fence), IllegalTransitionError);
    m.pendingState = null;
    m.producerEpoch = 3;
    m.hasFailedEpochFence = true;
    assert.equal(m.prepareFenceProducerEpoch().producerEpoch, 3);
  });

  test('an expired id goes Dead from states without a transaction in progress', () => {
    const dead = metadata('CompleteAbort', 1).prepareDead();
    assert.deepEqual([dead.txnState, dead.topicPartitions], ['Dead', []]);
    assert.throws(() => metadata('PrepareAbort', 1).prepareDead(), IllegalTransitionError);
  });
});
