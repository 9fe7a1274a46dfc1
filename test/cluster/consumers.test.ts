import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import { Fetch, FindCoordinator, OffsetFetch } from '@tributary/protocol';
import { PYTHON, PYTHON_DIR, ROOT, runAsync } from '../support/broker-process';
import { startCluster, type TestCluster } from '../support/cluster-process';

const RACK_AWARE = 'replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector';

async function produceLines(bootstrap: string, topic: string, values: string[]): Promise<void> {
  const r = await runAsync('kcat', ['-b', bootstrap, '-t', topic, '-P', '-X', 'acks=all'], {
    input: values.join('\n') + '\n',
    timeoutMs: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

function fetchRequest(topic: string, rackId: string) {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId,
  };
}

describe('consumers of a replicated cluster', { timeout: 180_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      racks: ['r1', 'r2', 'r3'],
      settings: [RACK_AWARE, 'offsets.topic.num.partitions=3', 'group.initial.rebalance.delay.ms=0'],
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  test('a consumer with client.rack reads from the follower in its rack (KIP-392)', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([{ name: 'racked', assignments: [[1, 2, 3]] }]);
    await admin.close();
    await cluster.waitFor('leader 1 of racked', async () => {
      const md = await cluster.metadata(['racked']);
      const p = md.topics[0].partitions[0];
      return p?.leaderId === 1 && p.isrNodes.length === 3 ? true : undefined;
    });
    await produceLines(
      cluster.bootstrap,
      'racked',
      Array.from({ length: 50 }, (_, i) => `r${i}`),
    );

    // On the wire: the leader points a consumer of rack r3 to broker 3, which serves the records.
    const leader = await new Connection({ host: '127.0.0.1', port: cluster.node(1).port }).connect();
    const follower = await new Connection({ host: '127.0.0.1', port: cluster.node(3).port }).connect();
    try {
      const pointed = (await leader.request(Fetch, fetchRequest('racked', 'r3'))).responses[0].partitions[0];
      assert.equal(pointed.preferredReadReplica, 3);
      assert.equal(pointed.records?.length ?? 0, 0, 'the leader sends no records with a preferred replica');
      const own = (await leader.request(Fetch, fetchRequest('racked', 'r1'))).responses[0].partitions[0];
      assert.equal(own.preferredReadReplica, -1, 'a consumer in the leader’s rack reads from the leader');
      assert.ok((own.records?.length ?? 0) > 0);
      const served = await cluster.waitFor('the follower to serve the records', async () => {
        const p = (await follower.request(Fetch, fetchRequest('racked', 'r3'))).responses[0].partitions[0];
        return p.errorCode === 0 && p.highWatermark === 50 ? p : undefined;
      });
      assert.ok((served.records?.length ?? 0) > 0);
    } finally {
      leader.close();
      follower.close();
    }

    // confluent-kafka (librdkafka) follows the leader's pointer and fetches from broker 3.
    const r = await runAsync(
      PYTHON,
      [path.join(PYTHON_DIR, 'rack_consumer.py'), cluster.bootstrap, 'racked', 'r3', '50'],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /READ 50/);
    assert.match(r.stderr, /racked \[0\]: migrating from broker 1 to 3 .*preferred replica/);
    const port3 = cluster.node(3).port;
    assert.match(
      r.stderr,
      new RegExp(`:${port3}/3: Enqueue \\d+ message\\(s\\).* on racked \\[0\\]`),
      'records came from broker 3',
    );
  });

  test('a confluent-kafka consumer group keeps consuming and committing when its coordinator’s broker dies', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([{ name: 'grouped', numPartitions: 3, replicationFactor: 3 }]);
    await admin.close();
    await produceLines(
      cluster.bootstrap,
      'grouped',
      Array.from({ length: 300 }, (_, i) => `g${i}`),
    );

    const member = spawn(
      PYTHON,
      [
        path.join(PYTHON_DIR, 'group_member.py'),
        cluster.bootstrap,
        'grouped',
        'survivors',
        'm1',
        'session.timeout.ms=6000',
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const records = new Set<string>();
    let consumed = 0;
    let stderr = '';
    member.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    readline.createInterface({ input: member.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as { ev: string; p?: number; o?: number };
      if (e.ev === 'msg') {
        records.add(`${e.p}/${e.o}`);
        consumed++;
      }
    });
    const exited = new Promise((resolve) => member.once('exit', resolve));
    try {
      await cluster.waitFor(
        'the member to read 300 records',
        async () => (records.size >= 300 ? true : undefined),
        40_000,
      );
      const coordinator = await findCoordinator(cluster, 'survivors');
      await cluster.kill9(coordinator);
      await produceLines(
        cluster.nodes
          .filter((n) => n.alive)
          .map((n) => `127.0.0.1:${n.port}`)
          .join(','),
        'grouped',
        Array.from({ length: 300 }, (_, i) => `h${i}`),
      );
      await cluster.waitFor(
        'the member to read all 600 records',
        async () => (records.size >= 600 ? true : undefined),
        40_000,
      );
      const next = await cluster.waitFor('a new coordinator', async () => {
        const id = await findCoordinator(cluster, 'survivors');
        return id !== coordinator ? id : undefined;
      });
      // Its commits reach the new coordinator: committed offsets reach the end of every partition.
      const committed = await cluster.waitFor(
        'commits of all 600 records',
        async () => {
          const offsets = await fetchCommitted(cluster, next, 'survivors', 'grouped');
          return offsets.reduce((a, b) => a + b, 0) === 600 ? offsets : undefined;
        },
        30_000,
      );
      assert.equal(committed.length, 3);
      assert.ok(consumed - 600 < 300, `few records were read twice (${consumed - 600})`);
    } finally {
      member.stdin?.end('stop\n');
      const timer = setTimeout(() => member.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    assert.ok(!/Traceback/.test(stderr), stderr);
  });
});

async function findCoordinator(cluster: TestCluster, group: string): Promise<number> {
  const n = cluster.nodes.find((x) => x.alive)!;
  const conn = await new Connection({ host: '127.0.0.1', port: n.port }).connect();
  try {
    const r = await conn.request(FindCoordinator, { key: group, keyType: 0, coordinatorKeys: [group] });
    const c = r.coordinators?.[0] ?? { nodeId: r.nodeId, errorCode: r.errorCode };
    if (c.errorCode !== 0) throw new Error(`FindCoordinator: error ${c.errorCode}`);
    return c.nodeId;
  } finally {
    conn.close();
  }
}

async function fetchCommitted(
  cluster: TestCluster,
  coordinator: number,
  group: string,
  topic: string,
): Promise<number[]> {
  const conn: Connection = await new Connection({
    host: '127.0.0.1',
    port: cluster.node(coordinator).port,
  }).connect();
  try {
    const r = await conn.request(OffsetFetch, {
      groupId: group,
      topics: [{ name: topic, partitionIndexes: [0, 1, 2] }],
      groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [0, 1, 2] }] }],
      requireStable: false,
    });
    const partitions = r.groups?.[0]?.topics[0]?.partitions ?? r.topics[0]?.partitions ?? [];
    return partitions.map((p) => Math.max(0, Number(p.committedOffset)));
  } finally {
    conn.close();
  }
}
