import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  batchHeaders,
  ControlRecordType,
  decodeRecordBatch,
  DescribeTransactions,
  encodeRecordBatch,
  EndTxn,
  ErrorCode,
  Fetch,
  FindCoordinator,
  InitProducerId,
  OffsetFetch,
  parseControlRecord,
  Produce,
  TxnOffsetCommit,
} from '@tributary/protocol';
import { outputs, startCluster, type TestCluster } from '../support/cluster-process';
import {
  exactlyOnce,
  produceInput,
  readIsolated,
  TransformProcess,
  TransformRunner,
} from '../support/transform-process';

const TOPIC = 'txn-cluster';
const PARTITIONS = [0, 1, 2];

/**
 * The transaction coordinator of a 3-broker cluster: __transaction_state replicated like
 * __consumer_offsets, markers written to partitions other brokers lead (WriteTxnMarkers),
 * and a coordinator killed with kill -9 mid-transaction: the broker that takes its partition
 * over completes or aborts the transaction, and fences the old producer.
 */
describe('transactions in a replicated cluster', { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  const conns = new Map<number, Connection>();

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      settings: [
        'transaction.state.log.num.partitions=3',
        'offsets.topic.num.partitions=3',
        'group.initial.rebalance.delay.ms=0',
      ],
    });
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    try {
      const spread = [
        [1, 2, 3],
        [2, 3, 1],
        [3, 1, 2],
      ];
      await admin.createTopics([TOPIC, 'eos-in', 'eos-out'].map((name) => ({ name, assignments: spread })));
    } finally {
      await admin.close();
    }
  });

  after(async () => {
    for (const c of conns.values()) c.close();
    await cluster?.stop();
  });

  const connTo = async (nodeId: number): Promise<Connection> => {
    const open = conns.get(nodeId);
    if (open?.isOpen) return open;
    const conn = await new Connection({
      host: '127.0.0.1',
      port: cluster.node(nodeId).port,
      requestTimeoutMs: 10_000,
    }).connect();
    conns.set(nodeId, conn);
    return conn;
  };

  /** The coordinator of a transactional id (or group), once a live broker names a live one. */
  const coordinatorOf = (key: string, keyType: number, not?: number) =>
    cluster.waitFor(`the coordinator of ${key}`, async () => {
      for (const n of cluster.nodes.filter((x) => x.alive)) {
        const r = await (await connTo(n.nodeId)).send(FindCoordinator, 3, { key, keyType });
        if (r.errorCode !== ErrorCode.NONE) continue;
        if (r.nodeId === not || !cluster.node(r.nodeId).alive) return undefined;
        return r.nodeId;
      }
      return undefined;
    });

  /** The markers of a producer in each partition, read from the partition's leader. */
  const markers = async (producerId: number) => {
    const md = await cluster.metadata([TOPIC]);
    const out: string[][] = [];
    for (const partition of PARTITIONS) {
      const leader = md.topics[0].partitions.find((p) => p.partitionIndex === partition)!.leaderId;
      if (leader < 0 || !cluster.node(leader).alive)
        throw new Error(`${TOPIC}-${partition} has no live leader yet`);
      const r = await (
        await connTo(leader)
      ).request(Fetch, {
        maxWaitMs: 0,
        minBytes: 0,
        isolationLevel: 0,
        topics: [{ topic: TOPIC, partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      });
      const records = r.responses[0].partitions[0].records ?? Buffer.alloc(0);
      out.push(
        [...batchHeaders(records)]
          .filter((h) => h.isControl && h.producerId === producerId)
          .map((h) => {
            const type = parseControlRecord(decodeRecordBatch(records, h.at).records[0])
              .type as ControlRecordType;
            return `${type === ControlRecordType.Commit ? 'COMMIT' : 'ABORT'}@${h.producerEpoch}`;
          }),
      );
    }
    return out;
  };

  const stateAt = async (nodeId: number, transactionalId: string) =>
    (await (await connTo(nodeId)).request(DescribeTransactions, { transactionalIds: [transactionalId] }))
      .transactionStates[0];

  const waitForState = (transactionalId: string, state: string, not?: number) =>
    cluster.waitFor(
      `${transactionalId} ${state}`,
      async () => {
        const c = await coordinatorOf(transactionalId, 1, not);
        const d = await stateAt(c, transactionalId);
        return d.transactionState === state ? d : undefined;
      },
      30_000,
    );

  const begin = async (transactionalId: string, coordinator: number) => {
    const conn = await connTo(coordinator);
    const init = await cluster.waitFor(`InitProducerId of ${transactionalId}`, async () => {
      const r = await conn.send(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60_000 });
      return r.errorCode === ErrorCode.NONE ? r : undefined;
    });
    const p = { producerId: init.producerId, producerEpoch: init.producerEpoch };
    const added = await conn.send(AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions: PARTITIONS }],
    });
    assert.deepEqual(
      added.resultsByTopicV3AndBelow[0].resultsByPartition.map((x) => x.partitionErrorCode),
      [0, 0, 0],
    );
    return p;
  };

  test('a transaction commits its markers on every leader and its group offsets', async () => {
    const id = 'cluster-commit';
    const coordinator = await coordinatorOf(id, 1);
    const p = await begin(id, coordinator);
    const conn = await connTo(coordinator);
    const group = 'cluster-group';
    const added = await conn.send(AddOffsetsToTxn, 3, { transactionalId: id, ...p, groupId: group });
    assert.equal(added.errorCode, ErrorCode.NONE);
    const groupCoordinator = await connTo(await coordinatorOf(group, 0));
    const committed = await groupCoordinator.send(TxnOffsetCommit, 3, {
      transactionalId: id,
      groupId: group,
      ...p,
      topics: [
        { name: TOPIC, partitions: [{ partitionIndex: 2, committedOffset: 7, committedMetadata: null }] },
      ],
    });
    assert.equal(committed.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    assert.equal((await conn.send(EndTxn, 3, { transactionalId: id, ...p, committed: true })).errorCode, 0);
    await waitForState(id, 'CompleteCommit');
    assert.deepEqual(
      await markers(p.producerId),
      PARTITIONS.map(() => [`COMMIT@${p.producerEpoch}`]),
    );
    const fetched = await groupCoordinator.send(OffsetFetch, 7, {
      groupId: group,
      topics: [{ name: TOPIC, partitionIndexes: [2] }],
      requireStable: true,
    });
    assert.deepEqual(
      [fetched.topics[0].partitions[0].errorCode, fetched.topics[0].partitions[0].committedOffset],
      [ErrorCode.NONE, 7],
    );
  });

  test("KIP-890: partition leaders ask the coordinator on another broker before a transaction's first batch", async () => {
    const id = 'cluster-verified';
    const coordinator = await coordinatorOf(id, 1);
    const conn = await connTo(coordinator);
    const init = await cluster.waitFor(`InitProducerId of ${id}`, async () => {
      const r = await conn.send(InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: 60_000 });
      return r.errorCode === ErrorCode.NONE ? r : undefined;
    });
    const p = { producerId: init.producerId, producerEpoch: init.producerEpoch };
    const md = await cluster.metadata([TOPIC]);
    const [added, notAdded] = md.topics[0].partitions
      .filter((x) => x.leaderId !== coordinator)
      .map((x) => ({ partition: x.partitionIndex, leader: x.leaderId }));
    assert.ok(notAdded !== undefined, 'two partitions led by other brokers');
    const add = async (partition: number) => {
      const r = await conn.send(AddPartitionsToTxn, 3, {
        v3AndBelowTransactionalId: id,
        v3AndBelowProducerId: p.producerId,
        v3AndBelowProducerEpoch: p.producerEpoch,
        v3AndBelowTopics: [{ name: TOPIC, partitions: [partition] }],
      });
      assert.equal(r.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode, ErrorCode.NONE);
    };
    const produce = async (to: { partition: number; leader: number }) => {
      const records = encodeRecordBatch({
        records: [{ key: null, value: Buffer.from(`${id}-${to.partition}`) }],
        ...p,
        baseSequence: 0,
        isTransactional: true,
      });
      const r = await (
        await connTo(to.leader)
      ).request(Produce, {
        transactionalId: id,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: TOPIC, partitionData: [{ index: to.partition, records }] }],
      });
      return r.responses[0].partitionResponses[0].errorCode;
    };
    await add(added.partition);
    assert.equal(await produce(added), ErrorCode.NONE);
    assert.equal(await produce(notAdded), ErrorCode.INVALID_TXN_STATE);
    assert.equal((await conn.send(EndTxn, 3, { transactionalId: id, ...p, committed: false })).errorCode, 0);
    await waitForState(id, 'CompleteAbort');
    const found = await markers(p.producerId);
    assert.deepEqual(found[added.partition], [`ABORT@${p.producerEpoch}`]);
    assert.deepEqual(found[notAdded.partition], [], 'nothing was appended there to abort');
  });

  test('kill -9 of the coordinator: the next one has the open transaction, fences the zombie, commits the next', async () => {
    const id = 'cluster-failover';
    const first = await coordinatorOf(id, 1);
    const zombie = await begin(id, first);
    await cluster.kill9(first);
    const second = await coordinatorOf(id, 1, first);
    assert.notEqual(second, first);
    const d = await cluster.waitFor('the transaction at the new coordinator', async () => {
      const s = await stateAt(second, id);
      return s.errorCode === ErrorCode.NONE ? s : undefined;
    });
    assert.deepEqual(
      [d.transactionState, d.producerId, d.producerEpoch],
      ['Ongoing', zombie.producerId, zombie.producerEpoch],
    );
    // A new producer instance: the open transaction is aborted under a bumped epoch.
    const conn = await connTo(second);
    const fresh = await cluster.waitFor(
      'InitProducerId at the new coordinator',
      async () => {
        const r = await conn.send(InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: 60_000 });
        return r.errorCode === ErrorCode.NONE ? r : undefined;
      },
      30_000,
    );
    assert.deepEqual([fresh.producerId, fresh.producerEpoch], [zombie.producerId, zombie.producerEpoch + 2]);
    const end = await conn.send(EndTxn, 3, { transactionalId: id, ...zombie, committed: true });
    assert.equal(end.errorCode, ErrorCode.PRODUCER_FENCED);
    const aborted = PARTITIONS.map(() => [`ABORT@${zombie.producerEpoch + 1}`]);
    await cluster.waitFor(`ABORT markers ${outputs(cluster)}`, async () =>
      JSON.stringify(await markers(zombie.producerId)) === JSON.stringify(aborted) ? true : undefined,
    );
    await cluster.restart(first);
  });

  test('kill -9 of the coordinator right after EndTxn: the transaction still commits everywhere', async () => {
    const id = 'cluster-in-flight';
    const first = await coordinatorOf(id, 1);
    const p = await begin(id, first);
    const end = await (await connTo(first)).send(EndTxn, 3, { transactionalId: id, ...p, committed: true });
    assert.equal(end.errorCode, ErrorCode.NONE);
    await cluster.kill9(first);
    await waitForState(id, 'CompleteCommit', first);
    // Each partition has its COMMIT (twice where both coordinators wrote it), never an ABORT.
    const commit = `COMMIT@${p.producerEpoch}`;
    await cluster.waitFor('COMMIT markers on every partition', async () => {
      const found = await markers(p.producerId);
      return found.every((m) => m.length > 0 && m.every((x) => x === commit)) ? true : undefined;
    });
    await cluster.restart(first);
  });

  test('consume-transform-produce stays exactly-once across kill -9 of the coordinator and of a leader', async () => {
    const count = 4000;
    await produceInput(cluster.bootstrap, 'eos-in', count);
    const id = 'eos-cluster';
    const runner = new TransformRunner(
      () => new TransformProcess(cluster.bootstrap, 'eos-in', 'eos-out', 'eos-cluster-group', id, 20),
    );
    let finishedAll = false;
    void runner.run().then(() => (finishedAll = true));
    // The processes' own story when a wait fails.
    const until = (what: string, check: () => boolean, timeoutMs: number) =>
      cluster
        .waitFor(what, async () => (check() ? true : undefined), timeoutMs)
        .catch((err: Error) => assert.fail(`${err.message}\n${runner.diagnostics()}`));
    const progress = (n: number) => until(`${n} records transformed`, () => runner.committed >= n, 120_000);
    try {
      await progress(800);
      const coordinator = await coordinatorOf(id, 1);
      await cluster.kill9(coordinator);
      await progress(1600);
      await cluster.restart(coordinator);
      await progress(2400);
      const md = await cluster.metadata(['eos-out']);
      const leader = md.topics[0].partitions.find((p) => p.partitionIndex === 0)!.leaderId;
      await cluster.kill9(leader);
      await progress(3200);
      await cluster.restart(leader);
      await until('the transform to finish', () => finishedAll, 180_000);
    } finally {
      await runner.stop();
    }
    const output = await readIsolated(cluster.bootstrap, 'eos-out', 'read_committed');
    assert.deepEqual(exactlyOnce(count, output), { missing: [], duplicated: [] }, runner.diagnostics());
    assert.equal(output.length, count);
  });
});
