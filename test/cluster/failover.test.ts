import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import { encodeRecordBatch, ErrorCode, Fetch, Produce } from '@tributary/protocol';
import { PYTHON, PYTHON_DIR, ROOT, runAsync } from '../support/broker-process';
import { outputs, startCluster, type TestCluster } from '../support/cluster-process';

/** Every record of a topic as "partition offset value", read with kcat from the cluster. */
async function readTopic(bootstrap: string, topic: string): Promise<{ p: number; o: number; v: string }[]> {
  const r = await runAsync(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [p, o, v] = l.split(' ');
      return { p: Number(p), o: Number(o), v };
    });
}

async function connect(port: number): Promise<Connection> {
  return new Connection({ host: '127.0.0.1', port, requestTimeoutMs: 15_000 }).connect();
}

async function produce(port: number, topic: string, partition: number, acks: number, value: string) {
  const conn = await connect(port);
  try {
    const r = await conn.request(Produce, {
      transactionalId: null,
      acks,
      timeoutMs: 5000,
      topicData: [
        {
          name: topic,
          partitionData: [
            {
              index: partition,
              records: encodeRecordBatch({ records: [{ key: null, value: Buffer.from(value) }] }),
            },
          ],
        },
      ],
    });
    return r.responses[0].partitionResponses[0];
  } finally {
    conn.close();
  }
}

describe('a three-broker cluster on Redis losing brokers', { timeout: 240_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({
      brokers: 3,
      settings: [
        'auto.leader.rebalance.enable=true',
        'leader.imbalance.check.interval.seconds=1',
        // Short follower long polls, so the divergence test's paused followers hold no parked fetch.
        'replica.fetch.wait.max.ms=100',
      ],
      flags: ['--metrics-listen', '127.0.0.1:0'],
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  /** A partition as any broker, or broker `fromNode`, describes it. */
  const partitionOf = async (topic: string, partition: number, fromNode?: number) => {
    const md = await cluster.metadata([topic], fromNode);
    return md.topics[0].partitions.find((p) => p.partitionIndex === partition)!;
  };

  /** Waits until a broker's own Metadata names it the leader: others may learn of it first. */
  const leadsByItsOwnAccount = (topic: string, partition: number, nodeId: number) =>
    cluster.waitFor(`broker ${nodeId} to know it leads ${topic}-${partition}`, async () =>
      (await partitionOf(topic, partition, nodeId))?.leaderId === nodeId ? true : undefined,
    );

  /**
   * The leader the controller chose when it moved a partition to `leaderEpoch`, read from its
   * log: the preferred-leader rebalance may move it on again within moments, too fast for polling
   * Metadata to see.
   */
  const leaderChosenAt = (topic: string, partition: number, leaderEpoch: number) =>
    cluster.waitFor(`the controller to move ${topic}-${partition} to epoch ${leaderEpoch}`, async () => {
      const chosen = new RegExp(
        `controller: ${topic}-${partition}: leader -?\\d+ -> (-?\\d+), epoch ${leaderEpoch}\\b`,
      ).exec(outputs(cluster));
      return chosen === null ? undefined : Number(chosen[1]);
    });

  test('kill -9 of a leader under an idempotent acks=all producer: every acknowledged record survives once, the producer moves on within seconds', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([
      { name: 'orders', numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
    ]);
    await admin.close();
    await cluster.waitFor('leaders of orders', async () => {
      const p = await partitionOf('orders', 0);
      return p.leaderId >= 0 && p.isrNodes.length === 3 ? p : undefined;
    });

    const producer = spawn(
      PYTHON,
      [path.join(PYTHON_DIR, 'cluster_producer.py'), cluster.bootstrap, 'orders', '12000', '1500'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    producer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    producer.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => producer.once('exit', resolve));
    const acked = () => out.split('\n').filter((l) => l.startsWith('A ')).length;
    await cluster.waitFor(
      '2000 acknowledged records',
      async () => (acked() >= 2000 ? true : undefined),
      30_000,
    );

    // The case under test is a leader dying with followers in sync. A follower that fell out of
    // the ISR on a loaded machine would leave the partition offline, as Kafka would.
    const victim = await cluster.waitFor(
      'orders-0 with all three replicas in sync',
      async () => {
        const p = await partitionOf('orders', 0);
        return p.leaderId >= 0 && p.isrNodes.length === 3 ? p.leaderId : undefined;
      },
      30_000,
    );
    const killedAt = Date.now();
    await cluster.kill9(victim);
    const timer = setTimeout(() => producer.kill('SIGKILL'), 90_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, `the producer finished (${code}):\n${err}\n${out.slice(-2000)}`);

    const lines = out.split('\n');
    assert.ok(
      lines.includes('DONE 0'),
      `every record was delivered:\n${lines
        .filter((l) => !l.startsWith('A '))
        .slice(-40)
        .join('\n')}\nwhat the brokers said of orders-0:\n${outputs(cluster)
        .split('\n')
        .filter((l) => /^--- broker|orders-0\b/.test(l))
        .join('\n')}`,
    );
    const acks = lines
      .filter((l) => l.startsWith('A '))
      .map((l) => {
        const [, t, p, o, v] = l.split(' ');
        return { t: Number(t), p: Number(p), o: Number(o), v };
      });
    assert.equal(acks.length, 12000, 'every record acknowledged');
    const afterKill = acks.filter((a) => a.t > killedAt && a.p === 0);
    assert.ok(afterKill.length > 0, 'the partition whose leader died took records again');
    const resumedAfterMs = afterKill[0].t - killedAt;
    assert.ok(resumedAfterMs < 15_000, `acknowledgements resumed ${resumedAfterMs} ms after the kill`);

    const stored = await readTopic(cluster.bootstrap, 'orders');
    const byValue = new Map<string, { p: number; o: number }[]>();
    for (const r of stored) byValue.set(r.v, [...(byValue.get(r.v) ?? []), { p: r.p, o: r.o }]);
    const duplicates = [...byValue].filter(([, at]) => at.length > 1);
    assert.deepEqual(duplicates.slice(0, 5), [], 'no record is stored twice');
    for (const a of acks) {
      assert.deepEqual(
        byValue.get(a.v),
        [{ p: a.p, o: a.o }],
        `${a.v} acknowledged at ${a.p}/${a.o} is there`,
      );
    }
    const p0Now = await partitionOf('orders', 0);
    assert.notEqual(p0Now.leaderId, victim);
    assert.ok(!p0Now.isrNodes.includes(victim), 'the dead broker left the ISR');
  });

  test('the killed broker comes back, catches up, rejoins every ISR and leads its preferred partitions again', async () => {
    const dead = cluster.nodes.find((n) => !n.alive)!;
    await cluster.restart(dead.nodeId);
    await cluster.waitFor(
      `broker ${dead.nodeId} in every ISR of orders`,
      async () => {
        const md = await cluster.metadata(['orders']);
        return md.topics[0].partitions.every((p) => p.isrNodes.includes(dead.nodeId)) ? true : undefined;
      },
      30_000,
    );
    // auto.leader.rebalance.enable moves leadership back to each partition's first replica.
    await cluster.waitFor(
      'preferred leaders',
      async () => {
        const md = await cluster.metadata(['orders']);
        return md.topics[0].partitions.every((p) => p.leaderId === p.replicaNodes[0]) ? true : undefined;
      },
      30_000,
    );
    const stored = await readTopic(cluster.bootstrap, 'orders');
    assert.equal(
      new Set(stored.map((r) => r.v)).size,
      12000,
      'all records readable from the restored leaders',
    );
    // The survivors dropped the dead broker from their ISRs and took it back: their metrics say so.
    let shrinks = 0;
    let expands = 0;
    for (const n of cluster.nodes.filter((x) => x.nodeId !== dead.nodeId)) {
      const url = /metrics on (http:\/\/\S+)/.exec(n.process.output())?.[1];
      assert.ok(url !== undefined, `broker ${n.nodeId} prints its metrics address`);
      const text = await (await fetch(url)).text();
      const sample = (name: string) =>
        Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
      shrinks += sample('kafka_server_isr_shrinks_total');
      expands += sample('kafka_server_isr_expands_total');
    }
    assert.ok(shrinks >= 1, `ISR shrinks counted on the survivors: ${shrinks}`);
    assert.ok(expands >= 1, `ISR expands counted on the survivors: ${expands}`);
  });

  test('a replica that wrote records its followers never saw truncates them when it comes back as a follower', async () => {
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([{ name: 'diverge', numPartitions: 1, replicationFactor: 3 }]);
    await admin.close();
    const start = await cluster.waitFor('a leader for diverge', async () => {
      const p = await partitionOf('diverge', 0);
      return p.leaderId >= 0 && p.isrNodes.length === 3 ? p : undefined;
    });
    await leadsByItsOwnAccount('diverge', 0, start.leaderId);
    const leader = cluster.node(start.leaderId);
    for (let i = 0; i < 5; i++)
      assert.equal((await produce(leader.port, 'diverge', 0, -1, `kept-${i}`)).errorCode, 0);
    // The followers stop (a pause, not a death: shorter than the session and lag timeouts) while
    // the leader takes records with acks=1 that only it has; then the leader dies.
    const followers = cluster.nodes.filter((n) => n.nodeId !== leader.nodeId);
    for (const f of followers) f.process.child.kill('SIGSTOP');
    // Past replica.fetch.wait.max.ms, so their parked fetches are answered empty before the records below.
    await new Promise((r) => setTimeout(r, 800));
    for (let i = 0; i < 3; i++)
      assert.equal((await produce(leader.port, 'diverge', 0, 1, `lost-${i}`)).errorCode, 0);
    await cluster.kill9(leader.nodeId);
    for (const f of followers) f.process.child.kill('SIGCONT');
    const moved = await cluster.waitFor('a new leader for diverge', async () => {
      const p = await partitionOf('diverge', 0);
      return p.leaderId >= 0 && p.leaderId !== leader.nodeId ? p : undefined;
    });
    await leadsByItsOwnAccount('diverge', 0, moved.leaderId);
    assert.equal((await produce(cluster.node(moved.leaderId).port, 'diverge', 0, -1, 'after')).errorCode, 0);

    await cluster.restart(leader.nodeId);
    await cluster.waitFor(`broker ${leader.nodeId} back in the ISR of diverge`, async () => {
      const p = await partitionOf('diverge', 0);
      return p.isrNodes.includes(leader.nodeId) ? true : undefined;
    });
    assert.match(leader.process.output(), /diverge-0 diverged from broker \d+.*truncating to 5/);
    // The returning replica serves the new leader's history (a consumer may read from a follower, Fetch v11+).
    const conn = await connect(leader.port);
    try {
      const r = await cluster.waitFor('the follower to have the high watermark', async () => {
        const f = await conn.request(Fetch, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: 'diverge',
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
          rackId: '',
        });
        const p = f.responses[0].partitions[0];
        return p.errorCode === 0 && p.highWatermark === 6 ? p : undefined;
      });
      const values = (await readTopic(cluster.bootstrap, 'diverge')).map((x) => x.v);
      assert.deepEqual(values, ['kept-0', 'kept-1', 'kept-2', 'kept-3', 'kept-4', 'after']);
      assert.ok(
        !r.records!.toString().includes('lost-'),
        'the divergent records are gone from the returning replica',
      );
      assert.ok(r.records!.toString().includes('after'));
    } finally {
      conn.close();
    }
  });

  test("the controller's broker dies: another takes over with a higher controller epoch", async () => {
    const before = await cluster.metadata();
    const old = before.controllerId;
    assert.ok(old > 0, 'there is a controller');
    const epochBefore = Number(
      (
        await runAsync('redis-cli', [
          '-p',
          String(cluster.redis.port),
          'GET',
          `tributary:{${cluster.clusterId}}:controller-epoch`,
        ])
      ).stdout,
    );
    await cluster.kill9(old);
    const next = await cluster.waitFor('a new controller', async () => {
      const md = await cluster.metadata();
      return md.controllerId > 0 && md.controllerId !== old ? md.controllerId : undefined;
    });
    const epochAfter = Number(
      (
        await runAsync('redis-cli', [
          '-p',
          String(cluster.redis.port),
          'GET',
          `tributary:{${cluster.clusterId}}:controller-epoch`,
        ])
      ).stdout,
    );
    assert.ok(epochAfter > epochBefore, `controller epoch ${epochBefore} -> ${epochAfter}`);
    assert.match(
      cluster.node(next).process.output(),
      new RegExp(`became the controller in epoch ${epochAfter}`),
    );
    // The new controller moves leadership off the dead broker.
    await cluster.waitFor('no partition led by the dead controller', async () => {
      const md = await cluster.metadata(['orders']);
      return md.topics[0].partitions.every((p) => p.leaderId !== old && p.leaderId >= 0) ? true : undefined;
    });
    await cluster.restart(old);
  });

  test('a broker restarted before its session expired gives up its leaderships, then rejoins the ISRs', async () => {
    await cluster.waitFor('all brokers in the ISRs', async () => {
      const md = await cluster.metadata(['orders']);
      return md.topics[0].partitions.every((p) => p.isrNodes.length === 3) ? true : undefined;
    });
    const p2 = await partitionOf('orders', 2);
    const bounced = p2.leaderId;
    await cluster.kill9(bounced);
    await cluster.restart(bounced);
    assert.notEqual(
      await leaderChosenAt('orders', 2, p2.leaderEpoch + 1),
      bounced,
      'the restarted broker does not keep leading from its previous run',
    );
    await cluster.waitFor(`broker ${bounced} back in the ISRs`, async () => {
      const md = await cluster.metadata(['orders']);
      return md.topics[0].partitions.every((p) => p.isrNodes.includes(bounced)) ? true : undefined;
    });
    const stored = await readTopic(cluster.bootstrap, 'orders');
    assert.equal(new Set(stored.map((r) => r.v)).size, 12000);
  });

  test('the controller’s broker restarted before its session expired: the next controller still takes its leaderships away', async () => {
    // The previous test's bounce may have left the controller leading nothing until the
    // preferred-leader rebalance (every second here) gives its partitions back.
    const { controller, led } = await cluster.waitFor(
      'all brokers in the ISRs and the controller leading a partition of orders',
      async () => {
        const md = await cluster.metadata(['orders']);
        const partitions = md.topics[0].partitions;
        const led = partitions.find((p) => p.leaderId === md.controllerId);
        return partitions.every((p) => p.isrNodes.length === 3) && led !== undefined
          ? { controller: md.controllerId, led }
          : undefined;
      },
    );
    await cluster.kill9(controller);
    await cluster.restart(controller);
    assert.notEqual(
      await leaderChosenAt('orders', led.partitionIndex, led.leaderEpoch + 1),
      controller,
      'the bounced broker does not keep leading from its previous run',
    );
    await cluster.waitFor(`broker ${controller} back in the ISRs`, async () => {
      const md = await cluster.metadata(['orders']);
      return md.topics[0].partitions.every((p) => p.isrNodes.includes(controller)) ? true : undefined;
    });
  });

  test('acks=all is refused with NOT_ENOUGH_REPLICAS once the ISR is below min.insync.replicas; acks=1 still works', async () => {
    await cluster.waitFor('all brokers in the ISRs', async () => {
      const md = await cluster.metadata(['orders']);
      return md.topics[0].partitions.every((p) => p.isrNodes.length === 3) ? true : undefined;
    });
    const p = await partitionOf('orders', 1);
    const others = cluster.nodes.filter((n) => n.nodeId !== p.leaderId);
    for (const n of others) await cluster.kill9(n.nodeId);
    await cluster.waitFor(
      'the ISR of orders-1 to shrink to its leader',
      async () => {
        const q = await partitionOf('orders', 1);
        return q.isrNodes.length === 1 ? q : undefined;
      },
      20_000,
    );
    const leaderPort = cluster.node(p.leaderId).port;
    const refused = await produce(leaderPort, 'orders', 1, -1, 'refused');
    assert.equal(refused.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS, outputs(cluster).slice(-3000));
    const accepted = await produce(leaderPort, 'orders', 1, 1, 'accepted');
    assert.equal(accepted.errorCode, ErrorCode.NONE);
  });
});
