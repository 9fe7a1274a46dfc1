import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, ConfigResourceType, Connection } from '@tributary/client';
import { AlterPartitionReassignments, DescribeLogDirs, ErrorCode } from '@tributary/protocol';
import { MAIN, ROOT, runAsync, tempDir } from '../support/broker-process';
import { freePort } from '../support/redis-process';
import { startCluster, type TestCluster } from '../support/cluster-process';
import { refusedWith } from '../support/kafka-errors';

async function connectTo(cluster: TestCluster, nodeId: number): Promise<Connection> {
  return new Connection({
    host: '127.0.0.1',
    port: cluster.node(nodeId).port,
    requestTimeoutMs: 15_000,
  }).connect();
}

async function controller(cluster: TestCluster): Promise<number> {
  return cluster.waitFor('a controller', async () => {
    const id = (await cluster.metadata()).controllerId;
    return id > 0 ? id : undefined;
  });
}

async function produceBytes(bootstrap: string, topic: string, count: number, size: number): Promise<void> {
  const lines = Array.from(
    { length: count },
    (_, i) => `${String(i).padStart(6, '0')}${'x'.repeat(size - 6)}`,
  );
  const r = await runAsync('kcat', ['-b', bootstrap, '-t', topic, '-P', '-X', 'acks=all'], {
    input: lines.join('\n') + '\n',
    timeoutMs: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

async function countRecords(bootstrap: string, topic: string): Promise<number> {
  const r = await runAsync(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-f', '%o\\n'],
    {
      timeoutMs: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.length > 0).length;
}

describe('administering a replicated cluster', { timeout: 240_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      settings: ['auto.leader.rebalance.enable=false', 'follower.replication.throttled.rate=400000'],
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  test('a reassignment moves a partition to other brokers, catching up within the throttle, without losing a record', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([{ name: 'moving', assignments: [[1, 2]] }]);
    await produceBytes(cluster.bootstrap, 'moving', 1200, 1000);
    const ctl = await controller(cluster);
    const other = await connectTo(cluster, ctl === 1 ? 2 : 1);
    const moving0 = { topic: 'moving', partition: 0 };
    try {
      const notController = await other.request(AlterPartitionReassignments, {
        timeoutMs: 10_000,
        topics: [{ name: 'moving', partitions: [{ partitionIndex: 0, replicas: [2, 3] }] }],
      });
      assert.equal(notController.errorCode, ErrorCode.NOT_CONTROLLER);

      await assert.rejects(
        admin.alterPartitionReassignments([{ ...moving0, replicas: [2, 9] }]),
        refusedWith(ErrorCode.INVALID_REPLICA_ASSIGNMENT),
      );
      await assert.rejects(
        admin.alterPartitionReassignments([{ ...moving0, replicas: null }]),
        refusedWith(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS),
      );

      const started = Date.now();
      await admin.alterPartitionReassignments([{ ...moving0, replicas: [2, 3] }]);
      const [ongoing] = await cluster.waitFor('the reassignment to be listed', async () => {
        const listed = await admin.listPartitionReassignments([moving0]);
        return listed.length > 0 ? listed : undefined;
      });
      assert.deepEqual(ongoing, {
        ...moving0,
        replicas: [2, 3, 1],
        addingReplicas: [3],
        removingReplicas: [1],
      });
      await cluster.waitFor(
        'the reassignment to complete',
        async () => {
          const md = await cluster.metadata(['moving']);
          const p = md.topics[0].partitions[0];
          return p.replicaNodes.join() === '2,3' && p.isrNodes.length === 2 ? true : undefined;
        },
        30_000,
      );
      const took = Date.now() - started;
      // 1.2 MB at 400 kB/s: the copy to broker 3 takes seconds, not milliseconds.
      assert.ok(took >= 1500, `catch-up took ${took} ms, as throttled`);
      // The controller answers the listing from its own view, which may trail broker 1's.
      await cluster.waitFor('nothing in progress any more', async () =>
        (await admin.listPartitionReassignments()).length === 0 ? true : undefined,
      );
      assert.equal(await countRecords(cluster.bootstrap, 'moving'), 1200);

      const dirs = async (nodeId: number) => {
        const c = await connectTo(cluster, nodeId);
        try {
          const d = await c.request(DescribeLogDirs, { topics: [{ topic: 'moving', partitions: [0] }] });
          return d.results[0].topics.flatMap((t) =>
            t.partitions.map((p) => ({ topic: t.name, size: Number(p.partitionSize) })),
          );
        } finally {
          c.close();
        }
      };
      await cluster.waitFor('broker 1 to delete its replica', async () =>
        (await dirs(1)).length === 0 ? true : undefined,
      );
      assert.ok(!fs.existsSync(path.join(cluster.node(1).dataDir, 'moving-0')));
      const [on2] = await dirs(2);
      const [on3] = await dirs(3);
      assert.ok(on2.size > 1_200_000, `broker 2 holds ${on2.size} bytes`);
      assert.equal(on3.size, on2.size, 'broker 3 holds the same bytes as broker 2');
    } finally {
      other.close();
      await admin.close();
    }
  });

  test('controlled shutdown moves leadership away; ElectLeaders brings it back to the preferred replica', async () => {
    const creator = new Admin({ bootstrapServers: cluster.bootstrap });
    await creator.createTopics([{ name: 'elected', assignments: [[1, 2, 3]] }]);
    await creator.close();
    const leaderOf = async () => (await cluster.metadata(['elected'])).topics[0].partitions[0];
    await cluster.waitFor('leader 1 with a full ISR', async () => {
      const p = await leaderOf();
      return p.leaderId === 1 && p.isrNodes.length === 3 ? true : undefined;
    });
    assert.equal(await cluster.node(1).process.stop(), 0);
    assert.match(cluster.node(1).process.output(), /controlled shutdown: leadership moved to other replicas/);
    // The log line proves the move came first; broker 2 may apply it a moment later.
    await cluster.waitFor('broker 2 to lead', async () =>
      (await leaderOf()).leaderId === 2 ? true : undefined,
    );
    await cluster.restart(1);
    await cluster.waitFor('broker 1 back in the ISR', async () =>
      (await leaderOf()).isrNodes.length === 3 ? true : undefined,
    );
    assert.equal((await leaderOf()).leaderId, 2, 'no automatic rebalance here');

    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    try {
      const elect = async (type: 'preferred' | 'unclean', topic = 'elected') => {
        const [result] = await admin.electLeaders(type, [{ topic, partition: 0 }]);
        assert.deepEqual([result.topic, result.partition], [topic, 0]);
        return result.errorCode;
      };
      assert.equal(await elect('preferred'), ErrorCode.NONE);
      await cluster.waitFor('broker 1 to lead again', async () =>
        (await leaderOf()).leaderId === 1 ? true : undefined,
      );
      assert.equal(await elect('preferred'), ErrorCode.ELECTION_NOT_NEEDED);
      assert.equal(
        await elect('unclean'),
        ErrorCode.ELECTION_NOT_NEEDED,
        'an unclean election needs a partition without a leader',
      );
      assert.equal(await elect('preferred', 'nope'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    } finally {
      await admin.close();
    }
  });

  test('topic configs, new partitions and deletions reach every broker', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([{ name: 'shared', numPartitions: 2, replicationFactor: 3 }]);
    await admin.alterConfigs({ type: ConfigResourceType.TOPIC, name: 'shared' }, [
      { name: 'retention.ms', value: '3600000' },
    ]);
    await admin.createPartitions([{ topic: 'shared', count: 4 }]);
    await admin.close();
    for (const n of cluster.nodes) {
      await cluster.waitFor(`broker ${n.nodeId} to know the new retention.ms`, async () => {
        const a = new Admin({ bootstrapServers: `127.0.0.1:${n.port}` });
        try {
          const configs = await a.describeConfigs({ type: ConfigResourceType.TOPIC, name: 'shared' }, [
            'retention.ms',
          ]);
          return configs[0].value === '3600000' ? true : undefined;
        } finally {
          await a.close();
        }
      });
    }
    await cluster.waitFor('four partitions with leaders and full ISRs', async () => {
      const ps = (await cluster.metadata(['shared'])).topics[0].partitions;
      return ps.length === 4 && ps.every((p) => p.leaderId > 0 && p.isrNodes.length === 3) ? true : undefined;
    });
    const topicsJson = (n: number) =>
      fs.readFileSync(path.join(cluster.node(n).dataDir, 'topics.json'), 'utf8');
    assert.match(topicsJson(3), /"retention.ms": "3600000"/, 'the local logs took the config');

    const deleter = new Admin({ bootstrapServers: cluster.bootstrap });
    await deleter.deleteTopics(['shared']);
    await deleter.close();
    await cluster.waitFor('every broker to delete the logs of shared', async () =>
      cluster.nodes.every((n) => !fs.readdirSync(n.dataDir).some((f) => /^shared-\d+$/.test(f)))
        ? true
        : undefined,
    );
    const md = await cluster.metadata(['shared']);
    assert.equal(md.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('`tributary cluster --config` runs three brokers of one cluster in one process', async () => {
    const dir = tempDir('cluster-command');
    const ports = [await freePort(), await freePort(), await freePort()];
    const file = path.join(dir, 'cluster.yaml');
    fs.writeFileSync(
      file,
      [
        'cluster.id: one-process',
        `redis.url: ${cluster.redis.url}`,
        'default.replication.factor: 3',
        'min.insync.replicas: 2',
        'broker.session.timeout.ms: 3000',
        'broker.heartbeat.interval.ms: 300',
        'brokers:',
        ...ports.flatMap((port, i) => [
          `  - node.id: ${i + 1}`,
          `    listeners: PLAINTEXT://127.0.0.1:${port}`,
          `    log.dirs: ${path.join(dir, `b${i + 1}`)}`,
          `    broker.rack: rack-${i + 1}`,
        ]),
      ].join('\n') + '\n',
    );
    const child = spawn(process.execPath, [MAIN, 'cluster', '--config', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await cluster.waitFor('three brokers listening', async () =>
        (out.match(/listening on/g) ?? []).length === 3 ? true : undefined,
      );
      const bootstrap = ports.map((p) => `127.0.0.1:${p}`).join(',');
      await produceBytes(bootstrap, 'in-one-process', 50, 100);
      const md = await runAsync('kcat', ['-b', bootstrap, '-L', '-t', 'in-one-process', '-J'], {
        timeoutMs: 20_000,
      });
      const meta = JSON.parse(md.stdout) as {
        brokers: unknown[];
        topics: { partitions: { replicas: unknown[]; isrs: unknown[] }[] }[];
      };
      assert.equal(meta.brokers.length, 3);
      assert.equal(
        meta.topics[0].partitions[0].replicas.length,
        3,
        'default.replication.factor from the file',
      );
      assert.equal(await countRecords(bootstrap, 'in-one-process'), 50);
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      assert.equal(await exited, 0, out.slice(-3000));
      clearTimeout(timer);
    }
  });
});
