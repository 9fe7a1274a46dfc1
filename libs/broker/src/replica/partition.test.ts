import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { encodeRecordBatch, ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { LogManager, type AppendedTxnMarker } from '@tributary/storage';
import { Partition, type IsrProposal, type PartitionHost, type PartitionState } from './partition';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const dirs: string[] = [];
const managers: LogManager[] = [];
after(() => {
  for (const m of managers) m.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A leader's partition on broker 1 over a real log, its high watermark decided by replication. */
function harness(minIsr = 1, lagMs = 1000) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-partition-'));
  dirs.push(dir);
  const logs = new LogManager({ dataDir: dir, logger: quiet, highWatermarkFollowsLogEnd: false });
  logs.open();
  managers.push(logs);
  logs.createTopic('t', 1, { 'min.insync.replicas': String(minIsr) });
  const proposals: IsrProposal[] = [];
  const markers: AppendedTxnMarker[] = [];
  let wakes = 0;
  const host: PartitionHost = {
    localId: 1,
    replicaLagTimeMaxMs: lagMs,
    wake: () => void wakes++,
    proposeIsr: (_p, proposal) => void proposals.push(proposal),
    markersAppended: (_p, appended) => void markers.push(...appended),
  };
  const partition = new Partition('t', 0, logs.partition('t', 0)!, host);
  return { partition, proposals, markers, wakes: () => wakes };
}

const state = (s: Partial<PartitionState> = {}): PartitionState => ({
  leaderId: 1,
  leaderEpoch: 3,
  partitionEpoch: 7,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  addingReplicas: [],
  removingReplicas: [],
  ...s,
});

const batch = (n: number) =>
  encodeRecordBatch({
    records: Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`) })),
  });

test('the high watermark is the lowest log end of the ISR, and acks=all completes when it passes the batch', async () => {
  const { partition } = harness();
  const now = Date.now();
  partition.makeLeader(state(), now);
  assert.equal(partition.log.latestEpoch, 3, 'the leader epoch starts at the log end');
  const appended = partition.appendAsLeader(batch(5), -1, now);
  assert.equal(appended.lastOffset, 4);
  assert.equal(partition.highWatermark, 0, 'no follower has it yet');
  const done = partition.waitForReplication(5, 5000);
  partition.updateFollowerFetch(2, 5, 0, now);
  assert.equal(partition.highWatermark, 0, 'follower 3 has not fetched');
  partition.updateFollowerFetch(3, 3, 0, now);
  assert.equal(partition.highWatermark, 3);
  partition.updateFollowerFetch(3, 5, 0, now);
  assert.equal(partition.highWatermark, 5);
  assert.equal(await done, ErrorCode.NONE);
});

test('acks=all below min.insync.replicas is NOT_ENOUGH_REPLICAS and appends nothing; acks=1 is not affected', () => {
  const { partition } = harness(2);
  partition.makeLeader(state({ isr: [1] }), Date.now());
  assert.throws(
    () => partition.appendAsLeader(batch(1), -1, Date.now()),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.NOT_ENOUGH_REPLICAS,
  );
  assert.equal(partition.log.logEndOffset, 0);
  partition.appendAsLeader(batch(1), 1, Date.now());
  assert.equal(partition.log.logEndOffset, 1);
  assert.equal(partition.highWatermark, 1, 'the ISR is the leader alone');
});

test('a follower that stops fetching leaves the ISR after replica.lag.time.max.ms; then the high watermark moves on', async () => {
  const { partition, proposals } = harness(2, 1000);
  const t0 = Date.now();
  partition.makeLeader(state(), t0);
  partition.appendAsLeader(batch(2), -1, t0);
  const done = partition.waitForReplication(2, 5000);
  partition.updateFollowerFetch(2, 2, 0, t0 + 100);
  partition.maybeShrinkIsr(t0 + 500);
  assert.equal(proposals.length, 0, 'not yet lagging for long enough');
  partition.updateFollowerFetch(2, 2, 0, t0 + 1000);
  partition.maybeShrinkIsr(t0 + 1500);
  assert.deepEqual(
    proposals.map((p) => p.isr),
    [[1, 2]],
  );
  assert.equal(proposals[0].partitionEpoch, 7);
  assert.equal(partition.highWatermark, 0, 'a proposed shrink does not move the high watermark');
  partition.isrProposalDone(proposals[0], state({ isr: [1, 2], partitionEpoch: 8 }), t0 + 1600);
  assert.deepEqual(partition.isr, [1, 2]);
  assert.equal(partition.highWatermark, 2);
  assert.equal(await done, ErrorCode.NONE);
});

test('a follower that caught up with the high watermark is proposed back into the ISR', () => {
  const { partition, proposals } = harness();
  const now = Date.now();
  partition.makeLeader(state({ isr: [1, 2] }), now);
  partition.appendAsLeader(batch(3), 1, now);
  partition.updateFollowerFetch(2, 3, 0, now);
  assert.equal(partition.highWatermark, 3);
  partition.updateFollowerFetch(3, 1, 0, now);
  assert.equal(proposals.length, 0, 'still behind');
  partition.updateFollowerFetch(3, 3, 0, now);
  assert.deepEqual(
    proposals.map((p) => p.isr),
    [[1, 2, 3]],
  );
});

test('waiting produces fail NOT_LEADER_OR_FOLLOWER when leadership moves, REQUEST_TIMED_OUT at their timeout', async () => {
  const { partition } = harness();
  partition.makeLeader(state(), Date.now());
  partition.appendAsLeader(batch(1), -1, Date.now());
  const timedOut = partition.waitForReplication(1, 50);
  assert.equal(await timedOut, ErrorCode.REQUEST_TIMED_OUT);
  const moved = partition.waitForReplication(1, 5000);
  partition.makeFollower(state({ leaderId: 2, leaderEpoch: 4, partitionEpoch: 8 }));
  assert.equal(await moved, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.throws(
    () => partition.appendAsLeader(batch(1), 1, Date.now()),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER,
  );
  assert.equal(
    partition.makeLeader(state({ leaderEpoch: 3 }), Date.now()),
    false,
    'an older epoch is ignored',
  );
});

test("a follower stores the leader's batches as they are and takes the leader's high watermark as far as it has data", () => {
  const leader = harness();
  leader.partition.makeLeader(state(), Date.now());
  leader.partition.appendAsLeader(batch(4), 1, Date.now());
  const { records } = leader.partition.log.read(0, 1 << 20, { minOneBatch: true });
  const follower = harness();
  follower.partition.makeFollower(state({ leaderId: 2 }));
  follower.partition.appendFromLeader(records, 10, 0);
  assert.equal(follower.partition.log.logEndOffset, 4);
  assert.equal(follower.partition.highWatermark, 4);
  assert.equal(follower.partition.log.latestEpoch, 3, 'the epoch comes with the batches');
  assert.deepEqual(follower.partition.log.read(0, 1 << 20, { minOneBatch: true }).records, records);
  assert.ok(follower.wakes() > 0, 'consumers reading from the follower are woken');
});

test('a transaction marker as leader: refused below min.insync.replicas, told at once, stable once the ISR has it', async () => {
  const { partition, markers } = harness(2);
  const now = Date.now();
  partition.makeLeader(state({ isr: [1, 2] }), now);
  const txnBatch = encodeRecordBatch({
    records: [{ key: null, value: Buffer.from('t') }],
    producerId: 9,
    producerEpoch: 0,
    baseSequence: 0,
    isTransactional: true,
  });
  partition.appendAsLeader(txnBatch, -1, now);
  partition.updateFollowerFetch(2, 1, 0, now);
  assert.equal(partition.highWatermark, 1);
  assert.equal(partition.log.lastStableOffset, 0, 'the open transaction holds it');
  const marker = { producerId: 9, producerEpoch: 0, coordinatorEpoch: 1, committed: true };
  const appended = partition.appendTxnMarkerAsLeader(marker, now);
  assert.deepEqual(markers, [{ producerId: 9, producerEpoch: 0, committed: true, offset: 1 }]);
  const done = partition.waitForReplication(appended.lastOffset + 1, 5000);
  assert.equal(partition.log.lastStableOffset, 0, 'not before the follower has the marker');
  partition.updateFollowerFetch(2, 2, 0, now);
  assert.equal(await done, ErrorCode.NONE);
  assert.equal(partition.log.lastStableOffset, 2);

  partition.makeLeader(state({ isr: [1], partitionEpoch: 8 }), now);
  assert.throws(
    () => partition.appendTxnMarkerAsLeader(marker, now),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.NOT_ENOUGH_REPLICAS,
  );
  assert.equal(partition.log.logEndOffset, 2);
});
