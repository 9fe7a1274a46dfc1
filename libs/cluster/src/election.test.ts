import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PartitionState } from '@tributary/broker';
import {
  cancelReassignment,
  electPreferred,
  electUnclean,
  reconcilePartition,
  startReassignment,
  type BrokerLiveness,
} from './election';

const state = (s: Partial<PartitionState> = {}): PartitionState => ({
  leaderId: 1,
  leaderEpoch: 4,
  partitionEpoch: 10,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  addingReplicas: [],
  removingReplicas: [],
  ...s,
});
const live = (alive: number[], shuttingDown: number[] = []): BrokerLiveness => ({
  alive: new Set(alive),
  shuttingDown: new Set(shuttingDown),
});

test('a healthy partition needs nothing', () => {
  assert.equal(reconcilePartition(state(), live([1, 2, 3]), false), null);
});

test('a dead leader is replaced by the first in-sync replica in assignment order, with a new leader epoch', () => {
  const next = reconcilePartition(state({ isr: [1, 3, 2] }), live([2, 3]), false);
  assert.deepEqual(next, state({ leaderId: 2, leaderEpoch: 5, partitionEpoch: 11, isr: [3, 2] }));
});

test('a dead follower leaves the ISR; the leader and its epoch stay', () => {
  assert.deepEqual(
    reconcilePartition(state(), live([1, 3]), false),
    state({ partitionEpoch: 11, isr: [1, 3] }),
  );
});

test('without a live in-sync replica the partition has no leader and keeps its ISR, unless unclean election is on', () => {
  const s = state({ isr: [1] });
  assert.deepEqual(
    reconcilePartition(s, live([2, 3]), false),
    state({ isr: [1], leaderId: -1, leaderEpoch: 5, partitionEpoch: 11 }),
  );
  assert.deepEqual(
    reconcilePartition(s, live([2, 3]), true),
    state({ leaderId: 2, leaderEpoch: 5, partitionEpoch: 11, isr: [2] }),
  );
  // When the last in-sync replica comes back it leads again.
  const offline = state({ isr: [1], leaderId: -1, leaderEpoch: 5 });
  assert.deepEqual(
    reconcilePartition(offline, live([1, 2]), false),
    state({ isr: [1], leaderId: 1, leaderEpoch: 6, partitionEpoch: 11 }),
  );
  assert.equal(reconcilePartition(offline, live([2]), false), null);
});

test('controlled shutdown: leadership moves to another in-sync replica and the broker leaves the ISRs; a sole replica keeps leading', () => {
  assert.deepEqual(
    reconcilePartition(state(), live([1, 2, 3], [1]), false),
    state({ leaderId: 2, leaderEpoch: 5, partitionEpoch: 11, isr: [2, 3] }),
  );
  assert.deepEqual(
    reconcilePartition(state({ leaderId: 2 }), live([1, 2, 3], [1]), false),
    state({ leaderId: 2, partitionEpoch: 11, isr: [2, 3] }),
  );
  assert.equal(reconcilePartition(state({ replicas: [1], isr: [1] }), live([1], [1]), false), null);
});

test('preferred election moves leadership back to the first replica when it is alive and in sync', () => {
  const s = state({ leaderId: 2 });
  assert.deepEqual(
    electPreferred(s, live([1, 2, 3])),
    state({ leaderId: 1, leaderEpoch: 5, partitionEpoch: 11 }),
  );
  assert.equal(electPreferred(s, live([2, 3])), null);
  assert.equal(electPreferred(state({ leaderId: 2, isr: [2, 3] }), live([1, 2, 3])), null);
  assert.equal(electPreferred(state(), live([1, 2, 3])), null);
});

test('unclean election gives a leaderless partition a live replica, preferring the ISR', () => {
  const s = state({ leaderId: -1, isr: [1] });
  assert.deepEqual(
    electUnclean(s, live([3])),
    state({ leaderId: 3, leaderEpoch: 5, partitionEpoch: 11, isr: [3] }),
  );
  assert.equal(electUnclean(state(), live([1, 2, 3])), null);
  assert.equal(electUnclean(s, live([])), null);
});

test('a reassignment adds the new replicas, completes once they are in sync, and fences the removed ones', () => {
  const started = startReassignment(state(), [2, 3, 4]);
  assert.deepEqual(
    started,
    state({ replicas: [2, 3, 4, 1], addingReplicas: [4], removingReplicas: [1], partitionEpoch: 11 }),
  );
  // Not yet: 4 is not in the ISR.
  assert.equal(reconcilePartition(started, live([1, 2, 3, 4]), false), null);
  const caughtUp = { ...started, isr: [1, 2, 3, 4], partitionEpoch: 12 };
  assert.deepEqual(
    reconcilePartition(caughtUp, live([1, 2, 3, 4]), false),
    state({ replicas: [2, 3, 4], isr: [2, 3, 4], leaderId: 2, leaderEpoch: 5, partitionEpoch: 13 }),
  );
  // Cancelled: back to the original replicas (in the merged order, as Kafka reverts), the added one out of the ISR.
  assert.deepEqual(
    cancelReassignment(caughtUp),
    state({ replicas: [2, 3, 1], isr: [1, 2, 3], partitionEpoch: 13 }),
  );
  // A target equal to the current replicas is no reassignment.
  assert.deepEqual(startReassignment(state(), [1, 2, 3]), state({ partitionEpoch: 11 }));
});
