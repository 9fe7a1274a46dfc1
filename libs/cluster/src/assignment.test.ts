import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { assignReplicas, rackAlternatedBrokers } from './assignment';

const brokers = (ids: number[], racks?: string[]) => ids.map((id, i) => ({ id, rack: racks?.[i] ?? null }));

test("without racks: Kafka's round robin from the start index, followers shifted, every broker leading evenly", () => {
  // Kafka's AdminUtils test case: 5 brokers, 10 partitions, 3 replicas, start index 0, shift 0.
  const got = assignReplicas(brokers([0, 1, 2, 3, 4]), 10, 3, { startIndex: 0, replicaShift: 0 });
  assert.deepEqual(got, [
    [0, 1, 2],
    [1, 2, 3],
    [2, 3, 4],
    [3, 4, 0],
    [4, 0, 1],
    [0, 2, 3],
    [1, 3, 4],
    [2, 4, 0],
    [3, 0, 1],
    [4, 1, 2],
  ]);
  const random = assignReplicas(brokers([1, 2, 3]), 6, 2);
  const leaders = random.map((r) => r[0]).sort();
  assert.deepEqual(leaders, [1, 1, 2, 2, 3, 3]);
  for (const r of random) assert.equal(new Set(r).size, 2, 'no broker twice in a partition');
});

test('with racks: brokers alternate over racks and each partition spans as many racks as it can', () => {
  assert.deepEqual(
    rackAlternatedBrokers(brokers([0, 1, 2, 3, 4, 5], ['a', 'a', 'b', 'b', 'c', 'c'])),
    [0, 2, 4, 1, 3, 5],
  );
  const placement = brokers([0, 1, 2, 3, 4, 5], ['a', 'a', 'b', 'b', 'c', 'c']);
  const rackOf = new Map(placement.map((b) => [b.id, b.rack]));
  const got = assignReplicas(placement, 12, 3);
  for (const replicas of got) {
    assert.equal(new Set(replicas.map((r) => rackOf.get(r))).size, 3, `${replicas} spans three racks`);
  }
  // Two racks, three replicas: both racks, three different brokers.
  const two = brokers([1, 2, 3, 4], ['x', 'y', 'x', 'y']);
  for (const replicas of assignReplicas(two, 8, 3)) {
    assert.equal(new Set(replicas).size, 3);
    assert.equal(new Set(replicas.map((r) => two.find((b) => b.id === r)!.rack)).size, 2);
  }
});

test('CreatePartitions continues the spread; too many replicas is INVALID_REPLICATION_FACTOR', () => {
  const first = assignReplicas(brokers([1, 2, 3]), 3, 1, { startIndex: 0, replicaShift: 0 });
  const more = assignReplicas(brokers([1, 2, 3]), 3, 1, {
    startIndex: 0,
    replicaShift: 0,
    startPartition: 3,
  });
  assert.deepEqual([...first, ...more], [[1], [2], [3], [1], [2], [3]]);
  assert.throws(
    () => assignReplicas(brokers([1, 2]), 1, 3),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.INVALID_REPLICATION_FACTOR,
  );
});
