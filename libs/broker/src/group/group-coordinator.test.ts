import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeRecordBatches, ErrorCode, Writer } from '@tributary/protocol';
import { LogManager } from '@tributary/storage';
import type { JoinGroupResult } from './group';
import type { GroupConfig } from './group-config';
import { GroupCoordinator, type JoinGroupParams } from './group-coordinator';
import { decodeGroupRecordKey, decodeOffsetCommitValue, offsetsPartitionFor } from './group-records';
import { GroupStore, OFFSETS_TOPIC } from './group-store';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const dirs: string[] = [];

after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function groupConfig(overrides: Partial<GroupConfig> = {}): GroupConfig {
  return {
    minSessionTimeoutMs: 10,
    maxSessionTimeoutMs: 60_000,
    initialRebalanceDelayMs: 0,
    maxSize: 1000,
    offsetsTopicNumPartitions: 3,
    offsetsTopicReplicationFactor: 1,
    offsetsTopicSegmentBytes: 1 << 20,
    offsetsRetentionMs: 7 * 24 * 3600 * 1000,
    offsetsRetentionCheckIntervalMs: 600_000,
    offsetMetadataMaxBytes: 4096,
    ...overrides,
  };
}

/** A coordinator over a real log directory, reopenable to test reloading. */
class Harness {
  readonly logs: LogManager;
  readonly store: GroupStore;
  readonly coordinator: GroupCoordinator;
  // The coordinator's timers do not hold the process open; the test's waits must.
  private readonly keepAlive = setInterval(() => undefined, 1000);

  constructor(
    readonly dir: string,
    readonly config: GroupConfig,
  ) {
    this.logs = new LogManager({ dataDir: dir, brokerConfig: {}, logger: quiet });
    this.logs.open();
    this.store = new GroupStore({ logs: this.logs, config, logger: quiet, leaderEpoch: () => 0 });
    this.coordinator = new GroupCoordinator({ config, store: this.store, logger: quiet });
    this.coordinator.startup();
  }

  static create(overrides: Partial<GroupConfig> = {}): Harness {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-groups-'));
    dirs.push(dir);
    return new Harness(dir, groupConfig(overrides));
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.coordinator.shutdown();
    this.logs.close();
  }

  /** Closes and opens a new coordinator over the same directory, as a restarted broker would. */
  reopen(overrides: Partial<GroupConfig> = {}): Harness {
    this.close();
    return new Harness(this.dir, { ...this.config, ...overrides });
  }

  /** The records of a group's partition of __consumer_offsets, as Kafka's tools would read them. */
  offsetsTopicRecords(groupId: string): { key: Buffer; value: Buffer | null }[] {
    const partition = offsetsPartitionFor(groupId, this.config.offsetsTopicNumPartitions);
    const log = this.logs.partition(OFFSETS_TOPIC, partition);
    assert.ok(log, `${OFFSETS_TOPIC}-${partition} exists`);
    const { records } = log.read(0, 1 << 20, { minOneBatch: true });
    return decodeRecordBatches(records)
      .flatMap((b) => b.records.map((r) => ({ key: r.key as Buffer, value: r.value })))
      .filter((r) => decodeGroupRecordKey(r.key)?.group === groupId);
  }
}

/** A ConsumerProtocolSubscription v0: the topics, no user data. */
function subscription(...topics: string[]): Buffer {
  const w = new Writer(64).int16(0).int32(topics.length);
  for (const t of topics) w.string(t);
  return w.nullableBytes(null).toBuffer();
}

function joinParams(overrides: Partial<JoinGroupParams>): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 5000,
    rebalanceTimeoutMs: 5000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('t') }],
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    ...overrides,
  };
}

/** Joins a new member and completes its first rebalance alone; returns its member id and generation. */
async function joinAlone(
  c: GroupCoordinator,
  overrides: Partial<JoinGroupParams> = {},
  assignment = Buffer.from('a'),
): Promise<JoinGroupResult> {
  const joined = await c.joinGroup(joinParams(overrides));
  assert.equal(joined.errorCode, ErrorCode.NONE);
  const synced = await c.syncGroup({
    groupId: overrides.groupId ?? 'g',
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: overrides.groupInstanceId ?? null,
    protocolType: null,
    protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment }],
  });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  return joined;
}

const sync = (
  c: GroupCoordinator,
  memberId: string,
  generationId: number,
  assignments: [string, string][] = [],
) =>
  c.syncGroup({
    groupId: 'g',
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments: assignments.map(([m, a]) => ({ memberId: m, assignment: Buffer.from(a) })),
  });

describe('group coordinator: joining and syncing', () => {
  test('a v4+ member joins in two steps, leads generation 1 alone and gets the assignment it sent', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const first = await c.joinGroup(joinParams({ requireKnownMemberId: true, clientId: 'app' }));
      assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      assert.match(first.memberId, /^app-[0-9a-f-]{36}$/);
      assert.equal(c.group('g')?.state, 'Empty', 'a pending member does not start a rebalance');

      const joined = await c.joinGroup(joinParams({ memberId: first.memberId, requireKnownMemberId: true }));
      assert.equal(joined.errorCode, ErrorCode.NONE);
      assert.equal(joined.memberId, first.memberId);
      assert.equal(joined.leaderId, first.memberId);
      assert.equal(joined.generationId, 1);
      assert.equal(joined.protocolName, 'range');
      assert.equal(joined.protocolType, 'consumer');
      assert.deepEqual(
        joined.members.map((m) => [m.memberId, m.metadata]),
        [[first.memberId, subscription('t')]],
      );
      assert.equal(c.group('g')?.state, 'CompletingRebalance');

      const synced = await sync(c, joined.memberId, 1, [[joined.memberId, 'p0,p1']]);
      assert.equal(synced.errorCode, ErrorCode.NONE);
      assert.equal(synced.assignment.toString(), 'p0,p1');
      assert.equal(c.group('g')?.state, 'Stable');
      assert.equal(c.heartbeat('g', joined.memberId, null, 1), ErrorCode.NONE);
    } finally {
      h.close();
    }
  });

  test('members arriving during the initial delay share one generation; only the leader sees the members', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 100 });
    try {
      const c = h.coordinator;
      const started = Date.now();
      const a = c.joinGroup(joinParams({ clientId: 'a' }));
      await sleep(60);
      // Joining during the delay extends it once more.
      const b = c.joinGroup(
        joinParams({ clientId: 'b', protocols: [{ name: 'range', metadata: subscription('u') }] }),
      );
      const [ja, jb] = await Promise.all([a, b]);
      assert.ok(Date.now() - started >= 150, 'the delay was extended for the second member');
      assert.equal(ja.generationId, 1);
      assert.equal(jb.generationId, 1);
      assert.equal(ja.leaderId, jb.leaderId);
      const [leader, follower] = ja.leaderId === ja.memberId ? [ja, jb] : [jb, ja];
      assert.equal(leader.members.length, 2);
      assert.deepEqual(follower.members, []);

      // The follower's SyncGroup waits for the leader's.
      let followerDone = false;
      const followerSync = sync(c, follower.memberId, 1).then((r) => {
        followerDone = true;
        return r;
      });
      await sleep(30);
      assert.equal(followerDone, false);
      const leaderSync = await sync(c, leader.memberId, 1, [
        [leader.memberId, 'L'],
        [follower.memberId, 'F'],
        ['not-a-member', 'X'],
      ]);
      assert.equal(leaderSync.assignment.toString(), 'L');
      assert.equal((await followerSync).assignment.toString(), 'F');
      assert.equal(c.group('g')?.state, 'Stable');
    } finally {
      h.close();
    }
  });

  test('the protocol is chosen by votes among those every member supports', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 50 });
    try {
      const c = h.coordinator;
      const p = (...names: string[]) => names.map((name) => ({ name, metadata: subscription('t') }));
      const results = await Promise.all([
        c.joinGroup(joinParams({ protocols: p('range', 'roundrobin', 'sticky') })),
        c.joinGroup(joinParams({ protocols: p('roundrobin', 'range') })),
        c.joinGroup(joinParams({ protocols: p('sticky', 'roundrobin', 'range') })),
      ]);
      // sticky is not supported by all; of range and roundrobin, roundrobin gets two first choices.
      for (const r of results) assert.equal(r.protocolName, 'roundrobin');

      const other = await c.joinGroup(joinParams({ protocols: p('cooperative-sticky') }));
      assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      const otherType = await c.joinGroup(joinParams({ protocolType: 'connect', protocols: p('range') }));
      assert.equal(otherType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      const none = await c.joinGroup(joinParams({ groupId: 'fresh', protocols: [] }));
      assert.equal(none.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      assert.equal(c.group('fresh'), undefined, 'a refused join leaves no group behind');
    } finally {
      h.close();
    }
  });

  test('bad joins, syncs and heartbeats get Kafka error codes', async () => {
    const h = Harness.create({ minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 10_000 });
    try {
      const c = h.coordinator;
      assert.equal(
        (await c.joinGroup(joinParams({ sessionTimeoutMs: 999 }))).errorCode,
        ErrorCode.INVALID_SESSION_TIMEOUT,
      );
      assert.equal(
        (await c.joinGroup(joinParams({ sessionTimeoutMs: 10_001 }))).errorCode,
        ErrorCode.INVALID_SESSION_TIMEOUT,
      );
      assert.equal((await c.joinGroup(joinParams({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
      assert.equal(
        (await c.joinGroup(joinParams({ memberId: 'who' }))).errorCode,
        ErrorCode.UNKNOWN_MEMBER_ID,
      );

      const m = await joinAlone(c);
      assert.equal(c.heartbeat('g', m.memberId, null, 0), ErrorCode.ILLEGAL_GENERATION);
      assert.equal(c.heartbeat('g', 'who', null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
      assert.equal(c.heartbeat('nope', m.memberId, null, 1), ErrorCode.UNKNOWN_MEMBER_ID);
      assert.equal(c.heartbeat('', m.memberId, null, 1), ErrorCode.INVALID_GROUP_ID);
      assert.equal((await sync(c, m.memberId, 7)).errorCode, ErrorCode.ILLEGAL_GENERATION);
      assert.equal((await sync(c, 'who', 1)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
      const wrongProtocol = await c.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: m.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'roundrobin',
        assignments: [],
      });
      assert.equal(wrongProtocol.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    } finally {
      h.close();
    }
  });

  test('group.max.size refuses new members with GROUP_MAX_SIZE_REACHED', async () => {
    const h = Harness.create({ maxSize: 1 });
    try {
      const c = h.coordinator;
      await joinAlone(c);
      const second = await c.joinGroup(joinParams({}));
      assert.equal(second.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    } finally {
      h.close();
    }
  });
});

describe('group coordinator: rebalances', () => {
  /** Two members through their first generation; returns [leader, follower] join results. */
  async function twoMembers(c: GroupCoordinator, overrides: Partial<JoinGroupParams> = {}) {
    const [ja, jb] = await Promise.all([
      c.joinGroup(joinParams({ clientId: 'a', ...overrides })),
      c.joinGroup(joinParams({ clientId: 'b', ...overrides })),
    ]);
    const [leader, follower] = ja.leaderId === ja.memberId ? [ja, jb] : [jb, ja];
    const followerSync = sync(c, follower.memberId, leader.generationId);
    await sync(c, leader.memberId, leader.generationId, [
      [leader.memberId, 'L'],
      [follower.memberId, 'F'],
    ]);
    assert.equal((await followerSync).errorCode, ErrorCode.NONE);
    return [leader, follower];
  }

  test('a follower rejoining with the same metadata keeps its generation; a changed member rebalances everyone', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      const [leader, follower] = await twoMembers(c);
      const gen = leader.generationId;

      // Same metadata from a follower of a stable group: no rebalance, straight on to SyncGroup.
      const again = await c.joinGroup(joinParams({ memberId: follower.memberId }));
      assert.equal(again.errorCode, ErrorCode.NONE);
      assert.equal(again.generationId, gen);
      assert.deepEqual(again.members, []);
      assert.equal(c.group('g')?.state, 'Stable');
      assert.equal((await sync(c, follower.memberId, gen)).assignment.toString(), 'F');

      // New metadata (as a cooperative member sends after revoking): a rebalance the leader hears of by heartbeat.
      const changed = c.joinGroup(
        joinParams({
          memberId: follower.memberId,
          protocols: [{ name: 'range', metadata: subscription('t', 'u') }],
        }),
      );
      assert.equal(c.group('g')?.state, 'PreparingRebalance');
      assert.equal(c.heartbeat('g', leader.memberId, null, gen), ErrorCode.REBALANCE_IN_PROGRESS);
      // Commits are still accepted while the group prepares its rebalance.
      const commit = c.commitOffsets({
        groupId: 'g',
        memberId: leader.memberId,
        groupInstanceId: null,
        generationId: gen,
        retentionTimeMs: -1,
        offsets: [
          { topic: 't', partition: 0, offset: 3, leaderEpoch: -1, metadata: '', commitTimestamp: -1 },
        ],
      });
      assert.equal(commit.errorCode, ErrorCode.NONE);
      const leaderAgain = c.joinGroup(joinParams({ memberId: leader.memberId }));
      const [f2, l2] = await Promise.all([changed, leaderAgain]);
      assert.equal(f2.generationId, gen + 1);
      assert.equal(l2.generationId, gen + 1);
      assert.equal(l2.leaderId, leader.memberId);
      assert.equal(l2.members.length, 2);
      assert.equal(c.heartbeat('g', leader.memberId, null, gen + 1), ErrorCode.NONE);
    } finally {
      h.close();
    }
  });

  test('a member that stops heartbeating expires after its session timeout and the other rebalances alone', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      const [leader, follower] = await twoMembers(c, { sessionTimeoutMs: 300, rebalanceTimeoutMs: 2000 });
      const gen = leader.generationId;
      const deadline = Date.now() + 2000;
      let code: number = ErrorCode.NONE;
      // Only the leader heartbeats.
      while (code === ErrorCode.NONE && Date.now() < deadline) {
        await sleep(50);
        code = c.heartbeat('g', leader.memberId, null, gen);
      }
      assert.equal(code, ErrorCode.REBALANCE_IN_PROGRESS);
      assert.equal(c.group('g')?.has(follower.memberId), false);
      const rejoined = await c.joinGroup(joinParams({ memberId: leader.memberId, sessionTimeoutMs: 300 }));
      assert.equal(rejoined.generationId, gen + 1);
      assert.deepEqual(
        rejoined.members.map((m) => m.memberId),
        [leader.memberId],
      );
      // The expired member is told to start again.
      assert.equal(c.heartbeat('g', follower.memberId, null, gen), ErrorCode.UNKNOWN_MEMBER_ID);
      assert.equal(
        (await c.joinGroup(joinParams({ memberId: follower.memberId }))).errorCode,
        ErrorCode.UNKNOWN_MEMBER_ID,
      );
    } finally {
      h.close();
    }
  });

  test('a member that does not rejoin within the rebalance timeout is left out of the next generation', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      const [leader, follower] = await twoMembers(c, { sessionTimeoutMs: 5000, rebalanceTimeoutMs: 300 });
      const started = Date.now();
      // The leader rejoins; the follower keeps heartbeating but never rejoins.
      const rejoin = c.joinGroup(joinParams({ memberId: leader.memberId, rebalanceTimeoutMs: 300 }));
      const beat = setInterval(() => c.heartbeat('g', follower.memberId, null, leader.generationId), 50);
      const result = await rejoin;
      clearInterval(beat);
      assert.ok(Date.now() - started >= 250, 'the rebalance waited for the rebalance timeout');
      assert.equal(result.generationId, leader.generationId + 1);
      assert.deepEqual(
        result.members.map((m) => m.memberId),
        [leader.memberId],
      );
      assert.equal(
        c.heartbeat('g', follower.memberId, null, result.generationId),
        ErrorCode.UNKNOWN_MEMBER_ID,
      );
    } finally {
      h.close();
    }
  });

  test('a member that never sends SyncGroup is removed after the rebalance timeout', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      const [ja, jb] = await Promise.all([
        c.joinGroup(joinParams({ clientId: 'a', rebalanceTimeoutMs: 300 })),
        c.joinGroup(joinParams({ clientId: 'b', rebalanceTimeoutMs: 300 })),
      ]);
      const [leader, follower] = ja.leaderId === ja.memberId ? [ja, jb] : [jb, ja];
      await sync(c, leader.memberId, leader.generationId, [[leader.memberId, 'L']]);
      // The follower heartbeats (so its session lives) but never syncs.
      const beat = setInterval(() => c.heartbeat('g', follower.memberId, null, leader.generationId), 50);
      await sleep(450);
      clearInterval(beat);
      assert.equal(c.group('g')?.has(follower.memberId), false);
      assert.equal(c.group('g')?.state, 'PreparingRebalance');
    } finally {
      h.close();
    }
  });

  test('LeaveGroup removes members (several at once, or by instance id alone) and rebalances the rest', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      const [leader, follower] = await twoMembers(c);
      const r = c.leaveGroup('g', [
        { memberId: follower.memberId, groupInstanceId: null },
        { memberId: 'unknown', groupInstanceId: null },
      ]);
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        r.members.map((m) => m.errorCode),
        [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
      );
      assert.equal(c.group('g')?.state, 'PreparingRebalance');
      const alone = await c.joinGroup(joinParams({ memberId: leader.memberId }));
      assert.equal(alone.members.length, 1);
      await sync(c, leader.memberId, alone.generationId, [[leader.memberId, 'all']]);

      const s = await joinAlone(c, { groupId: 's', groupInstanceId: 'instance-1' });
      const byInstance = c.leaveGroup('s', [{ memberId: '', groupInstanceId: 'instance-1' }]);
      assert.deepEqual(
        byInstance.members.map((m) => m.errorCode),
        [ErrorCode.NONE],
      );
      assert.equal(c.group('s')?.has(s.memberId), false);
      assert.equal(
        c.leaveGroup('nope', [{ memberId: 'x', groupInstanceId: null }]).members[0].errorCode,
        ErrorCode.UNKNOWN_MEMBER_ID,
      );
    } finally {
      h.close();
    }
  });
});

describe('group coordinator: static membership (KIP-345)', () => {
  test('a static member rejoining with its instance id takes over without a rebalance; its old id is fenced', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      const both = [
        { name: 'range', metadata: subscription('t') },
        { name: 'roundrobin', metadata: subscription('t') },
      ];
      const [ja, jb] = await Promise.all([
        c.joinGroup(joinParams({ groupInstanceId: 'i-a', clientId: 'a', protocols: both })),
        c.joinGroup(joinParams({ groupInstanceId: 'i-b', clientId: 'b', protocols: both })),
      ]);
      assert.equal(ja.errorCode, ErrorCode.NONE, 'static members join without MEMBER_ID_REQUIRED');
      const [leader, follower] = ja.leaderId === ja.memberId ? [ja, jb] : [jb, ja];
      const followerInstance = follower === ja ? 'i-a' : 'i-b';
      const leaderInstance = follower === ja ? 'i-b' : 'i-a';
      const followerSync = sync(c, follower.memberId, 1);
      await sync(c, leader.memberId, 1, [
        [leader.memberId, 'L'],
        [follower.memberId, 'F'],
      ]);
      await followerSync;

      // The follower restarts: a new member id, the same instance id, the same protocols.
      const back = await c.joinGroup(
        joinParams({ groupInstanceId: followerInstance, clientId: 'b2', protocols: both }),
      );
      assert.equal(back.errorCode, ErrorCode.NONE);
      assert.notEqual(back.memberId, follower.memberId);
      assert.equal(back.generationId, 1, 'no new generation');
      assert.equal(back.leaderId, leader.memberId);
      assert.equal(c.group('g')?.state, 'Stable');
      assert.equal(c.heartbeat('g', leader.memberId, null, 1), ErrorCode.NONE, 'the leader is not disturbed');
      const resynced = await c.syncGroup({
        groupId: 'g',
        generationId: 1,
        memberId: back.memberId,
        groupInstanceId: followerInstance,
        protocolType: null,
        protocolName: null,
        assignments: [],
      });
      assert.equal(resynced.assignment.toString(), 'F', 'it keeps its assignment');
      // The old incarnation is a zombie now.
      assert.equal(c.heartbeat('g', follower.memberId, followerInstance, 1), ErrorCode.FENCED_INSTANCE_ID);
      assert.equal(
        c.commitOffsets({
          groupId: 'g',
          memberId: follower.memberId,
          groupInstanceId: followerInstance,
          generationId: 1,
          retentionTimeMs: -1,
          offsets: [
            { topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: '', commitTimestamp: -1 },
          ],
        }).errorCode,
        ErrorCode.FENCED_INSTANCE_ID,
      );

      // The leader restarts too: a v9 client is told it leads but must skip the assignment;
      // an older one is given the old leader id so that it does not assign at all.
      const leaderBack = await c.joinGroup(
        joinParams({
          groupInstanceId: leaderInstance,
          clientId: 'a2',
          protocols: both,
          supportSkippingAssignment: true,
        }),
      );
      assert.equal(leaderBack.leaderId, leaderBack.memberId);
      assert.equal(leaderBack.skipAssignment, true);
      assert.equal(leaderBack.members.length, 2);
      const leaderBackOld = await c.joinGroup(
        joinParams({ groupInstanceId: leaderInstance, protocols: both }),
      );
      assert.equal(leaderBackOld.leaderId, leaderBack.memberId);
      assert.notEqual(leaderBackOld.leaderId, leaderBackOld.memberId);
      assert.equal(c.group('g')?.state, 'Stable');

      // A static member whose new protocols change the group's protocol does cause a rebalance.
      void c.joinGroup(
        joinParams({
          groupInstanceId: followerInstance,
          protocols: [{ name: 'roundrobin', metadata: subscription('t') }],
        }),
      );
      assert.equal(c.group('g')?.state, 'PreparingRebalance');
    } finally {
      h.close();
    }
  });

  test('a static member that does not rejoin stays through the rebalance; its session decides when it goes', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 30 });
    try {
      const c = h.coordinator;
      // A long session: the rebalance completes at the rebalance timeout with the static member still in.
      const s = await joinAlone(c, {
        groupInstanceId: 'i-s',
        sessionTimeoutMs: 5000,
        rebalanceTimeoutMs: 150,
      });
      const d = await c.joinGroup(joinParams({ clientId: 'dynamic', rebalanceTimeoutMs: 150 }));
      assert.equal(d.errorCode, ErrorCode.NONE);
      assert.equal(d.leaderId, d.memberId, 'the member that rejoined leads');
      assert.deepEqual(new Set(d.members.map((m) => m.memberId)), new Set([s.memberId, d.memberId]));

      // A short session: the static member that stays away expires during the rebalance, which
      // then completes without waiting for the rebalance timeout.
      const t = await joinAlone(c, {
        groupId: 'h',
        groupInstanceId: 'i-t',
        sessionTimeoutMs: 300,
        rebalanceTimeoutMs: 5000,
      });
      const started = Date.now();
      const e = await c.joinGroup(
        joinParams({ groupId: 'h', clientId: 'dynamic', rebalanceTimeoutMs: 5000 }),
      );
      assert.ok(Date.now() - started < 2000, 'completed when the session expired');
      assert.deepEqual(
        e.members.map((m) => m.memberId),
        [e.memberId],
      );
      assert.equal(c.group('h')?.has(t.memberId), false);
    } finally {
      h.close();
    }
  });
});

describe('group coordinator: offsets', () => {
  const commit = (
    c: GroupCoordinator,
    groupId: string,
    memberId: string,
    generationId: number,
    offsets: [string, number, number][],
    retentionTimeMs = -1,
  ) => {
    const result = c.commitOffsets({
      groupId,
      memberId,
      groupInstanceId: null,
      generationId,
      retentionTimeMs,
      offsets: offsets.map(([topic, partition, offset]) => ({
        topic,
        partition,
        offset,
        leaderEpoch: 4,
        metadata: `m${offset}`,
        commitTimestamp: -1,
      })),
    });
    // The handler's part: the append is durable at once here (no replicas).
    result.complete();
    return result.errorCode;
  };

  test('members of the current generation commit; a group without members takes anyone’s commits', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const m = await joinAlone(c);
      assert.equal(commit(c, 'g', m.memberId, 1, [['t', 0, 10]]), ErrorCode.NONE);
      assert.equal(commit(c, 'g', m.memberId, 0, [['t', 0, 11]]), ErrorCode.ILLEGAL_GENERATION);
      assert.equal(commit(c, 'g', 'other', 1, [['t', 0, 11]]), ErrorCode.UNKNOWN_MEMBER_ID);
      assert.equal(
        commit(c, 'g', '', -1, [['t', 0, 11]]),
        ErrorCode.UNKNOWN_MEMBER_ID,
        'only members commit for a group with members',
      );
      assert.equal(commit(c, 'unknown', 'x', 3, [['t', 0, 1]]), ErrorCode.ILLEGAL_GENERATION);

      // A standalone consumer (assign(), no group management) commits to an empty group.
      assert.equal(
        commit(c, 'standalone', '', -1, [
          ['t', 0, 5],
          ['t', 1, 6],
        ]),
        ErrorCode.NONE,
      );
      assert.equal(c.group('standalone')?.state, 'Empty');

      const fetched = c.fetchOffsets('g', [
        { topic: 't', partition: 0 },
        { topic: 't', partition: 1 },
      ]);
      assert.deepEqual(fetched.offsets, [
        { topic: 't', partition: 0, offset: 10, leaderEpoch: 4, metadata: 'm10', errorCode: ErrorCode.NONE },
        { topic: 't', partition: 1, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
      ]);
      assert.deepEqual(
        c.fetchOffsets('standalone', null).offsets.map((o) => [o.partition, o.offset]),
        [
          [0, 5],
          [1, 6],
        ],
      );
      assert.deepEqual(c.fetchOffsets('nobody', null).offsets, []);
    } finally {
      h.close();
    }
  });

  test('an accepted commit is not what OffsetFetch returns until its append is durable', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const m = await joinAlone(c);
      assert.equal(commit(c, 'g', m.memberId, 1, [['t', 0, 10]]), ErrorCode.NONE);
      const offsetOf = (groupId: string) =>
        c.fetchOffsets(groupId, [{ topic: 't', partition: 0 }]).offsets[0].offset;
      const params = (groupId: string, memberId: string, generationId: number) => ({
        groupId,
        memberId,
        groupInstanceId: null,
        generationId,
        retentionTimeMs: -1,
        offsets: [
          { topic: 't', partition: 0, offset: 20, leaderEpoch: -1, metadata: '', commitTimestamp: -1 },
        ],
      });
      const pending = c.commitOffsets(params('g', m.memberId, 1));
      assert.equal(pending.errorCode, ErrorCode.NONE);
      assert.equal(offsetOf('g'), 10, 'the last durable commit while the new one replicates');
      pending.complete();
      assert.equal(offsetOf('g'), 20);

      // A standalone consumer's commit that never became durable leaves no group behind.
      assert.equal(c.commitOffsets(params('standalone', '', -1)).errorCode, ErrorCode.NONE);
      assert.equal(c.group('standalone'), undefined);
      assert.equal(offsetOf('standalone'), -1);
      c.commitOffsets(params('standalone', '', -1)).complete();
      assert.equal(offsetOf('standalone'), 20);
    } finally {
      h.close();
    }
  });

  test('commits are refused with REBALANCE_IN_PROGRESS between JoinGroup and the assignment', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const joined = await c.joinGroup(joinParams({}));
      assert.equal(c.group('g')?.state, 'CompletingRebalance');
      assert.equal(commit(c, 'g', joined.memberId, 1, [['t', 0, 1]]), ErrorCode.REBALANCE_IN_PROGRESS);
    } finally {
      h.close();
    }
  });

  test('a restarted coordinator reloads groups and offsets from __consumer_offsets in Kafka’s formats', async () => {
    let h = Harness.create({ initialRebalanceDelayMs: 0 });
    try {
      const m = await joinAlone(h.coordinator, { sessionTimeoutMs: 600 }, Buffer.from('assigned'));
      assert.equal(commit(h.coordinator, 'g', m.memberId, 1, [['t', 0, 1]]), ErrorCode.NONE);
      assert.equal(
        commit(h.coordinator, 'g', m.memberId, 1, [
          ['t', 0, 2],
          ['t', 1, 7],
        ]),
        ErrorCode.NONE,
      );
      assert.equal(commit(h.coordinator, 'gone', '', -1, [['t', 0, 9]]), ErrorCode.NONE);
      assert.deepEqual(h.coordinator.deleteGroups(['gone']), new Map([['gone', ErrorCode.NONE]]));

      // The log holds Kafka's records: OffsetCommitKey v1 with OffsetCommitValue v3, GroupMetadataKey v2.
      const records = h.offsetsTopicRecords('g');
      const keys = records.map((r) => decodeGroupRecordKey(r.key));
      assert.ok(keys.some((k) => k?.kind === 'group' && k.group === 'g'));
      const last = records.at(-1) as { key: Buffer; value: Buffer };
      assert.equal(last.key.readInt16BE(0), 1);
      assert.equal(last.value.readInt16BE(0), 3);
      assert.equal(decodeOffsetCommitValue(last.value).offset, 7);
      const tombstones = h.offsetsTopicRecords('gone').filter((r) => r.value === null);
      assert.equal(
        tombstones.length,
        1,
        'deleting a group without generation writes an offset tombstone only',
      );

      h = h.reopen();
      const c = h.coordinator;
      const g = c.group('g');
      assert.equal(g?.state, 'Stable');
      assert.equal(g?.generationId, 1);
      assert.equal(g?.protocolName, 'range');
      assert.equal(g?.leaderId, m.memberId);
      assert.equal(c.group('gone'), undefined, 'a deleted group stays deleted');
      assert.deepEqual(
        c.fetchOffsets('g', null).offsets.map((o) => [o.partition, o.offset, o.metadata]),
        [
          [0, 2, 'm2'],
          [1, 7, 'm7'],
        ],
      );
      // The member carries on where it was: heartbeats, SyncGroup gives its stored assignment.
      assert.equal(c.heartbeat('g', m.memberId, null, 1), ErrorCode.NONE);
      assert.equal((await sync(c, m.memberId, 1)).assignment.toString(), 'assigned');
      // A member that does not come back expires after its session.
      await sleep(900);
      assert.equal(c.group('g')?.size, 0);
    } finally {
      h.close();
    }
  });

  test('offsets of an empty group expire after offsets.retention.minutes, with tombstones, and the group goes', async () => {
    let h = Harness.create({ offsetsRetentionMs: 60_000 });
    try {
      const c = h.coordinator;
      const m = await joinAlone(c, { protocols: [{ name: 'range', metadata: subscription('t') }] });
      assert.equal(
        commit(c, 'g', m.memberId, 1, [
          ['t', 0, 1],
          ['old', 0, 2],
        ]),
        ErrorCode.NONE,
      );
      assert.equal(commit(c, 'standalone', '', -1, [['t', 0, 3]]), ErrorCode.NONE);
      const now = Date.now();

      // A stable consumer group keeps offsets of topics it subscribes to; others expire from their commit.
      assert.equal(c.cleanupExpiredOffsets(now + 59_000), 0);
      assert.equal(c.cleanupExpiredOffsets(now + 61_000), 2, "'old' of g and the standalone group's offset");
      assert.deepEqual(
        c.fetchOffsets('g', null).offsets.map((o) => o.topic),
        ['t'],
      );
      assert.equal(c.group('standalone'), undefined, 'an empty group without offsets is removed');

      // Once empty, the retention counts from when the group became empty.
      c.leaveGroup('g', [{ memberId: m.memberId, groupInstanceId: null }]);
      await sleep(20);
      assert.equal(c.group('g')?.state, 'Empty');
      const emptySince = c.group('g')?.currentStateTimestamp as number;
      assert.equal(c.cleanupExpiredOffsets(emptySince + 59_000), 0);
      assert.equal(c.cleanupExpiredOffsets(emptySince + 60_000), 1);
      assert.equal(c.group('g'), undefined);
      const gRecords = h.offsetsTopicRecords('g');
      assert.ok(
        gRecords.at(-1)?.value === null && decodeGroupRecordKey(gRecords.at(-1)!.key)?.kind === 'group',
      );

      h = h.reopen();
      assert.equal(h.coordinator.group('g'), undefined);
      assert.equal(h.coordinator.group('standalone'), undefined);
    } finally {
      h.close();
    }
  });

  test('the expiry check leaves an empty group whose member is between MEMBER_ID_REQUIRED and its join', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const first = await c.joinGroup(joinParams({ requireKnownMemberId: true }));
      assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
      c.cleanupExpiredOffsets(Date.now());
      const joined = await c.joinGroup(joinParams({ memberId: first.memberId, requireKnownMemberId: true }));
      assert.equal(joined.errorCode, ErrorCode.NONE);
    } finally {
      h.close();
    }
  });

  test('an explicit retention of OffsetCommit v2-v4 expires the offset at its own time', () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      assert.equal(commit(c, 's', '', -1, [['t', 0, 1]], 1000), ErrorCode.NONE);
      assert.equal(c.cleanupExpiredOffsets(Date.now() + 500), 0);
      assert.equal(c.cleanupExpiredOffsets(Date.now() + 1500), 1);
    } finally {
      h.close();
    }
  });

  test('DeleteGroups deletes only empty groups; OffsetDelete spares the topics a group consumes', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const m = await joinAlone(c);
      assert.equal(
        commit(c, 'g', m.memberId, 1, [
          ['t', 0, 1],
          ['x', 0, 2],
        ]),
        ErrorCode.NONE,
      );
      assert.equal(commit(c, 'e', '', -1, [['t', 0, 3]]), ErrorCode.NONE);
      assert.deepEqual(
        c.deleteGroups(['g', 'e', 'nope']),
        new Map([
          ['g', ErrorCode.NON_EMPTY_GROUP],
          ['e', ErrorCode.NONE],
          ['nope', ErrorCode.GROUP_ID_NOT_FOUND],
        ]),
      );
      assert.deepEqual(c.fetchOffsets('e', null).offsets, []);
      assert.deepEqual(
        c.listGroups([]).groups.map((g) => [g.groupId, g.state]),
        [['g', 'Stable']],
      );

      const deleted = c.deleteOffsets('g', [
        { topic: 't', partition: 0 },
        { topic: 'x', partition: 0 },
      ]);
      assert.equal(deleted.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        deleted.partitions.map((p) => [p.topic, p.errorCode]),
        [
          ['t', ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
          ['x', ErrorCode.NONE],
        ],
      );
      assert.deepEqual(
        c.fetchOffsets('g', null).offsets.map((o) => o.topic),
        ['t'],
      );
      assert.equal(c.deleteOffsets('nope', []).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    } finally {
      h.close();
    }
  });

  test('ListGroups filters by state; DescribeGroups shows members with metadata and assignment when stable', async () => {
    const h = Harness.create();
    try {
      const c = h.coordinator;
      const m = await joinAlone(c, {}, Buffer.from('A'));
      await c.joinGroup(joinParams({ groupId: 'other' }));
      assert.deepEqual(
        c.listGroups(['stable']).groups.map((g) => g.groupId),
        ['g'],
      );
      assert.deepEqual(
        c.listGroups(['CompletingRebalance', 'Empty']).groups.map((g) => g.groupId),
        ['other'],
      );
      const d = c.describeGroup('g');
      assert.equal(d.state, 'Stable');
      assert.equal(d.protocol, 'range');
      assert.deepEqual(
        d.members.map((x) => [x.memberId, x.clientId, x.metadata, x.assignment.toString()]),
        [[m.memberId, 'client', subscription('t'), 'A']],
      );
      const rebalancing = c.describeGroup('other');
      assert.equal(rebalancing.protocol, '');
      assert.deepEqual(rebalancing.members[0].metadata, Buffer.alloc(0));
      assert.equal(c.describeGroup('nope').state, 'Dead');
    } finally {
      h.close();
    }
  });

  test('shutdown answers waiting JoinGroup requests with NOT_COORDINATOR', async () => {
    const h = Harness.create({ initialRebalanceDelayMs: 10_000 });
    const waiting = h.coordinator.joinGroup(joinParams({}));
    h.close();
    assert.equal((await waiting).errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(h.coordinator.heartbeat('g', 'x', null, 1), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});
