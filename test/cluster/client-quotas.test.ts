import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@tributary/client';
import { AlterClientQuotas, CreateTopics, DescribeClientQuotas } from '@tributary/protocol';
import { runAsync } from '../support/broker-process';
import { startCluster, type TestCluster } from '../support/cluster-process';

async function connectTo(cluster: TestCluster, nodeId: number): Promise<Connection> {
  return new Connection({
    host: '127.0.0.1',
    port: cluster.node(nodeId).port,
    requestTimeoutMs: 15_000,
  }).connect();
}

/** One broker's own answer: which client ids have a producer_byte_rate there. */
async function producerQuotas(cluster: TestCluster, nodeId: number): Promise<Record<string, number>> {
  const conn = await connectTo(cluster, nodeId);
  try {
    const r = await conn.request(DescribeClientQuotas, { components: [], strict: false });
    assert.equal(r.errorCode, 0);
    return Object.fromEntries(
      (r.entries ?? []).flatMap((e) =>
        e.values
          .filter((v) => v.key === 'producer_byte_rate')
          .map((v) => [
            e.entity.map((c) => `${c.entityType}=${c.entityName ?? '<default>'}`).join(','),
            v.value,
          ]),
      ),
    );
  } finally {
    conn.close();
  }
}

describe('client quotas in a replicated cluster', { timeout: 180_000 }, () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
  });

  after(async () => {
    await cluster?.stop();
  });

  test('an alteration through one broker is described and enforced by every broker', async () => {
    const conn = await connectTo(cluster, 1);
    try {
      const r = await conn.request(AlterClientQuotas, {
        entries: [
          {
            entity: [{ entityType: 'client-id', entityName: 'tiny' }],
            ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }],
          },
        ],
        validateOnly: false,
      });
      assert.deepEqual(
        r.entries.map((e) => e.errorCode),
        [0],
      );
    } finally {
      conn.close();
    }
    for (const id of [1, 2, 3])
      await cluster.waitFor(`broker ${id} to know the quota`, async () =>
        (await producerQuotas(cluster, id))['client-id=tiny'] === 1024 ? true : undefined,
      );

    // A topic led by each broker: a producer over its quota is throttled by each leader.
    const line = `${'t'.repeat(999)}\n`;
    for (const id of [1, 2, 3]) {
      // Each broker measures its own traffic: 12 KB is over 10 s of 1 KB/s on whichever broker leads.
      const topic = `tiny-on-${id}`;
      const conn1 = await connectTo(cluster, 1);
      try {
        const created = await conn1.request(CreateTopics, {
          topics: [
            {
              name: topic,
              numPartitions: -1,
              replicationFactor: -1,
              assignments: [{ partitionIndex: 0, brokerIds: [id] }],
              configs: [],
            },
          ],
          timeoutMs: 15_000,
          validateOnly: false,
        });
        assert.equal(created.topics[0].errorCode, 0, created.topics[0].errorMessage ?? '');
      } finally {
        conn1.close();
      }
      await cluster.waitFor(`a leader for ${topic}`, async () => {
        const md = await cluster.metadata([topic]);
        return md.topics[0]?.partitions[0]?.leaderId === id ? true : undefined;
      });
      const r = await runAsync('kcat', ['-b', cluster.bootstrap, '-t', topic, '-P', '-X', 'client.id=tiny'], {
        input: line.repeat(12),
        timeoutMs: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`\\(${id}\\) throttled request for \\d+ms`));
    }
  });
});
