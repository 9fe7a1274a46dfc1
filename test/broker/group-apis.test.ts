import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@tributary/client';
import {
  ApiVersions,
  CreateTopics,
  DeleteGroups,
  DescribeGroups,
  ErrorCode,
  FindCoordinator,
  Heartbeat,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  Metadata,
  OffsetCommit,
  OffsetDelete,
  OffsetFetch,
  SyncGroup,
  Writer,
} from '@tributary/protocol';
import { startBroker, tempDir, type BrokerProcess } from '../support/broker-process';

/** A ConsumerProtocolSubscription v0 for the topics. */
function subscription(...topics: string[]): Buffer {
  const w = new Writer(64).int16(0).int32(topics.length);
  for (const t of topics) w.string(t);
  return w.nullableBytes(null).toBuffer();
}

const TOPIC = 'group-apis';

/**
 * Every version of every group API on the wire against a broker process, with our own
 * connection: each version's fields decode and encode as the clients of that version expect.
 */
describe('group APIs on the wire', () => {
  let broker: BrokerProcess;
  let conn: Connection;
  const dataDir = tempDir('group-apis');
  const args = [
    '--set',
    'group.initial.rebalance.delay.ms=0',
    '--set',
    'offsets.topic.num.partitions=4',
    '--set',
    'offsets.retention.check.interval.ms=200',
    '--set',
    'transaction.state.log.num.partitions=3',
  ];

  before(async () => {
    broker = await startBroker({ dataDir, extraArgs: args });
    conn = await new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'wire' }).connect();
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

  test('ApiVersions advertises the group APIs in their full ranges', async () => {
    const r = await conn.request(ApiVersions, { clientSoftwareName: 'wire', clientSoftwareVersion: '1' });
    const ranges = new Map(r.apiKeys.map((k) => [k.apiKey, `${k.minVersion}-${k.maxVersion}`]));
    const expected: [number, string][] = [
      [8, '0-8'],
      [9, '0-8'],
      [10, '0-4'],
      [11, '0-9'],
      [12, '0-4'],
      [13, '0-5'],
      [14, '0-5'],
      [15, '0-5'],
      [16, '0-4'],
      [42, '0-2'],
      [47, '0-0'],
    ];
    for (const [key, range] of expected) assert.equal(ranges.get(key), range, `API key ${key}`);
  });

  test('FindCoordinator v0-v4 names this broker for groups and transactions', async () => {
    for (let v = 0; v <= 3; v++) {
      const r = await conn.send(FindCoordinator, v, { key: 'some-group', keyType: 0 });
      assert.equal(r.errorCode, ErrorCode.NONE, `v${v}`);
      assert.deepEqual([r.nodeId, r.host, r.port], [1, '127.0.0.1', broker.port], `v${v}`);
      if (v >= 1) {
        const txn = await conn.send(FindCoordinator, v, { key: 'txn', keyType: 1 });
        assert.equal(txn.errorCode, ErrorCode.NONE, `v${v}`);
        assert.deepEqual([txn.nodeId, txn.port], [1, broker.port], `v${v}`);
      }
    }
    const batched = await conn.send(FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b', 'c'] });
    assert.deepEqual(
      batched.coordinators.map((c) => [c.key, c.nodeId, c.port, c.errorCode]),
      ['a', 'b', 'c'].map((k) => [k, 1, broker.port, ErrorCode.NONE]),
    );
    const unknownType = await conn.send(FindCoordinator, 4, { keyType: 7, coordinatorKeys: ['x'] });
    assert.equal(unknownType.coordinators[0].errorCode, ErrorCode.INVALID_REQUEST);
    // The first FindCoordinator for a group created the offsets topic, internal and compacted.
    const md = await conn.request(Metadata, { topics: [{ name: '__consumer_offsets' }] });
    assert.equal(md.topics[0].errorCode, ErrorCode.NONE);
    assert.equal(md.topics[0].partitions.length, 4);
    assert.equal(md.topics[0].isInternal, true);
    // And the first one for a transactional id created the transaction log.
    const txnLog = await conn.request(Metadata, { topics: [{ name: '__transaction_state' }] });
    assert.equal(txnLog.topics[0].partitions.length, 3);
    assert.equal(txnLog.topics[0].isInternal, true);
  });

  // One group per JoinGroup version; the other APIs are used in the version closest to it, so
  // that together every version of every group API is exercised.
  for (let v = 0; v <= 9; v++) {
    test(`a group's life in JoinGroup v${v} with the other group APIs in matching versions`, async () => {
      const groupId = `wire-v${v}`;
      const sv = Math.min(v, 5);
      const hv = Math.min(v, 4);
      const lv = Math.min(v, 5);
      const cv = Math.min(v, 8);
      const join = (memberId: string) =>
        conn.send(JoinGroup, v, {
          groupId,
          sessionTimeoutMs: 10_000,
          rebalanceTimeoutMs: 10_000,
          memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: subscription(TOPIC) }],
          reason: 'test',
        });
      let joined = await join('');
      if (v >= 4) {
        assert.equal(joined.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
        assert.match(joined.memberId, /^wire-/);
        joined = await join(joined.memberId);
      }
      assert.equal(joined.errorCode, ErrorCode.NONE);
      assert.equal(joined.generationId, 1);
      assert.equal(joined.protocolName, 'range');
      assert.equal(joined.leader, joined.memberId);
      assert.deepEqual(
        joined.members.map((m) => [m.memberId, m.metadata]),
        [[joined.memberId, subscription(TOPIC)]],
      );
      const memberId = joined.memberId;

      const synced = await conn.send(SyncGroup, sv, {
        groupId,
        generationId: 1,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [{ memberId, assignment: Buffer.from('both partitions') }],
      });
      assert.equal(synced.errorCode, ErrorCode.NONE);
      assert.equal(synced.assignment.toString(), 'both partitions');
      if (sv >= 5) assert.deepEqual([synced.protocolType, synced.protocolName], ['consumer', 'range']);

      const beat = await conn.send(Heartbeat, hv, {
        groupId,
        generationId: 1,
        memberId,
        groupInstanceId: null,
      });
      assert.equal(beat.errorCode, ErrorCode.NONE);
      const stale = await conn.send(Heartbeat, hv, {
        groupId,
        generationId: 0,
        memberId,
        groupInstanceId: null,
      });
      assert.equal(stale.errorCode, ErrorCode.ILLEGAL_GENERATION);

      // OffsetCommit v0 predates generations and member ids: it only works for an empty group.
      const committed = await conn.send(OffsetCommit, cv, {
        groupId,
        generationIdOrMemberEpoch: 1,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: [
          {
            name: TOPIC,
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 10 + v,
                committedLeaderEpoch: 0,
                commitTimestamp: -1,
                committedMetadata: 'meta',
              },
              {
                partitionIndex: 9,
                committedOffset: 1,
                committedLeaderEpoch: -1,
                commitTimestamp: -1,
                committedMetadata: null,
              },
            ],
          },
          {
            name: 'no-such-topic',
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 1,
                committedLeaderEpoch: -1,
                commitTimestamp: -1,
                committedMetadata: null,
              },
            ],
          },
        ],
      });
      assert.deepEqual(
        committed.topics.map((t) => t.partitions.map((p) => p.errorCode)),
        [
          [cv === 0 ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
          [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ],
      );

      const wanted = [{ name: TOPIC, partitionIndexes: [0, 1] }];
      const expectedOffsets = [
        [0, cv === 0 ? -1 : 10 + v, cv === 0 ? '' : 'meta'],
        [1, -1, ''],
      ];
      if (cv >= 8) {
        const fetched = await conn.send(OffsetFetch, cv, {
          groups: [{ groupId, topics: wanted }],
          requireStable: false,
        });
        const g = fetched.groups[0];
        assert.equal(g.errorCode, ErrorCode.NONE);
        assert.deepEqual(
          g.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
          expectedOffsets,
        );
      } else {
        const fetched = await conn.send(OffsetFetch, cv, { groupId, topics: wanted, requireStable: false });
        assert.equal(fetched.errorCode, ErrorCode.NONE);
        assert.deepEqual(
          fetched.topics[0].partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
          expectedOffsets,
        );
        if (cv >= 5) assert.equal(fetched.topics[0].partitions[0].committedLeaderEpoch, cv >= 6 ? 0 : -1);
      }

      const described = await conn.send(DescribeGroups, Math.min(v, 5), {
        groups: [groupId],
        includeAuthorizedOperations: true,
      });
      const d = described.groups[0];
      assert.deepEqual(
        [d.errorCode, d.groupState, d.protocolType, d.protocolData],
        [0, 'Stable', 'consumer', 'range'],
      );
      assert.deepEqual(
        d.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.memberAssignment.toString()]),
        [[memberId, 'wire', '/127.0.0.1', 'both partitions']],
      );
      if (v >= 3) assert.notEqual(d.authorizedOperations, -2147483648);

      const listed = await conn.send(ListGroups, Math.min(v, 4), { statesFilter: ['Stable'] });
      const mine = listed.groups.find((g) => g.groupId === groupId);
      assert.equal(mine?.protocolType, 'consumer');
      if (v >= 4) assert.equal(mine?.groupState, 'Stable');

      const busy = await conn.send(DeleteGroups, Math.min(v, 2), { groupsNames: [groupId] });
      assert.equal(busy.results[0].errorCode, ErrorCode.NON_EMPTY_GROUP);

      const left =
        lv >= 3
          ? await conn.send(LeaveGroup, lv, {
              groupId,
              members: [{ memberId, groupInstanceId: null, reason: 'done' }],
            })
          : await conn.send(LeaveGroup, lv, { groupId, memberId });
      assert.equal(left.errorCode, ErrorCode.NONE);
      if (lv >= 3)
        assert.deepEqual(left.members, [{ memberId, groupInstanceId: null, errorCode: ErrorCode.NONE }]);
      const again =
        lv >= 3
          ? await conn.send(LeaveGroup, lv, {
              groupId,
              members: [{ memberId, groupInstanceId: null, reason: null }],
            })
          : await conn.send(LeaveGroup, lv, { groupId, memberId });
      if (lv >= 3) assert.equal(again.members[0].errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
      else assert.equal(again.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

      const deleted = await conn.send(DeleteGroups, Math.min(v, 2), {
        groupsNames: [groupId, `${groupId}-unknown`],
      });
      assert.deepEqual(
        deleted.results.map((r) => [r.groupId, r.errorCode]),
        [
          [groupId, ErrorCode.NONE],
          [`${groupId}-unknown`, ErrorCode.GROUP_ID_NOT_FOUND],
        ],
      );
    });
  }

  test('OffsetFetch v8 answers several groups at once; a null topic list means all committed partitions', async () => {
    for (const [groupId, offset] of [
      ['multi-a', 5],
      ['multi-b', 6],
    ] as const) {
      const r = await conn.send(OffsetCommit, 8, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: TOPIC,
            partitions: [
              {
                partitionIndex: 1,
                committedOffset: offset,
                committedLeaderEpoch: -1,
                committedMetadata: null,
              },
            ],
          },
        ],
      });
      assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    }
    const r = await conn.send(OffsetFetch, 8, {
      groups: [
        { groupId: 'multi-a', topics: null },
        { groupId: 'multi-b', topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] },
        { groupId: 'multi-none', topics: null },
      ],
      requireStable: true,
    });
    assert.deepEqual(
      r.groups.map((g) => [
        g.groupId,
        g.errorCode,
        g.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset])),
      ]),
      [
        ['multi-a', 0, [[TOPIC, 1, 5]]],
        [
          'multi-b',
          0,
          [
            [TOPIC, 0, -1],
            [TOPIC, 1, 6],
          ],
        ],
        ['multi-none', 0, []],
      ],
    );
  });

  test('LeaveGroup v3+ removes several members in one request; OffsetDelete spares subscribed topics', async () => {
    const groupId = 'batch-leave';
    const join = (c: Connection, memberId: string) =>
      c.send(JoinGroup, 5, {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscription(TOPIC) }],
      });
    const syncAs = (c: Connection, generationId: number, memberId: string) =>
      c.send(SyncGroup, 3, { groupId, generationId, memberId, groupInstanceId: null, assignments: [] });
    // A second connection, since a JoinGroup waits for the rebalance.
    const other = await new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'other' }).connect();
    try {
      // The first member forms generation 1 alone.
      const first = await join(conn, (await join(conn, '')).memberId);
      await syncAs(conn, first.generationId, first.memberId);
      // The second one's join starts a rebalance; the first hears of it by heartbeat and rejoins.
      const second = join(other, (await join(other, '')).memberId);
      // The join travels on another connection, so a heartbeat may still reach the broker first.
      const heartbeat = () =>
        conn.send(Heartbeat, 3, {
          groupId,
          generationId: first.generationId,
          memberId: first.memberId,
          groupInstanceId: null,
        });
      let beat = await heartbeat();
      for (let tries = 0; beat.errorCode === ErrorCode.NONE && tries < 50; tries++) {
        await sleep(100);
        beat = await heartbeat();
      }
      assert.equal(beat.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
      const [a, b] = await Promise.all([join(conn, first.memberId), second]);
      assert.equal(a.generationId, first.generationId + 1);
      assert.equal(b.generationId, a.generationId);
      const leader = a.leader === a.memberId ? a : b;
      await Promise.all([
        syncAs(conn, a.generationId, a.memberId),
        syncAs(other, b.generationId, b.memberId),
      ]);
      const committed = await conn.send(OffsetCommit, 7, {
        groupId,
        generationIdOrMemberEpoch: leader.generationId,
        memberId: leader.memberId,
        groupInstanceId: null,
        topics: [
          {
            name: TOPIC,
            partitions: [
              { partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null },
            ],
          },
        ],
      });
      assert.equal(committed.topics[0].partitions[0].errorCode, ErrorCode.NONE);
      const refused = await conn.send(OffsetDelete, 0, {
        groupId,
        topics: [
          { name: TOPIC, partitions: [{ partitionIndex: 0 }] },
          { name: 'no-such-topic', partitions: [{ partitionIndex: 0 }] },
        ],
      });
      assert.equal(refused.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        refused.topics.map((t) => t.partitions[0].errorCode),
        [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      );

      const left = await conn.send(LeaveGroup, 4, {
        groupId,
        members: [
          { memberId: a.memberId, groupInstanceId: null },
          { memberId: b.memberId, groupInstanceId: null },
          { memberId: 'stranger', groupInstanceId: null },
        ],
      });
      assert.deepEqual(
        left.members.map((m) => m.errorCode),
        [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
      );
      const d = await conn.send(DescribeGroups, 5, { groups: [groupId], includeAuthorizedOperations: false });
      assert.equal(d.groups[0].groupState, 'Empty');
      const removed = await conn.send(OffsetDelete, 0, {
        groupId,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }],
      });
      assert.equal(removed.topics[0].partitions[0].errorCode, ErrorCode.NONE);
      const fetched = await conn.send(OffsetFetch, 7, {
        groupId,
        topics: [{ name: TOPIC, partitionIndexes: [0] }],
        requireStable: false,
      });
      assert.equal(fetched.topics[0].partitions[0].committedOffset, -1);
    } finally {
      other.close();
    }
  });

  test('bad group requests get Kafka error codes', async () => {
    const join = await conn.send(JoinGroup, 5, {
      groupId: '',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(TOPIC) }],
    });
    assert.equal(join.errorCode, ErrorCode.INVALID_GROUP_ID);
    const shortSession = await conn.send(JoinGroup, 5, {
      groupId: 'g',
      sessionTimeoutMs: 10,
      rebalanceTimeoutMs: 10_000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(TOPIC) }],
    });
    assert.equal(shortSession.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    const sync = await conn.send(SyncGroup, 5, {
      groupId: 'nobody',
      generationId: 1,
      memberId: 'x',
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.equal(sync.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const tooLarge = await conn.send(OffsetCommit, 8, {
      groupId: 'meta',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: TOPIC,
          partitions: [
            {
              partitionIndex: 0,
              committedOffset: 1,
              committedLeaderEpoch: -1,
              committedMetadata: 'x'.repeat(4097),
            },
            {
              partitionIndex: 1,
              committedOffset: 1,
              committedLeaderEpoch: -1,
              committedMetadata: 'x'.repeat(4096),
            },
          ],
        },
      ],
    });
    assert.deepEqual(
      tooLarge.topics[0].partitions.map((p) => p.errorCode),
      [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE],
    );
    const emptyLeave = await conn.send(LeaveGroup, 3, { groupId: 'g', members: [] });
    assert.equal(emptyLeave.errorCode, ErrorCode.INVALID_REQUEST);
  });

  test('offsets past their retention are removed by the retention check, with tombstones that survive a restart', async () => {
    // OffsetCommit v2-v4 carry their own retention, which lets this run in seconds rather than minutes.
    const committedAt = Date.now();
    const r = await conn.send(OffsetCommit, 2, {
      groupId: 'short-lived',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      retentionTimeMs: 1000,
      topics: [
        { name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: null }] },
      ],
    });
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.NONE);
    const fetch = async () =>
      (await conn.send(OffsetFetch, 7, { groupId: 'short-lived', topics: null, requireStable: false }))
        .topics;
    assert.equal((await fetch()).length, 1);
    while ((await fetch()).length > 0 && Date.now() - committedAt < 10_000) await sleep(100);
    assert.ok(Date.now() - committedAt >= 900, 'kept until its retention was over');
    assert.deepEqual(await fetch(), []);
    const listed = await conn.send(ListGroups, 4, { statesFilter: [] });
    assert.equal(
      listed.groups.some((g) => g.groupId === 'short-lived'),
      false,
    );

    conn.close();
    assert.equal(await broker.stop(), 0);
    broker = await startBroker({ dataDir, extraArgs: args });
    conn = await new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'wire' }).connect();
    assert.deepEqual(await fetch(), []);
    // What was committed for good is still there.
    const kept = await conn.send(OffsetFetch, 8, {
      groups: [{ groupId: 'multi-a', topics: null }],
      requireStable: false,
    });
    assert.equal(kept.groups[0].topics[0].partitions[0].committedOffset, 5);
  });
});
