import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeGroupMetadataValue,
  decodeGroupRecordKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  javaStringHashCode,
  offsetsPartitionFor,
  subscribedTopicsOf,
} from './group-records';

/** Hex with spaces and | separators for readability, as worked out by hand from Kafka's schemas. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

describe('__consumer_offsets record formats', () => {
  test('OffsetCommitKey v1: version | group | topic | partition', () => {
    const bytes = hex('0001 | 0001 67 | 0001 74 | 00000001');
    assert.deepEqual(encodeOffsetCommitKey('g', 't', 1), bytes);
    assert.deepEqual(decodeGroupRecordKey(bytes), { kind: 'offset', group: 'g', topic: 't', partition: 1 });
    // Version 0 has the same layout.
    assert.deepEqual(decodeGroupRecordKey(hex('0000 | 0001 67 | 0001 74 | 00000002')), {
      kind: 'offset',
      group: 'g',
      topic: 't',
      partition: 2,
    });
  });

  test('GroupMetadataKey v2: version | group', () => {
    const bytes = hex('0002 | 0001 67');
    assert.deepEqual(encodeGroupMetadataKey('g'), bytes);
    assert.deepEqual(decodeGroupRecordKey(bytes), { kind: 'group', group: 'g' });
  });

  test('keys of record types the classic coordinator does not use are skipped', () => {
    // Version 3 is KIP-848's ConsumerGroupMetadataKey.
    assert.equal(decodeGroupRecordKey(hex('0003 | 0001 67')), null);
  });

  test('OffsetCommitValue v3: offset | leaderEpoch | metadata | commitTimestamp', () => {
    const bytes = hex('0003 | 0000000000000005 | 00000002 | 0001 6d | 00000000000003e8');
    const value = { offset: 5, leaderEpoch: 2, metadata: 'm', commitTimestamp: 1000, expireTimestamp: null };
    assert.deepEqual(encodeOffsetCommitValue(value), bytes);
    assert.deepEqual(decodeOffsetCommitValue(bytes), value);
  });

  test('OffsetCommitValue v1 carries an explicit expiry; v0, v2 and flexible v4 decode too', () => {
    const v1 = hex('0001 | 0000000000000007 | 0000 | 00000000000003e8 | 00000000000007d0');
    const withExpiry = {
      offset: 7,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 1000,
      expireTimestamp: 2000,
    };
    assert.deepEqual(encodeOffsetCommitValue(withExpiry), v1);
    assert.deepEqual(decodeOffsetCommitValue(v1), withExpiry);
    const plain = { offset: 7, leaderEpoch: -1, metadata: 'x', commitTimestamp: 1000, expireTimestamp: null };
    assert.deepEqual(
      decodeOffsetCommitValue(hex('0000 | 0000000000000007 | 0001 78 | 00000000000003e8')),
      plain,
    );
    assert.deepEqual(
      decodeOffsetCommitValue(hex('0002 | 0000000000000007 | 0001 78 | 00000000000003e8')),
      plain,
    );
    // v4: compact string (length + 1 as a varint) and an empty tagged-field section.
    assert.deepEqual(
      decodeOffsetCommitValue(hex('0004 | 0000000000000007 | 00000003 | 02 78 | 00000000000003e8 | 00')),
      { ...plain, leaderEpoch: 3 },
    );
  });

  test('GroupMetadataValue v3 with one static member', () => {
    const bytes = hex(
      '0003 | 0008 636f6e73756d6572 | 00000001 | 0005 72616e6765 | 0001 6d | 0000000000000064 | 00000001 |' +
        '0001 6d | 0001 69 | 0001 63 | 0002 2f68 | 00007530 | 00001770 | 00000001 aa | 00000001 bb',
    );
    const value = {
      protocolType: 'consumer',
      generation: 1,
      protocol: 'range',
      leader: 'm',
      currentStateTimestamp: 100,
      members: [
        {
          memberId: 'm',
          groupInstanceId: 'i',
          clientId: 'c',
          clientHost: '/h',
          rebalanceTimeoutMs: 30000,
          sessionTimeoutMs: 6000,
          subscription: hex('aa'),
          assignment: hex('bb'),
        },
      ],
    };
    assert.deepEqual(encodeGroupMetadataValue(value), bytes);
    assert.deepEqual(decodeGroupMetadataValue(bytes), value);
  });

  test('GroupMetadataValue v0 (no state timestamp, instance id or rebalance timeout) and an empty group', () => {
    const v0 = hex(
      '0000 | 0008 636f6e73756d6572 | 00000002 | 0005 72616e6765 | 0001 6d | 00000001 |' +
        '0001 6d | 0001 63 | 0002 2f68 | 00001770 | 00000000 | 00000000',
    );
    assert.deepEqual(decodeGroupMetadataValue(v0), {
      protocolType: 'consumer',
      generation: 2,
      protocol: 'range',
      leader: 'm',
      currentStateTimestamp: -1,
      members: [
        {
          memberId: 'm',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: '/h',
          rebalanceTimeoutMs: 6000,
          sessionTimeoutMs: 6000,
          subscription: Buffer.alloc(0),
          assignment: Buffer.alloc(0),
        },
      ],
    });
    const empty = hex('0003 | 0000 | 00000003 | ffff | ffff | 0000000000000064 | 00000000');
    const value = {
      protocolType: '',
      generation: 3,
      protocol: null,
      leader: null,
      currentStateTimestamp: 100,
      members: [],
    };
    assert.deepEqual(encodeGroupMetadataValue(value), empty);
    assert.deepEqual(decodeGroupMetadataValue(empty), value);
  });

  test('truncated or unknown versions are refused with a Kafka error, not a crash', () => {
    assert.throws(() => decodeOffsetCommitValue(hex('0003 | 00000000')), { name: 'KafkaProtocolError' });
    assert.throws(
      () => decodeOffsetCommitValue(hex('0009 | 0000000000000007')),
      /unknown OffsetCommitValue version 9/,
    );
    assert.throws(() => decodeGroupMetadataValue(hex('0005')), /unknown GroupMetadataValue version 5/);
  });
});

describe('group to partition', () => {
  test("Java's String.hashCode", () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode('Aa'), javaStringHashCode('BB'));
    assert.equal(javaStringHashCode('zzzzzzzz'), -1910022912);
    // UTF-16 code units, not UTF-8 bytes.
    assert.equal(javaStringHashCode('groupé'), -1237460406);
  });

  test('Utils.abs(hashCode) % partitions, with Integer.MIN_VALUE mapped to 0', () => {
    assert.equal(offsetsPartitionFor('hello', 50), 22);
    assert.equal(offsetsPartitionFor('g1', 50), 42);
    assert.equal(offsetsPartitionFor('zzzzzzzz', 50), 12);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(offsetsPartitionFor('polygenelubricants', 50), 0);
  });
});

describe('consumer protocol subscriptions', () => {
  test('topics of a v0 subscription and of a later version (read by its v0 prefix)', () => {
    const v0 = hex('0000 | 00000002 | 0001 61 | 0002 6262 | ffffffff');
    assert.deepEqual(subscribedTopicsOf(v0), ['a', 'bb']);
    // v1 adds owned partitions after the user data.
    const v1 = hex('0001 | 00000001 | 0001 61 | ffffffff | 00000001 | 0001 61 | 00000001 | 00000000');
    assert.deepEqual(subscribedTopicsOf(v1), ['a']);
  });

  test('bytes that are not a subscription give null', () => {
    assert.equal(subscribedTopicsOf(hex('ffff')), null);
    assert.equal(subscribedTopicsOf(hex('0000 | 00000005 | 0001 61')), null);
    assert.equal(subscribedTopicsOf(Buffer.alloc(0)), null);
  });
});
