import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, ConfigResourceType } from '@tributary/client';
import { runAsync } from '../support/broker-process';
import { startCluster, type TestCluster } from '../support/cluster-process';

async function produce(bootstrap: string, topic: string, values: string[]): Promise<void> {
  const r = await runAsync(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-P', '-X', 'acks=all', '-X', 'message.timeout.ms=20000'],
    {
      input: values.join('\n') + '\n',
      timeoutMs: 30_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Delivery failed/);
}

async function consumeValues(bootstrap: string, topic: string): Promise<string[]> {
  const r = await runAsync(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-f', '%s\\n'],
    {
      timeoutMs: 30_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.length > 0);
}

describe('a cluster whose Redis restarts', { timeout: 120_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });

  after(async () => {
    await cluster?.stop();
  });

  test('brokers keep serving produce and fetch while Redis is down, then register again and keep their leaders', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([
      { name: 'steady', numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    ]);
    await admin.close();
    const leadersBefore = await cluster.waitFor('leaders of steady', async () => {
      const md = await cluster.metadata(['steady']);
      const ps = md.topics[0].partitions;
      return ps.length === 3 && ps.every((p) => p.leaderId >= 0 && p.isrNodes.length === 3)
        ? ps.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch].join(':')).sort()
        : undefined;
    });
    await produce(cluster.bootstrap, 'steady', ['a0', 'a1', 'a2']);

    await cluster.redis.stop();
    // Longer than broker.session.timeout.ms (3 s): the registrations expire while Redis is away.
    await produce(cluster.bootstrap, 'steady', ['b0', 'b1', 'b2']);
    assert.deepEqual((await consumeValues(cluster.bootstrap, 'steady')).sort(), [
      'a0',
      'a1',
      'a2',
      'b0',
      'b1',
      'b2',
    ]);
    await sleep(3500);
    const during = await cluster.metadata(['steady']);
    assert.equal(during.brokers.length, 3, 'brokers answer Metadata from what they last knew');

    await cluster.redis.restart();
    await cluster.waitFor(
      'every broker registered again',
      async () => {
        const r = await runAsync('redis-cli', [
          '-p',
          String(cluster.redis.port),
          'SMEMBERS',
          `tributary:{${cluster.clusterId}}:brokers`,
        ]);
        const ids = r.stdout.split('\n').filter((l) => l.length > 0);
        const live = await Promise.all(
          ids.map(async (id) => {
            const e = await runAsync('redis-cli', [
              '-p',
              String(cluster.redis.port),
              'EXISTS',
              `tributary:{${cluster.clusterId}}:broker:${id}`,
            ]);
            return e.stdout.trim() === '1';
          }),
        );
        return live.filter(Boolean).length === 3 ? true : undefined;
      },
      15_000,
    );
    await cluster.waitFor(
      'a controller',
      async () => ((await cluster.metadata()).controllerId > 0 ? true : undefined),
      15_000,
    );
    await produce(cluster.bootstrap, 'steady', ['c0', 'c1', 'c2']);
    // A broker session timeout on, no broker was taken for dead: the same leaders, every ISR whole.
    await sleep(3500);
    const md = await cluster.metadata(['steady']);
    assert.deepEqual(
      md.topics[0].partitions.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch].join(':')).sort(),
      leadersBefore,
    );
    assert.ok(md.topics[0].partitions.every((p) => p.isrNodes.length === 3));
    assert.deepEqual((await consumeValues(cluster.bootstrap, 'steady')).sort(), [
      'a0',
      'a1',
      'a2',
      'b0',
      'b1',
      'b2',
      'c0',
      'c1',
      'c2',
    ]);
    for (const n of cluster.nodes) {
      assert.match(n.process.output(), /redis: connected again/);
      assert.match(
        n.process.output(),
        /heartbeat refused .*registering again/,
        `broker ${n.nodeId} found its registration gone`,
      );
    }
  });

  test('a Redis that comes back empty (no persistence) gets the cluster state back from the brokers', async () => {
    const redisCli = async (...args: string[]) =>
      (await runAsync('redis-cli', ['-p', String(cluster.redis.port), ...args])).stdout.trim();
    const key = (k: string) => `tributary:{${cluster.clusterId}}:${k}`;
    const topicId = await redisCli('HGET', key('topics'), 'steady');
    assert.match(topicId, /^[A-Za-z0-9_-]{22}$/);
    const epochBefore = Number(await redisCli('GET', key('controller-epoch')));
    // A dynamic default every broker has read: it must come back with the rest of the state.
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    const backoff = { name: 'log.cleaner.backoff.ms', value: '1234' };
    try {
      await admin.alterConfigs({ type: ConfigResourceType.BROKER, name: '' }, [backoff]);
      for (const id of [1, 2, 3])
        await cluster.waitFor(`broker ${id} applying the default`, async () => {
          const [c] = await admin.describeConfigs({ type: ConfigResourceType.BROKER, name: String(id) }, [
            backoff.name,
          ]);
          return c.value === backoff.value ? true : undefined;
        });
    } finally {
      await admin.close();
    }
    const md = await cluster.metadata(['steady']);
    const leaders = md.topics[0].partitions
      .map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch].join(':'))
      .sort();

    await cluster.redis.kill9();
    await produce(cluster.bootstrap, 'steady', ['d0', 'd1', 'd2']);
    await cluster.redis.restart({ wipe: true });
    await cluster.waitFor(
      'the state restored into Redis',
      async () => ((await redisCli('HGET', key('topics'), 'steady')) === topicId ? true : undefined),
      15_000,
    );
    await cluster.waitFor(
      'a controller with a higher epoch',
      async () => {
        const epoch = Number(await redisCli('GET', key('controller-epoch')));
        return epoch > epochBefore && (await cluster.metadata()).controllerId > 0 ? true : undefined;
      },
      15_000,
    );
    assert.equal(
      await redisCli('HGET', key('broker-configs'), '<default>'),
      JSON.stringify({ [backoff.name]: '1234' }),
    );
    await cluster.waitFor('three registrations', async () =>
      (await redisCli('SMEMBERS', key('brokers'))).split('\n').length === 3 ? true : undefined,
    );
    assert.ok(
      cluster.nodes.some((n) =>
        /Redis had lost the cluster's state: restored \d+ topic\(s\)/.test(n.process.output()),
      ),
    );
    await produce(cluster.bootstrap, 'steady', ['e0']);
    const after = await cluster.metadata(['steady']);
    assert.deepEqual(
      after.topics[0].partitions.map((p) => [p.partitionIndex, p.leaderId, p.leaderEpoch].join(':')).sort(),
      leaders,
    );
    const values = await consumeValues(cluster.bootstrap, 'steady');
    for (const v of ['a0', 'b0', 'c0', 'd0', 'd1', 'd2', 'e0'])
      assert.ok(values.includes(v), `${v} is there`);
    assert.equal(values.length, 13);
    for (const n of cluster.nodes)
      assert.ok(fs.existsSync(path.join(n.dataDir, 'steady-0')), 'no log was deleted');
  });
});
