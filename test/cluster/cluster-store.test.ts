import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PartitionState } from '@tributary/broker';
import { ClusterStore } from '@tributary/cluster';
import { ErrorCode } from '@tributary/protocol';
import { Redis } from 'ioredis';
import { refusedWith } from '../support/kafka-errors';
import { startRedis, type RedisProcess } from '../support/redis-process';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

const state = (s: Partial<PartitionState> = {}): PartitionState => ({
  leaderId: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
  addingReplicas: [],
  removingReplicas: [],
  ...s,
});

const registration = (id: number, incarnation: string) => ({
  id,
  host: '127.0.0.1',
  port: 9000 + id,
  endpoints: new Map([
    ['INTERNAL', { host: '127.0.0.1', port: 9000 + id }],
    ['EXTERNAL', { host: 'broker.example', port: 19000 + id }],
  ]),
  rack: id === 3 ? 'r3' : null,
  incarnation,
  shuttingDown: false,
  offlineLogDirs: [],
});

describe("the cluster's Lua scripts on a real Redis", () => {
  let redis: RedisProcess;
  const stores: ClusterStore[] = [];
  const open = async (clusterId = `c${stores.length}-${Date.now()}`): Promise<ClusterStore> => {
    const s = new ClusterStore({ endpoint: { url: redis.url }, clusterId, logger: quiet });
    await s.connect(Date.now() + 5000);
    stores.push(s);
    return s;
  };

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    for (const s of stores) await s.close();
    await redis?.stop();
  });

  test('a registration lives for the session timeout; another incarnation of the same id is refused while it does', async () => {
    const store = await open();
    await store.registerBroker(registration(1, 'a'), 2000);
    await store.registerBroker(registration(3, 'c'), 5000);
    await assert.rejects(
      store.registerBroker(registration(1, 'b'), 2000),
      refusedWith(ErrorCode.DUPLICATE_BROKER_REGISTRATION),
    );
    assert.deepEqual(
      (await store.readBrokers()).map((b) => [b.id, b.port, b.rack]),
      [
        [1, 9001, null],
        [3, 9003, 'r3'],
      ],
    );
    assert.deepEqual((await store.readBrokers())[1].endpoints, registration(3, 'c').endpoints);
    assert.equal(await store.heartbeat(1, 'a', 2000, true, []), 1);
    assert.equal((await store.readBrokers())[0].shuttingDown, true);
    assert.deepEqual((await store.readBrokers())[0].offlineLogDirs, []);
    assert.equal(await store.heartbeat(1, 'a', 2000, true, ['/data/a']), 1);
    assert.deepEqual(
      (await store.readBrokers())[0].offlineLogDirs,
      ['/data/a'],
      'a failed log dir is reported',
    );
    await sleep(2300);
    assert.deepEqual(
      (await store.readBrokers()).map((b) => b.id),
      [3],
      'expired without heartbeats',
    );
    await assert.rejects(
      store.heartbeat(1, 'a', 2000, false, []),
      refusedWith(ErrorCode.BROKER_ID_NOT_REGISTERED),
    );
    await store.registerBroker(registration(1, 'b'), 2000);
    await store.unregisterBroker(1, 'b');
    assert.deepEqual(
      (await store.readBrokers()).map((b) => b.id),
      [3],
    );
  });

  test('one controller holds the lease; each new controller has a higher epoch; a lapsed lease cannot be renewed', async () => {
    const store = await open();
    assert.equal(
      await store.acquireController(1, 1500),
      null,
      'no controller before the cluster state exists',
    );
    assert.equal(await store.createMarker('m1'), true);
    assert.equal(await store.createMarker('m2'), false);
    const first = await store.acquireController(1, 1500);
    assert.deepEqual(first, { epoch: 1, confirmed: true });
    assert.equal(await store.acquireController(2, 1500), null, 'taken');
    await sleep(1700);
    const second = await store.acquireController(2, 5000);
    assert.deepEqual(second, { epoch: 2, confirmed: true });
    await assert.rejects(
      store.renewController({ id: 1, epoch: 1 }, 1500),
      refusedWith(ErrorCode.NOT_CONTROLLER),
    );
    assert.deepEqual(await store.readController(), { id: 2, epoch: 2 });
    await store.resignController({ id: 2, epoch: 2 });
    assert.equal((await store.acquireController(1, 1500))?.epoch, 3);
  });

  test('partition states change only by compare-and-set: on the partition epoch, fenced by the controller lease or the leader epoch', async () => {
    const store = await open();
    await assert.rejects(
      store.createTopic('t', 'AAAAAAAAAAAAAAAAAAAAAQ', {}, [state()]),
      refusedWith(ErrorCode.COORDINATOR_NOT_AVAILABLE),
    );
    await store.createMarker('m');
    await store.createTopic('t', 'AAAAAAAAAAAAAAAAAAAAAQ', { 'retention.ms': '1000' }, [
      state(),
      state({ leaderId: 2 }),
    ]);
    await assert.rejects(
      store.createTopic('t', 'AAAAAAAAAAAAAAAAAAAAAg', {}, [state()]),
      refusedWith(ErrorCode.TOPIC_ALREADY_EXISTS),
    );
    const epoch = (await store.acquireController(1, 5000))?.epoch as number;
    const lease = { id: 1, epoch };
    await store.updatePartition(lease, 't', 0, state({ leaderId: 2, leaderEpoch: 1, partitionEpoch: 1 }));
    await assert.rejects(
      store.updatePartition(lease, 't', 0, state({ leaderId: 3, leaderEpoch: 1, partitionEpoch: 1 })),
      refusedWith(ErrorCode.INVALID_UPDATE_VERSION),
      'written against a state that changed',
    );
    await assert.rejects(
      store.updatePartition({ id: 9, epoch: 99 }, 't', 0, state({ partitionEpoch: 2 })),
      refusedWith(ErrorCode.NOT_CONTROLLER),
    );
    // The leader's ISR change: its epoch must still be current.
    await assert.rejects(
      store.alterPartition(
        't',
        0,
        state({ leaderId: 1, leaderEpoch: 0, isr: [1, 2], partitionEpoch: 2 }),
        [],
      ),
      refusedWith(ErrorCode.FENCED_LEADER_EPOCH),
    );
    await store.alterPartition(
      't',
      0,
      state({ leaderId: 2, leaderEpoch: 1, isr: [2, 3], partitionEpoch: 2 }),
      [],
    );
    // A replica may join the ISR only as a live broker that is not shutting down.
    await assert.rejects(
      store.alterPartition(
        't',
        0,
        state({ leaderId: 2, leaderEpoch: 1, isr: [2, 3, 1], partitionEpoch: 3 }),
        [1],
      ),
      refusedWith(ErrorCode.INELIGIBLE_REPLICA),
    );
    await store.registerBroker(registration(1, 'x'), 5000);
    await store.alterPartition(
      't',
      0,
      state({ leaderId: 2, leaderEpoch: 1, isr: [2, 3, 1], partitionEpoch: 3 }),
      [1],
    );
    const [t] = await store.readTopics();
    assert.deepEqual(
      t.partitions[0],
      state({ leaderId: 2, leaderEpoch: 1, isr: [2, 3, 1], partitionEpoch: 3 }),
    );
    assert.deepEqual(t.configs, { 'retention.ms': '1000' });

    assert.equal(await store.addPartitions('t', 2, [state()]), 3);
    await assert.rejects(
      store.addPartitions('t', 2, [state()]),
      refusedWith(ErrorCode.INVALID_UPDATE_VERSION),
    );
    const v = await store.alterTopicConfigs('t', t.configVersion, {});
    await assert.rejects(
      store.alterTopicConfigs('t', t.configVersion, {}),
      refusedWith(ErrorCode.INVALID_UPDATE_VERSION),
    );
    assert.equal(v, t.configVersion + 1);
    await store.deleteTopic('t');
    assert.equal(await store.readTopic('t'), null);
    assert.deepEqual([...(await store.readDeletedTopics())], [['AAAAAAAAAAAAAAAAAAAAAQ', 't']]);
    await assert.rejects(store.deleteTopic('t'), refusedWith(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  });

  test("a state Redis lost is restored from a broker's view once, the counters never going back", async () => {
    const id = `restore-${Date.now()}`;
    const a = await open(id);
    const b = await open(id);
    const topic = {
      name: 'kept',
      topicId: 'AAAAAAAAAAAAAAAAAAAABQ',
      configs: { 'cleanup.policy': 'compact' },
      configVersion: 4,
      partitions: [state({ leaderEpoch: 7, partitionEpoch: 12 })],
    };
    await a.reserveProducerIds(1000);
    const [first, second] = await Promise.all([
      a.restoreState('m', [topic], 9, 5000),
      b.restoreState('m', [topic], 3, 100),
    ]);
    assert.equal(Number(first) + Number(second), 1, 'exactly one restore wins');
    assert.deepEqual(await a.readTopic('kept'), topic);
    assert.equal(await a.readMarker(), 'm');
    assert.ok((await a.readControllerEpoch()) >= 3);
    assert.ok((await a.reserveProducerIds(1000)) >= 1100, 'producer ids continue past those handed out');
    assert.equal(await a.restoreState('m', [], 1, 0), false, 'nothing to restore once the state is there');
  });

  test('producer id blocks never overlap, across stores', async () => {
    const id = `pids-${Date.now()}`;
    const a = await open(id);
    const b = await open(id);
    const blocks = await Promise.all([
      a.reserveProducerIds(1000),
      b.reserveProducerIds(1000),
      a.reserveProducerIds(1000),
    ]);
    assert.deepEqual(
      blocks.sort((x, y) => x - y),
      [999, 1999, 2999],
    );
  });

  test('changes are published to every subscriber', async () => {
    const id = `pubsub-${Date.now()}`;
    const writer = await open(id);
    const reader = await open(id);
    const seen: string[] = [];
    await reader.subscribe((c) => seen.push(JSON.stringify(c)));
    await writer.createMarker('m');
    await writer.registerBroker(registration(5, 'p'), 5000);
    await writer.createTopic('news', 'AAAAAAAAAAAAAAAAAAAABA', {}, [state()]);
    const epoch = (await writer.acquireController(5, 5000))?.epoch as number;
    await writer.updatePartition({ id: 5, epoch }, 'news', 0, state({ partitionEpoch: 1, isr: [1] }));
    for (let i = 0; i < 250 && seen.length < 4; i++) await sleep(20);
    assert.deepEqual(seen, [
      '{"kind":"brokers"}',
      '{"kind":"topic","topic":"news"}',
      '{"kind":"controller"}',
      '{"kind":"partition","topic":"news","partition":0}',
    ]);
  });

  test('ACLs and SCRAM credentials change in one script each, are read with the marker and announced', async () => {
    const id = `security-${Date.now()}`;
    const writer = await open(id);
    const reader = await open(id);
    const seen: string[] = [];
    await reader.subscribe((c) => seen.push(c.kind));
    await writer.createMarker('m');
    assert.equal(await writer.alterAcls(['{"a":1}', '{"b":2}', '{"c":3}'], []), 3);
    assert.equal(await writer.alterAcls(['{"a":1}'], ['{"b":2}']), 2);
    assert.equal(
      await writer.alterCredentials(new Map([['SCRAM-SHA-256:alice', '{"iterations":4096}']]), []),
      1,
    );
    assert.equal(
      await writer.alterCredentials(new Map([['SCRAM-SHA-512:bob', '{}']]), ['SCRAM-SHA-256:alice']),
      1,
    );
    const read = await reader.readSecurity();
    assert.equal(read.marker, 'm');
    assert.deepEqual(read.acls.sort(), ['{"a":1}', '{"c":3}']);
    assert.deepEqual(read.credentials, { 'SCRAM-SHA-512:bob': '{}' });
    for (let i = 0; i < 250 && seen.length < 4; i++) await sleep(20);
    assert.deepEqual(seen, ['acls', 'acls', 'credentials', 'credentials']);
  });

  test('client quotas change by compare-and-set on their version and are announced', async () => {
    const id = `quotas-${Date.now()}`;
    const writer = await open(id);
    const reader = await open(id);
    const seen: string[] = [];
    await reader.subscribe((c) => seen.push(c.kind));
    await writer.createMarker('m');
    assert.deepEqual(await reader.readClientQuotas(), { marker: 'm', version: 0, quotas: {} });
    const alice = 'users/alice/clients/<default>';
    assert.equal(await writer.alterClientQuotas(0, new Map([[alice, '{"producer_byte_rate":1024}']]), []), 1);
    // A change computed from version 0 comes too late: nothing is written, nothing announced.
    await assert.rejects(
      writer.alterClientQuotas(0, new Map([['clients/app', '{"consumer_byte_rate":1}']]), []),
      refusedWith(ErrorCode.INVALID_UPDATE_VERSION),
    );
    assert.equal(
      await writer.alterClientQuotas(1, new Map([['clients/app', '{"consumer_byte_rate":1}']]), [alice]),
      2,
    );
    assert.deepEqual(await reader.readClientQuotas(), {
      marker: 'm',
      version: 2,
      quotas: { 'clients/app': '{"consumer_byte_rate":1}' },
    });
    for (let i = 0; i < 250 && seen.length < 2; i++) await sleep(20);
    assert.deepEqual(seen, ['quotas', 'quotas']);
  });
});

describe('fencing writes confirmed by a Redis replica (redis.wait.replicas)', () => {
  let primary: RedisProcess;
  let replica: RedisProcess;
  let store: ClusterStore;

  /** Until the primary counts the replica's acknowledgement again (it was frozen). */
  const replicaAcknowledges = async (): Promise<void> => {
    const probe = new Redis(primary.port, '127.0.0.1');
    try {
      for (let i = 0; i < 100; i++) {
        await probe.incr('probe');
        if (Number(await probe.wait(1, 100)) === 1) return;
      }
      throw new Error('the replica does not acknowledge');
    } finally {
      probe.disconnect();
    }
  };

  before(async () => {
    primary = await startRedis();
    replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    store = new ClusterStore({
      endpoint: { url: primary.url },
      clusterId: 'wait',
      logger: quiet,
      waitReplicas: 1,
      waitTimeoutMs: 300,
    });
    await store.connect(Date.now() + 5000);
    await replicaAcknowledges();
  });

  after(async () => {
    replica?.resume();
    await store?.close();
    await replica?.stop();
    await primary?.stop();
  });

  test('with the replica acknowledging, writes and reads count; without, they fail and a lease is not acted on', async () => {
    await store.createMarker('m');
    await store.createTopic('t', 'AAAAAAAAAAAAAAAAAAAAAQ', {}, [state()]);
    assert.deepEqual(await store.acquireController(1, 10_000), { epoch: 1, confirmed: true });
    await store.updatePartition(
      { id: 1, epoch: 1 },
      't',
      0,
      state({ leaderId: 2, leaderEpoch: 1, partitionEpoch: 1 }),
    );
    assert.equal((await store.readPartition('t', 0))?.leaderId, 2);

    replica.pause();
    const notReplicated = (err: unknown): boolean => {
      assert.equal((err as Error).name, 'NotReplicatedError');
      assert.match((err as Error).message, /Redis confirmed 0 of 1 replica\(s\) in time/);
      return true;
    };
    await assert.rejects(
      store.updatePartition(
        { id: 1, epoch: 1 },
        't',
        0,
        state({ leaderId: 3, leaderEpoch: 2, partitionEpoch: 2 }),
      ),
      notReplicated,
    );
    // The write stands on the primary alone: nobody may read it to act on it.
    await assert.rejects(store.readPartition('t', 0), notReplicated);
    await assert.rejects(store.readTopics(), notReplicated);
    await assert.rejects(store.renewController({ id: 1, epoch: 1 }, 10_000), notReplicated);
    await assert.rejects(store.reserveProducerIds(1000), notReplicated);
    await store.resignController({ id: 1, epoch: 1 });
    assert.deepEqual(await store.acquireController(2, 10_000), { epoch: 2, confirmed: false });

    replica.resume();
    await replicaAcknowledges();
    assert.equal((await store.readPartition('t', 0))?.leaderId, 3, 'once the replica has it, it counts');
    assert.equal(await store.renewController({ id: 2, epoch: 2 }, 10_000), 1);
  });
});
