import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Consumer, Producer } from '@tributary/client';
import { decodeCheckpoint } from '@tributary/mirror';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import {
  readPartition,
  startMirrorWorker,
  until,
  writeMirrorConfig,
  type MirrorWorker,
  type StoredRecord,
} from '../support/mirror-process';
import { startRedis, type RedisProcess } from '../support/redis-process';

const PARTITIONS = 3;
const ALIASES = ['dc1-a', 'dc1-b', 'dc1-agg', 'dc2'] as const;
type Alias = (typeof ALIASES)[number];

/**
 * The demo's topology as separate processes: four single-broker clusters, one Redis, two
 * `tributary mirror` workers sharing the flows dc1-a -> dc1-agg, dc1-b -> dc1-agg and
 * dc1-agg -> dc2. Every hop is read back with kcat and compared record by record.
 */
describe('mirror: aggregate dc1-a and dc1-b into dc1-agg, forward to dc2', { timeout: 300_000 }, () => {
  let redis: RedisProcess;
  const brokers = new Map<Alias, BrokerProcess>();
  const workers: MirrorWorker[] = [];
  let configFile: string;
  const sent = new Map<string, number>();

  const bootstrap = (a: Alias): string => (brokers.get(a) as BrokerProcess).bootstrap;

  async function produce(alias: Alias, from: number, count: number): Promise<void> {
    const producer = new Producer({ bootstrapServers: bootstrap(alias), lingerMs: 2 });
    const base = Date.now() - 10_000;
    for (let at = from; at < from + count; at += 200) {
      const n = Math.min(200, from + count - at);
      await producer.send({
        topic: 'orders',
        messages: Array.from({ length: n }, (_, i) => ({
          key: `customer-${(at + i) % 17}`,
          value: `${alias}-order-${at + i}`,
          headers: { origin: alias },
          timestamp: base + at + i,
        })),
      });
    }
    await producer.close();
    sent.set(alias, (sent.get(alias) ?? 0) + count);
  }

  async function endOffsets(alias: Alias, topic: string): Promise<number> {
    const admin = new Admin({ bootstrapServers: bootstrap(alias) });
    try {
      const ends = await admin.listOffsets(
        Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
        'latest',
      );
      return ends.reduce((n, e) => n + e.offset, 0);
    } catch {
      return -1;
    } finally {
      await admin.close();
    }
  }

  /** Each hop holds exactly the source's records, at the source's offsets, in order. */
  async function assertMirrored(source: Alias, hops: [Alias, string][]): Promise<void> {
    for (let p = 0; p < PARTITIONS; p++) {
      const original = await readPartition(bootstrap(source), 'orders', p);
      for (const [alias, topic] of hops) {
        const copy = await readPartition(bootstrap(alias), topic, p);
        assert.equal(
          copy.length,
          original.length,
          `${alias}/${topic}-${p} holds as many records as ${source}/orders-${p}`,
        );
        const strip = (r: StoredRecord) =>
          [r.offset, r.key, r.value, r.timestamp, r.headers.join('=')].join('|');
        const differs = original.findIndex((r, i) => strip(r) !== strip(copy[i]));
        assert.equal(
          differs,
          -1,
          `${alias}/${topic}-${p} is ${source}/orders-${p} record for record; first difference at ${differs}: ${strip(copy[differs] ?? original[0])} vs ${strip(original[differs] ?? original[0])}`,
        );
      }
    }
  }

  before(async () => {
    redis = await startRedis();
    for (const a of ALIASES) {
      brokers.set(
        a,
        await startBroker({
          extraArgs: ['--cluster-id', a, '--set', 'group.initial.rebalance.delay.ms=100'],
        }),
      );
    }
    for (const a of ['dc1-a', 'dc1-b'] as const) {
      const admin = new Admin({ bootstrapServers: bootstrap(a) });
      await admin.createTopics([
        { name: 'orders', numPartitions: PARTITIONS, configs: { 'retention.ms': '86400000' } },
      ]);
      await admin.close();
    }
    const fast = {
      'refresh.topics.interval.seconds': 1,
      'emit.checkpoints.interval.seconds': 1,
      'sync.group.offsets.enabled': true,
      'sync.group.offsets.interval.seconds': 1,
      groups: 'app.*',
    };
    configFile = writeMirrorConfig({
      redis: redis.url,
      namespace: 'topology',
      clusters: Object.fromEntries(ALIASES.map((a) => [a, { 'bootstrap.servers': bootstrap(a) }])),
      flows: [
        { source: 'dc1-a', target: 'dc1-agg', ...fast },
        { source: 'dc1-b', target: 'dc1-agg', ...fast },
        { source: 'dc1-agg', target: 'dc2', ...fast },
      ],
      worker: { 'unit.slice.ms': 3000, 'lock.duration.ms': 2000 },
    });
    workers.push(await startMirrorWorker(configFile), await startMirrorWorker(configFile));
  });

  after(async () => {
    for (const w of workers) await w.stop();
    for (const b of brokers.values()) await b.stop();
    await redis?.stop();
  });

  test('keyed records from dc1-a and dc1-b arrive in dc1-agg and dc2 exactly once, in source order', async () => {
    await Promise.all([produce('dc1-a', 0, 3000), produce('dc1-b', 0, 2000)]);
    await until('dc1-agg and dc2 caught up', async () => {
      const counts = await Promise.all([
        endOffsets('dc1-agg', 'dc1-a.orders'),
        endOffsets('dc1-agg', 'dc1-b.orders'),
        endOffsets('dc2', 'dc1-agg.dc1-a.orders'),
        endOffsets('dc2', 'dc1-agg.dc1-b.orders'),
      ]);
      return counts.join() === [3000, 2000, 3000, 2000].join();
    });
    await assertMirrored('dc1-a', [
      ['dc1-agg', 'dc1-a.orders'],
      ['dc2', 'dc1-agg.dc1-a.orders'],
    ]);
    await assertMirrored('dc1-b', [
      ['dc1-agg', 'dc1-b.orders'],
      ['dc2', 'dc1-agg.dc1-b.orders'],
    ]);
    // Producers are refused on a mirror topic until it is promoted.
    const producer = new Producer({ bootstrapServers: bootstrap('dc2') });
    await assert.rejects(
      producer.send({ topic: 'dc1-agg.dc1-a.orders', messages: [{ value: 'x' }] }),
      /POLICY_VIOLATION.*mirror of dc1-agg:dc1-a\.orders/,
    );
    await producer.close();
  });

  test('a worker kill -9ed mid-stream: the other takes its partitions over and every record arrives exactly once', async () => {
    const writing = produce('dc1-a', 3000, 6000);
    await until(
      'the mirror is busy with the new records',
      async () => (await endOffsets('dc1-agg', 'dc1-a.orders')) > 4000,
      60_000,
      50,
    );
    const killedAt = Date.now();
    await workers[0].kill9();
    await writing;
    await until(
      'dc1-agg and dc2 caught up after the kill',
      async () => {
        const counts = await Promise.all([
          endOffsets('dc1-agg', 'dc1-a.orders'),
          endOffsets('dc2', 'dc1-agg.dc1-a.orders'),
        ]);
        return counts.join() === [9000, 9000].join();
      },
      90_000,
    );
    const caughtUpIn = Date.now() - killedAt;
    await assertMirrored('dc1-a', [
      ['dc1-agg', 'dc1-a.orders'],
      ['dc2', 'dc1-agg.dc1-a.orders'],
    ]);
    assert.ok(
      caughtUpIn < 60_000,
      `the survivor finished the killed worker's partitions in ${caughtUpIn} ms`,
    );
    workers[0] = await startMirrorWorker(configFile);
  });

  test('a consumer group on dc1-a fails over to dc2 and resumes at its commits: no skip, no re-read', async () => {
    // The group reads part of dc1-a/orders and commits.
    const consumer = new Consumer({
      bootstrapServers: bootstrap('dc1-a'),
      groupId: 'app-orders',
      autoOffsetReset: 'earliest',
      autoCommit: false,
      fetchMaxWaitMs: 100,
    });
    consumer.subscribe(['orders']);
    let read = 0;
    await consumer.run({
      eachMessage: async () => {
        if (++read === 1234) void consumer.stop();
      },
    });
    await consumer.commit();
    const committed = await consumer.committed(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'orders', partition })),
    );
    await consumer.close();
    const expected = new Map(committed.map((o) => [o.partition, o.offset]));
    assert.equal(
      committed.reduce((n, o) => n + o.offset, 0),
      1234,
      'the group committed exactly what it read',
    );

    // Checkpoints reach dc1-agg (dc1-a.checkpoints.internal), and the group's offsets are synced hop by hop into dc2.
    await until(
      'the group offsets reach dc2',
      async () => {
        const admin = new Admin({ bootstrapServers: bootstrap('dc2') });
        try {
          const offsets = await admin.fetchOffsets('app-orders');
          return offsets.filter((o) => o.topic === 'dc1-agg.dc1-a.orders').length === PARTITIONS;
        } catch {
          return false;
        } finally {
          await admin.close();
        }
      },
      60_000,
      500,
    );
    const reader = new Consumer({
      bootstrapServers: bootstrap('dc1-agg'),
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 100,
    });
    reader.assign([{ topic: 'dc1-a.checkpoints.internal', partition: 0 }]);
    const latest = new Map<number, number>();
    const [end] = await new Admin({ bootstrapServers: bootstrap('dc1-agg') }).listOffsets(
      [{ topic: 'dc1-a.checkpoints.internal', partition: 0 }],
      'latest',
    );
    await reader.run({
      eachMessage: (m) => {
        const c = decodeCheckpoint(m.key as Buffer, m.value as Buffer);
        if (c.group === 'app-orders' && c.topic === 'dc1-a.orders') {
          assert.equal(c.offset, c.upstreamOffset, 'offsets are preserved: the checkpoint is the identity');
          latest.set(c.partition, c.offset);
        }
        if (m.offset + 1 >= end.offset) void reader.stop();
      },
    });
    await reader.close();
    for (let p = 0; p < PARTITIONS; p++)
      assert.equal(latest.get(p), expected.get(p), `checkpoint of partition ${p}`);

    const failover = new Consumer({
      bootstrapServers: bootstrap('dc2'),
      groupId: 'app-orders',
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 100,
    });
    failover.subscribe(['dc1-agg.dc1-a.orders']);
    const first = new Map<number, number>();
    await failover.run({
      eachMessage: async (m) => {
        if (!first.has(m.partition)) first.set(m.partition, m.offset);
        if (first.size === PARTITIONS) void failover.stop();
      },
    });
    await failover.close();
    for (let p = 0; p < PARTITIONS; p++) {
      assert.equal(
        first.get(p),
        expected.get(p),
        `partition ${p} resumes at the committed offset ${expected.get(p)}`,
      );
    }
  });
});
