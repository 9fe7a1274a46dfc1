import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  transactionPartitionFor,
} from './transaction-log';

/** Hex with spaces and | separators for readability, as worked out by hand from Kafka's schemas. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

describe('__transaction_state record formats', () => {
  test('TransactionLogKey v0: version | transactionalId', () => {
    const bytes = hex('0000 | 0002 7431');
    assert.deepEqual(encodeTransactionLogKey('t1'), bytes);
    assert.equal(decodeTransactionLogKey(bytes), 't1');
    // Another key version is not a transaction's record.
    assert.equal(decodeTransactionLogKey(hex('0001 | 0002 7431')), null);
  });

  test('TransactionLogValue v0 of an Ongoing transaction: partitions grouped by topic', () => {
    const bytes = hex(
      '0000 | 00000000000003e8 | 0002 | 0000ea60 | 01 |' +
        ' 00000002 | 0001 74 | 00000002 | 00000000 00000001 | 0001 75 | 00000001 | 00000007 |' +
        ' 00000000000007d0 | 00000000000005dc',
    );
    const value = {
      producerId: 1000,
      producerEpoch: 2,
      transactionTimeoutMs: 60000,
      state: 'Ongoing' as const,
      topicPartitions: [
        { topic: 't', partition: 0 },
        { topic: 'u', partition: 7 },
        { topic: 't', partition: 1 },
      ],
      lastUpdateTimestamp: 2000,
      startTimestamp: 1500,
    };
    assert.deepEqual(encodeTransactionLogValue(value), bytes);
    assert.deepEqual(decodeTransactionLogValue(bytes), {
      ...value,
      topicPartitions: [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
        { topic: 'u', partition: 7 },
      ],
    });
  });

  test('an Empty transaction is written with null partitions, and read with none', () => {
    const bytes = hex(
      '0000 | 0000000000000005 | 0000 | 00000064 | 00 | ffffffff | 0000000000000001 | ffffffffffffffff',
    );
    const value = {
      producerId: 5,
      producerEpoch: 0,
      transactionTimeoutMs: 100,
      state: 'Empty' as const,
      topicPartitions: [],
      lastUpdateTimestamp: 1,
      startTimestamp: -1,
    };
    assert.deepEqual(encodeTransactionLogValue(value), bytes);
    assert.deepEqual(decodeTransactionLogValue(bytes), value);
  });

  test('every state id reads back as its state', () => {
    const states = [
      'Empty',
      'Ongoing',
      'PrepareCommit',
      'PrepareAbort',
      'CompleteCommit',
      'CompleteAbort',
      'Dead',
      'PrepareEpochFence',
    ];
    states.forEach((state, id) => {
      const bytes = hex(
        `0000 | 0000000000000001 | 0000 | 00000064 | 0${id} | 00000000 | 0000000000000001 | 0000000000000001`,
      );
      assert.equal(decodeTransactionLogValue(bytes).state, state);
    });
    assert.throws(
      () =>
        decodeTransactionLogValue(hex('0000 | 0000000000000001 | 0000 | 00000064 | 09 | 00000000 | 00 00')),
      /unknown transaction state id 9/,
    );
  });

  test("TransactionLogValue v1 (flexible, KIP-890's tagged fields) is read, its tagged fields skipped", () => {
    const bytes = hex(
      '0001 | 00000000000003e8 | 0003 | 0000ea60 | 02 |' +
        ' 02 | 02 74 | 03 00000000 00000004 | 00 |' +
        ' 00000000000007d0 | 00000000000005dc |' +
        // one tagged field: tag 0 (PreviousProducerId), 8 bytes
        ' 01 | 00 08 00000000000003e7',
    );
    assert.deepEqual(decodeTransactionLogValue(bytes), {
      producerId: 1000,
      producerEpoch: 3,
      transactionTimeoutMs: 60000,
      state: 'PrepareCommit',
      topicPartitions: [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 4 },
      ],
      lastUpdateTimestamp: 2000,
      startTimestamp: 1500,
    });
  });

  test('an unknown value version is refused', () => {
    assert.throws(() => decodeTransactionLogValue(hex('0002 | 00')), /unknown TransactionLogValue version 2/);
  });

  test("a transactional id's partition is Kafka's Utils.abs(hashCode) % partitions", () => {
    // "hello".hashCode() is 99162322.
    assert.equal(transactionPartitionFor('hello', 50), 99162322 % 50);
    // A negative hash code: "my-transactional-id".hashCode() is -959806496.
    assert.equal(transactionPartitionFor('my-transactional-id', 50), 959806496 % 50);
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE, which Utils.abs maps to 0.
    assert.equal(transactionPartitionFor('polygenelubricants', 50), 0);
  });
});
