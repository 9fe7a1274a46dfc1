import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, ConfigResourceType, Producer } from '@tributary/client';
import { PYTHON, PYTHON_DIR, runAsync } from '../support/broker-process';
import { startCluster, type TestCluster } from '../support/cluster-process';

const DYNAMIC_BROKER = 2;
const DYNAMIC_DEFAULT = 3;
const DEFAULT = 5;

/**
 * Dynamic broker configs in a 3-broker cluster: stored in Redis, announced, and applied by
 * every broker (the default) or by the one named (per-broker), kept across restarts.
 */
describe('dynamic broker configs in a replicated cluster', () => {
  let cluster: TestCluster;
  let admin: Admin;

  before(async () => {
    cluster = await startCluster({ brokers: 3 });
    admin = new Admin({ bootstrapServers: cluster.bootstrap });
  });

  after(async () => {
    await admin.close();
    await cluster.stop();
  });

  /** Each broker's value and source of a setting, as it describes itself. */
  async function perBroker(name: string): Promise<[string | null, number][]> {
    return Promise.all(
      [1, 2, 3].map(async (id) => {
        const [c] = await admin.describeConfigs({ type: ConfigResourceType.BROKER, name: String(id) }, [
          name,
        ]);
        return [c.value, c.source] as [string | null, number];
      }),
    );
  }

  async function settles(name: string, expected: [string | null, number][]): Promise<void> {
    let last: [string | null, number][] = [];
    await cluster.waitFor(`${name} on every broker`, async () => {
      last = await perBroker(name);
      return JSON.stringify(last) === JSON.stringify(expected) ? true : undefined;
    });
  }

  test('the default reaches every broker, a per-broker setting only its broker', async () => {
    const r = await runAsync(
      PYTHON,
      [path.join(PYTHON_DIR, 'broker_configs.py'), cluster.bootstrap, 'cluster'],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { per_broker: string[]; default: [number, string | null] };
    assert.deepEqual(report, { per_broker: ['ok'], default: [0, null] });
    await settles('message.max.bytes', [
      ['800', DYNAMIC_DEFAULT],
      ['800', DYNAMIC_DEFAULT],
      ['800', DYNAMIC_DEFAULT],
    ]);
    await settles('log.cleaner.backoff.ms', [
      ['15000', DEFAULT],
      ['15000', DEFAULT],
      ['1234', DYNAMIC_BROKER],
    ]);
    const [onlyDefault] = await admin.describeConfigs({ type: ConfigResourceType.BROKER, name: '' });
    assert.deepEqual(
      [onlyDefault.name, onlyDefault.value, onlyDefault.source],
      ['message.max.bytes', '800', DYNAMIC_DEFAULT],
    );
    // Every replica's log follows the default: a record over it is refused wherever it is led.
    await admin.createTopics([{ name: 'sized', numPartitions: 3, replicationFactor: 3 }]);
    const producer = new Producer({ bootstrapServers: cluster.bootstrap, lingerMs: 0 });
    try {
      for (const partition of [0, 1, 2]) {
        await producer.send({ topic: 'sized', messages: [{ value: 'y'.repeat(300), partition }] });
        await assert.rejects(
          producer.send({ topic: 'sized', messages: [{ value: 'y'.repeat(900), partition }] }),
          /MESSAGE_TOO_LARGE/,
        );
      }
    } finally {
      await producer.close();
    }
  });

  test('a broker restarted (or killed) reads its configs back from Redis', async () => {
    await admin.alterConfigs({ type: ConfigResourceType.BROKER, name: '2' }, [
      { name: 'log.retention.ms', value: '3600000' },
    ]);
    await cluster.kill9(2);
    await cluster.restart(2);
    await settles('log.retention.ms', [
      [null, DEFAULT],
      ['3600000', DYNAMIC_BROKER],
      [null, DEFAULT],
    ]);
    await settles('message.max.bytes', [
      ['800', DYNAMIC_DEFAULT],
      ['800', DYNAMIC_DEFAULT],
      ['800', DYNAMIC_DEFAULT],
    ]);
    await admin.alterConfigs({ type: ConfigResourceType.BROKER, name: '' }, [
      { name: 'message.max.bytes', op: 'delete' },
    ]);
    await settles('message.max.bytes', [
      ['1048588', DEFAULT],
      ['1048588', DEFAULT],
      ['1048588', DEFAULT],
    ]);
  });
});
