import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceType, Connection } from '@tributary/client';
import {
  AddOffsetsToTxn,
  AddPartitionsToTxn,
  ApiVersions,
  batchHeaders,
  ControlRecordType,
  CreateTopics,
  decodeRecordBatch,
  encodeRecordBatch,
  DescribeTransactions,
  EndTxn,
  ErrorCode,
  Fetch,
  FindCoordinator,
  IncrementalAlterConfigs,
  InitProducerId,
  JoinGroup,
  ListTransactions,
  OffsetFetch,
  parseControlRecord,
  Produce,
  SyncGroup,
  TxnOffsetCommit,
} from '@tributary/protocol';
import { startBroker, tempDir, type BrokerProcess } from '../support/broker-process';

const TOPIC = 'txn-data';

/**
 * The transaction coordinator's APIs on the wire against a broker process, every version,
 * with our own connection: a transaction's life from FindCoordinator to its markers,
 * offsets committed in a transaction, fencing, timeouts, and recovery after a restart.
 */
describe('transaction coordinator on the wire', () => {
  const dataDir = tempDir('transactions');
  const args = [
    '--set',
    'transaction.state.log.num.partitions=3',
    '--set',
    'offsets.topic.num.partitions=3',
    '--set',
    'group.initial.rebalance.delay.ms=0',
    '--set',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms=100',
  ];
  let broker: BrokerProcess;
  let conn: Connection;

  const connect = async () => {
    conn = await new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'txn-wire' }).connect();
  };

  before(async () => {
    broker = await startBroker({ dataDir, extraArgs: args });
    await connect();
    const created = await conn.request(CreateTopics, {
      topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
  });

  after(async () => {
    conn?.close();
    assert.equal(await broker.stop(), 0);
  });

  const restart = async (how: 'stop' | 'kill9') => {
    conn.close();
    if (how === 'stop') assert.equal(await broker.stop(), 0);
    else await broker.kill9();
    broker = await startBroker({ dataDir, extraArgs: args });
    await connect();
  };

  const init = async (transactionalId: string, transactionTimeoutMs = 60_000, version = 4) => {
    const r = await conn.send(InitProducerId, version, { transactionalId, transactionTimeoutMs });
    assert.equal(r.errorCode, ErrorCode.NONE, `InitProducerId of ${transactionalId}`);
    return { producerId: r.producerId, producerEpoch: r.producerEpoch };
  };

  const addPartitions = async (
    transactionalId: string,
    p: { producerId: number; producerEpoch: number },
    partitions: number[],
    version = 3,
  ) => {
    const r = await conn.send(AddPartitionsToTxn, version, {
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions }],
    });
    return r.resultsByTopicV3AndBelow[0].resultsByPartition.map((x) => x.partitionErrorCode);
  };

  const endTxn = async (
    transactionalId: string,
    p: { producerId: number; producerEpoch: number },
    committed: boolean,
    version = 3,
  ) => (await conn.send(EndTxn, version, { transactionalId, ...p, committed })).errorCode;

  const describeTxn = async (transactionalId: string) =>
    (await conn.request(DescribeTransactions, { transactionalIds: [transactionalId] })).transactionStates[0];

  const waitForState = async (transactionalId: string, state: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const d = await describeTxn(transactionalId);
      if (d.transactionState === state) return d;
      if (Date.now() > deadline) assert.fail(`${transactionalId} is ${d.transactionState}, not ${state}`);
      await sleep(20);
    }
  };

  /** The transaction markers in a partition: [producerId, producerEpoch, 'COMMIT' | 'ABORT']. */
  const markers = async (topic: string, partition: number) => {
    const r = await conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    const records = r.responses[0].partitions[0].records ?? Buffer.alloc(0);
    return [...batchHeaders(records)]
      .filter((h) => h.isControl)
      .map((h) => {
        const type = parseControlRecord(decodeRecordBatch(records, h.at).records[0])
          .type as ControlRecordType;
        return [h.producerId, h.producerEpoch, type === ControlRecordType.Commit ? 'COMMIT' : 'ABORT'];
      });
  };

  const fetchOffset = async (groupId: string, partition: number, requireStable: boolean) => {
    const r = await conn.send(OffsetFetch, 7, {
      groupId,
      topics: [{ name: TOPIC, partitionIndexes: [partition] }],
      requireStable,
    });
    const p = r.topics[0].partitions[0];
    return [p.errorCode, p.committedOffset];
  };

  test('ApiVersions advertises the transaction APIs', async () => {
    const r = await conn.request(ApiVersions, { clientSoftwareName: 'wire', clientSoftwareVersion: '1' });
    const ranges = new Map(r.apiKeys.map((k) => [k.apiKey, `${k.minVersion}-${k.maxVersion}`]));
    const expected: [number, string][] = [
      [22, '0-4'],
      [24, '0-4'],
      [25, '0-3'],
      [26, '0-3'],
      [28, '0-3'],
      [65, '0-0'],
      [66, '0-1'],
    ];
    for (const [key, range] of expected) assert.equal(ranges.get(key), range, `API key ${key}`);
  });

  for (let v = 0; v <= 3; v++) {
    test(`a committed and an aborted transaction in v${v} of AddPartitionsToTxn and EndTxn`, async () => {
      const id = `wire-${v}`;
      const coordinator = await conn.send(FindCoordinator, Math.max(v, 1), { key: id, keyType: 1 });
      assert.deepEqual([coordinator.errorCode, coordinator.port], [ErrorCode.NONE, broker.port]);
      const p = await init(id, 60_000, Math.min(v + 1, 4));
      assert.deepEqual(await addPartitions(id, p, [0, 1], v), [ErrorCode.NONE, ErrorCode.NONE]);
      const described = await describeTxn(id);
      assert.equal(described.transactionState, 'Ongoing');
      assert.deepEqual(described.topics, [{ topic: TOPIC, partitions: [0, 1] }]);
      assert.equal(await endTxn(id, p, true, v), ErrorCode.NONE);
      await waitForState(id, 'CompleteCommit');
      assert.equal(await endTxn(id, p, true, v), ErrorCode.NONE, 'a retried EndTxn is answered as done');
      assert.deepEqual(await addPartitions(id, p, [1], v), [ErrorCode.NONE]);
      assert.equal(await endTxn(id, p, false, v), ErrorCode.NONE);
      await waitForState(id, 'CompleteAbort');
      for (const partition of [0, 1]) {
        const mine = (await markers(TOPIC, partition)).filter(([pid]) => pid === p.producerId);
        assert.deepEqual(
          mine,
          partition === 0
            ? [[p.producerId, p.producerEpoch, 'COMMIT']]
            : [
                [p.producerId, p.producerEpoch, 'COMMIT'],
                [p.producerId, p.producerEpoch, 'ABORT'],
              ],
        );
      }
    });
  }

  test('offsets committed in a transaction are unstable until it commits, and go if it aborts', async () => {
    const group = 'txn-offsets';
    for (let v = 0; v <= 3; v++) {
      const id = `offsets-${v}`;
      const p = await init(id);
      for (const committed of [true, false]) {
        const added = await conn.send(AddOffsetsToTxn, v, { transactionalId: id, ...p, groupId: group });
        assert.equal(added.errorCode, ErrorCode.NONE);
        const offset = 100 * v + (committed ? 10 : 20);
        const r = await conn.send(TxnOffsetCommit, v, {
          transactionalId: id,
          groupId: group,
          ...p,
          topics: [
            {
              name: TOPIC,
              partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: `v${v}` }],
            },
          ],
        });
        assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.NONE, `TxnOffsetCommit v${v}`);
        const [before] = await fetchOffset(group, 0, true);
        assert.equal(before, ErrorCode.UNSTABLE_OFFSET_COMMIT);
        const previous = (await fetchOffset(group, 0, false))[1];
        assert.notEqual(previous, offset, 'not visible before the commit');
        assert.equal(await endTxn(id, p, committed), ErrorCode.NONE);
        await waitForState(id, committed ? 'CompleteCommit' : 'CompleteAbort');
        const expected = committed ? offset : previous;
        assert.deepEqual(await fetchOffset(group, 0, true), [ErrorCode.NONE, expected], `v${v} ${committed}`);
      }
    }
  });

  test("KIP-447: a TxnOffsetCommit naming a member must match the group's generation", async () => {
    const group = 'txn-members';
    const join = await conn.send(JoinGroup, 3, {
      groupId: group,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    assert.equal(join.errorCode, ErrorCode.NONE);
    const sync = await conn.send(SyncGroup, 3, {
      groupId: group,
      generationId: join.generationId,
      memberId: join.memberId,
      groupInstanceId: null,
      assignments: [],
    });
    assert.equal(sync.errorCode, ErrorCode.NONE);
    const p = await init('members');
    await conn.send(AddOffsetsToTxn, 3, { transactionalId: 'members', ...p, groupId: group });
    const commit = (generationId: number, memberId: string) =>
      conn
        .send(TxnOffsetCommit, 3, {
          transactionalId: 'members',
          groupId: group,
          ...p,
          generationId,
          memberId,
          groupInstanceId: null,
          topics: [
            { name: TOPIC, partitions: [{ partitionIndex: 1, committedOffset: 5, committedMetadata: null }] },
          ],
        })
        .then((r) => r.topics[0].partitions[0].errorCode);
    assert.equal(await commit(join.generationId + 1, join.memberId), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await commit(join.generationId, 'someone-else'), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await commit(join.generationId, join.memberId), ErrorCode.NONE);
    assert.equal(await endTxn('members', p, true), ErrorCode.NONE);
    await waitForState('members', 'CompleteCommit');
  });

  test('a second producer instance fences the first; older versions hear INVALID_PRODUCER_EPOCH', async () => {
    const id = 'zombie';
    const old = await init(id);
    assert.deepEqual(await addPartitions(id, old, [0]), [ErrorCode.NONE]);
    const fencing = await conn.send(InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: 60_000 });
    assert.equal(fencing.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    await waitForState(id, 'CompleteAbort');
    const fresh = await init(id);
    assert.deepEqual(fresh, { producerId: old.producerId, producerEpoch: old.producerEpoch + 2 });
    assert.deepEqual(
      (await markers(TOPIC, 0)).filter(([pid]) => pid === old.producerId),
      [[old.producerId, old.producerEpoch + 1, 'ABORT']],
    );
    assert.equal(await endTxn(id, old, true, 2), ErrorCode.PRODUCER_FENCED);
    assert.equal(await endTxn(id, old, true, 1), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.deepEqual(await addPartitions(id, old, [1], 2), [ErrorCode.PRODUCER_FENCED]);
    assert.deepEqual(await addPartitions(id, old, [1], 1), [ErrorCode.INVALID_PRODUCER_EPOCH]);
    const resumed = (version: number) =>
      conn.send(InitProducerId, version, { transactionalId: id, transactionTimeoutMs: 60_000, ...old });
    assert.equal((await resumed(4)).errorCode, ErrorCode.PRODUCER_FENCED);
    assert.equal((await resumed(3)).errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  test('a transaction past transaction.timeout.ms is aborted and its producer fenced', async () => {
    const id = 'slow';
    const p = await init(id, 300);
    assert.deepEqual(await addPartitions(id, p, [1]), [ErrorCode.NONE]);
    const started = Date.now();
    await waitForState(id, 'CompleteAbort');
    assert.ok(Date.now() - started >= 200, 'not before its timeout');
    assert.equal(await endTxn(id, p, true), ErrorCode.PRODUCER_FENCED);
    assert.deepEqual(
      (await markers(TOPIC, 1)).filter(([pid]) => pid === p.producerId),
      [[p.producerId, p.producerEpoch + 1, 'ABORT']],
    );
  });

  test('KIP-890: a transactional batch is appended only to a partition its coordinator has in the transaction', async () => {
    const id = 'verified';
    const p = await init(id);
    const produce = async (partition: number, baseSequence: number) => {
      const records = encodeRecordBatch({
        records: [{ key: null, value: Buffer.from(`${id}-${partition}-${baseSequence}`) }],
        ...p,
        baseSequence,
        isTransactional: true,
      });
      const r = await conn.request(Produce, {
        transactionalId: id,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
      });
      return r.responses[0].partitionResponses[0].errorCode;
    };
    const verification = async (enable: boolean) => {
      const r = await conn.request(IncrementalAlterConfigs, {
        resources: [
          {
            resourceType: ConfigResourceType.BROKER,
            resourceName: '',
            configs: [
              { name: 'transaction.partition.verification.enable', configOperation: 0, value: `${enable}` },
            ],
          },
        ],
        validateOnly: false,
      });
      assert.equal(r.responses[0].errorCode, ErrorCode.NONE);
    };
    assert.deepEqual(await addPartitions(id, p, [0]), [ErrorCode.NONE]);
    assert.equal(await produce(0, 0), ErrorCode.NONE);
    assert.equal(await produce(1, 0), ErrorCode.INVALID_TXN_STATE, 'partition 1 was not added');
    // Off (a cluster-wide dynamic setting), the leader takes the producer's word for it.
    await verification(false);
    try {
      assert.equal(await produce(1, 0), ErrorCode.NONE);
    } finally {
      await verification(true);
    }
    // Added late, so the abort's marker closes the transaction there too.
    assert.deepEqual(await addPartitions(id, p, [1]), [ErrorCode.NONE]);
    assert.equal(await endTxn(id, p, false), ErrorCode.NONE);
    await waitForState(id, 'CompleteAbort');
    for (const partition of [0, 1])
      assert.deepEqual(
        (await markers(TOPIC, partition)).filter(([pid]) => pid === p.producerId),
        [[p.producerId, p.producerEpoch, 'ABORT']],
      );
  });

  test('bad requests: a timeout above transaction.max.timeout.ms, unknown partitions', async () => {
    const r = await conn.send(InitProducerId, 4, { transactionalId: 'bad', transactionTimeoutMs: 900_001 });
    assert.equal(r.errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const p = await init('bad');
    const refused = await conn.send(AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: 'bad',
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [
        { name: TOPIC, partitions: [0, 9] },
        { name: 'no-such-topic', partitions: [0] },
      ],
    });
    assert.deepEqual(
      refused.resultsByTopicV3AndBelow.map((t) => t.resultsByPartition.map((x) => x.partitionErrorCode)),
      [
        [ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ],
    );
    assert.equal((await describeTxn('bad')).transactionState, 'Empty', 'nothing was added');
    const unknown = await describeTxn('never-seen');
    assert.equal(unknown.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  });

  test('ListTransactions v0 and v1 filter by state, producer id and duration', async () => {
    const p = await init('listed');
    await addPartitions('listed', p, [0]);
    const list = async (version: number, body: Parameters<typeof conn.send<typeof ListTransactions>>[2]) => {
      const r = await conn.send(ListTransactions, version, body);
      assert.equal(r.errorCode, ErrorCode.NONE);
      return r;
    };
    const all = await list(0, { stateFilters: [], producerIdFilters: [] });
    assert.ok(
      all.transactionStates.some((t) => t.transactionalId === 'listed' && t.transactionState === 'Ongoing'),
    );
    const ongoing = await list(0, {
      stateFilters: ['Ongoing', 'Nonsense'],
      producerIdFilters: [p.producerId],
    });
    assert.deepEqual(ongoing.transactionStates, [
      { transactionalId: 'listed', producerId: p.producerId, transactionState: 'Ongoing' },
    ]);
    assert.deepEqual(ongoing.unknownStateFilters, ['Nonsense']);
    const old = await list(1, {
      stateFilters: ['Ongoing'],
      producerIdFilters: [],
      durationFilter: 3_600_000,
    });
    assert.deepEqual(old.transactionStates, []);
    assert.equal(await endTxn('listed', p, false), ErrorCode.NONE);
  });

  test('transactions and their offsets survive a clean restart and a kill -9', async () => {
    const group = 'restarts';
    const open = await init('open-across');
    assert.deepEqual(await addPartitions('open-across', open, [0, 1]), [ErrorCode.NONE, ErrorCode.NONE]);
    const offsets = await init('offsets-across');
    await conn.send(AddOffsetsToTxn, 3, { transactionalId: 'offsets-across', ...offsets, groupId: group });
    const commitOffset = (offset: number) =>
      conn.send(TxnOffsetCommit, 3, {
        transactionalId: 'offsets-across',
        groupId: group,
        ...offsets,
        topics: [
          {
            name: TOPIC,
            partitions: [{ partitionIndex: 0, committedOffset: offset, committedMetadata: null }],
          },
        ],
      });
    await commitOffset(42);
    await restart('stop');
    assert.deepEqual(await fetchOffset(group, 0, true), [ErrorCode.UNSTABLE_OFFSET_COMMIT, -1]);
    const d = await describeTxn('open-across');
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics, [{ topic: TOPIC, partitions: [0, 1] }]);
    assert.equal(await endTxn('offsets-across', offsets, true), ErrorCode.NONE);
    await waitForState('offsets-across', 'CompleteCommit');
    assert.deepEqual(await fetchOffset(group, 0, true), [ErrorCode.NONE, 42]);
    await restart('kill9');
    assert.deepEqual(await fetchOffset(group, 0, true), [ErrorCode.NONE, 42]);
    assert.equal((await describeTxn('open-across')).transactionState, 'Ongoing');
    assert.equal(await endTxn('open-across', open, true), ErrorCode.NONE);
    await waitForState('open-across', 'CompleteCommit');
    // The producer id and epoch carry on after the restarts.
    assert.deepEqual(await init('open-across'), { ...open, producerEpoch: open.producerEpoch + 1 });
  });
});
