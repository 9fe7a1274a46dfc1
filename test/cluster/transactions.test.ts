import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import {
  decodeRecordBatches,
  encodeRecordBatch,
  ErrorCode,
  Fetch,
  ListOffsets,
  Produce,
  WriteTxnMarkers,
  type ResponseOf,
} from '@tributary/protocol';
import { outputs, startCluster, type TestCluster } from '../support/cluster-process';

type PartitionFetch = ResponseOf<typeof Fetch>['responses'][number]['partitions'][number];

const A = 910_001;
const B = 910_002;
const C = 910_003;
const TOPIC = 'ledger';

async function connect(port: number): Promise<Connection> {
  return new Connection({ host: '127.0.0.1', port, requestTimeoutMs: 15_000 }).connect();
}

function txnBatch(pid: number, seq: number, value: string): Buffer {
  return encodeRecordBatch({
    records: [{ key: null, value: Buffer.from(value) }],
    producerId: pid,
    producerEpoch: 0,
    baseSequence: seq,
    isTransactional: true,
  });
}

async function produce(conn: Connection, records: Buffer, transactional = true): Promise<number> {
  const r = await conn.request(Produce, {
    transactionalId: transactional ? 'ledger-tx' : null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }],
  });
  const p = r.responses[0].partitionResponses[0];
  assert.equal(p.errorCode, ErrorCode.NONE, p.errorMessage ?? undefined);
  return p.baseOffset;
}

async function marker(conn: Connection, pid: number, committed: boolean): Promise<number> {
  const r = await conn.request(WriteTxnMarkers, {
    markers: [
      {
        producerId: pid,
        producerEpoch: 0,
        transactionResult: committed,
        topics: [{ name: TOPIC, partitionIndexes: [0] }],
        coordinatorEpoch: 1,
      },
    ],
  });
  return r.markers[0].topics[0].partitions[0].errorCode;
}

async function fetchCommitted(conn: Connection): Promise<PartitionFetch> {
  const r = await conn.request(Fetch, {
    maxWaitMs: 0,
    minBytes: 0,
    isolationLevel: 1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
  });
  return r.responses[0].partitions[0];
}

/** The records a read_committed consumer keeps: control batches and aborted transactions dropped. */
function committedValues(p: PartitionFetch): string[] {
  const aborted = p.abortedTransactions ?? [];
  const open = new Set<number>();
  const out: string[] = [];
  for (const { header: h, records } of decodeRecordBatches(p.records ?? Buffer.alloc(0))) {
    for (const t of aborted) if (t.firstOffset <= h.baseOffset) open.add(t.producerId);
    if (h.isControl) {
      open.delete(h.producerId);
      continue;
    }
    if (!(h.isTransactional && open.has(h.producerId))) out.push(...records.map((r) => r.value!.toString()));
  }
  return out;
}

describe('transactions in a three-broker cluster', { timeout: 240_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    // Hand-built transactions have no coordinator to confirm them: KIP-890's verification is off.
    cluster = await startCluster({
      brokers: 3,
      settings: ['replica.fetch.wait.max.ms=100', 'transaction.partition.verification.enable=false'],
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  const partition = async (fromNode?: number) =>
    (await cluster.metadata([TOPIC], fromNode)).topics[0]?.partitions.find((p) => p.partitionIndex === 0);

  const txnIndex = (nodeId: number): string | null => {
    const file = path.join(cluster.node(nodeId).dataDir, `${TOPIC}-0`, '00000000000000000000.txnindex');
    return fs.existsSync(file) ? fs.readFileSync(file).toString('hex') : null;
  };

  /** Waits until broker `nodeId` (leader or follower) serves read_committed with this LSO and these aborted transactions. */
  const committedView = (nodeId: number, lastStableOffset: number, highWatermark: number) =>
    cluster.waitFor(
      `broker ${nodeId} to serve LSO ${lastStableOffset} at high watermark ${highWatermark}`,
      async () => {
        const conn = await connect(cluster.node(nodeId).port);
        try {
          const p = await fetchCommitted(conn);
          return p.errorCode === ErrorCode.NONE &&
            p.lastStableOffset === lastStableOffset &&
            p.highWatermark === highWatermark
            ? p
            : undefined;
        } finally {
          conn.close();
        }
      },
      30_000,
    );

  test('followers copy the markers: every replica has the same LSO and aborted index, before and after the leader dies', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([
      { name: TOPIC, numPartitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    ]);
    await admin.close();
    const leaderId = await cluster.waitFor(
      `${TOPIC}-0 with three replicas in sync`,
      async () => {
        const p = await partition();
        return p !== undefined && p.leaderId >= 0 && p.isrNodes.length === 3 ? p.leaderId : undefined;
      },
      30_000,
    );
    const followers = cluster.nodes.map((n) => n.nodeId).filter((id) => id !== leaderId);
    const leader = await connect(cluster.node(leaderId).port);
    try {
      assert.equal(await produce(leader, txnBatch(A, 0, 'a1')), 0);
      assert.equal(await produce(leader, txnBatch(B, 0, 'b1')), 1);
      assert.equal(await produce(leader, txnBatch(A, 1, 'a2')), 2);
      assert.equal(await produce(leader, txnBatch(C, 0, 'c1')), 3); // stays open
      assert.equal(await marker(leader, B, false), ErrorCode.NONE); // 4
      assert.equal(await marker(leader, A, true), ErrorCode.NONE); // 5
      assert.equal(
        await produce(
          leader,
          encodeRecordBatch({ records: [{ key: null, value: Buffer.from('p') }] }),
          false,
        ),
        6,
      );
    } finally {
      leader.close();
    }
    const follower = await connect(cluster.node(followers[0]).port);
    try {
      assert.equal(
        await marker(follower, C, true),
        ErrorCode.NOT_LEADER_OR_FOLLOWER,
        'only the leader writes markers',
      );
    } finally {
      follower.close();
    }

    for (const id of [leaderId, ...followers]) {
      const view = await committedView(id, 3, 7);
      assert.deepEqual(view.abortedTransactions, [{ producerId: B, firstOffset: 1 }], `broker ${id}`);
      assert.deepEqual(committedValues(view), ['a1', 'a2'], `broker ${id}`);
    }
    const index = txnIndex(leaderId);
    assert.notEqual(index, null);
    for (const id of followers) assert.equal(txnIndex(id), index, `broker ${id} has the leader's .txnindex`);

    await cluster.kill9(leaderId);
    const newLeader = await cluster.waitFor(
      `a new leader of ${TOPIC}-0`,
      async () => {
        const p = await partition();
        return p !== undefined && followers.includes(p.leaderId) && !p.isrNodes.includes(leaderId)
          ? p.leaderId
          : undefined;
      },
      30_000,
    );
    const view = await committedView(newLeader, 3, 7);
    assert.deepEqual(view.abortedTransactions, [{ producerId: B, firstOffset: 1 }]);

    // The coordinator (moved or not) ends C's transaction on the new leader.
    const conn = await connect(cluster.node(newLeader).port);
    try {
      assert.equal(await marker(conn, C, true), ErrorCode.NONE, outputs(cluster).slice(-3000));
      const done = await fetchCommitted(conn);
      assert.equal(done.lastStableOffset, 8);
      assert.deepEqual(committedValues(done), ['a1', 'a2', 'c1', 'p']);
      const latest = await conn.request(ListOffsets, {
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
      });
      assert.equal(latest.topics[0].partitions[0].offset, 8);
    } finally {
      conn.close();
    }

    // The dead leader comes back as a follower and ends up with the same state.
    await cluster.restart(leaderId);
    await cluster.waitFor(
      `broker ${leaderId} back in the ISR`,
      async () => ((await partition())?.isrNodes.includes(leaderId) ? true : undefined),
      30_000,
    );
    const back = await committedView(leaderId, 8, 8);
    assert.deepEqual(committedValues(back), ['a1', 'a2', 'c1', 'p']);
    assert.equal(txnIndex(leaderId), txnIndex(newLeader));
  });
});
