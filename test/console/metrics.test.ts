import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Broker, parseBrokerConfig } from '@tributary/broker';
import { Admin, Consumer, Producer } from '@tributary/client';
import { startConsole, type RunningConsole } from '@tributary/console';
import { MetricsRegistry } from '@tributary/metrics';
import { brokerLevelLogKeys } from '@tributary/storage';
import { tempDir } from '../support/broker-process';
import { parseExposition, sampleValue as value } from '../support/prometheus-text';
import { closedPort, cluster } from './console-support';

// A broker in the console's process reports into the console's registry, as in a demo
// topology; the console adds what it reads from every cluster through the client.
describe('/metrics with a broker in the same process', () => {
  let broker: Broker;
  let console_: RunningConsole;
  let bootstrap: string;
  const registry = new MetricsRegistry();
  const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

  before(async () => {
    const config = parseBrokerConfig(
      [
        {
          source: 'test',
          values: {
            'node.id': '1',
            listeners: 'PLAINTEXT://127.0.0.1:0',
            'log.dirs': tempDir('metrics'),
            'group.initial.rebalance.delay.ms': '0',
          },
        },
      ],
      brokerLevelLogKeys(),
    );
    broker = new Broker(config, silent, { registry });
    const [address] = await broker.start();
    bootstrap = `127.0.0.1:${address.port}`;
    console_ = await startConsole({
      clusters: [cluster('local', bootstrap), cluster('gone', `127.0.0.1:${await closedPort()}`)],
      metrics: registry,
      host: '127.0.0.1',
      port: 0,
      logLevels: ['error'],
    });
  });

  after(async () => {
    await console_?.close();
    await broker?.stop();
  });

  test('requests per API, bytes and records per topic, partitions, consumer lag, mirror', async () => {
    const producer = new Producer({ bootstrapServers: bootstrap });
    const send = (from: number, count: number) =>
      producer.send({
        topic: 'metered',
        messages: Array.from({ length: count }, (_, i) => ({
          value: `r${from + i}`,
          partition: (from + i) % 2,
        })),
      });
    const admin = new Admin({ bootstrapServers: bootstrap });
    await admin.createTopics([{ name: 'metered', numPartitions: 2 }]);
    await admin.close();
    await send(0, 20);
    const consumer = new Consumer({
      bootstrapServers: bootstrap,
      groupId: 'meter',
      autoCommit: false,
      autoOffsetReset: 'earliest',
    });
    consumer.subscribe(['metered']);
    let seen = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const running = consumer.run({ eachMessage: () => void (++seen === 20 && done()) });
    await all;
    await consumer.stop();
    await running;
    await consumer.commit();
    await consumer.close();
    await send(20, 7);
    await producer.close();

    const res = await fetch(`${console_.url}/metrics`);
    assert.equal(res.status, 200);
    // Express orders the parameters its own way: text/plain; charset=utf-8; version=0.0.4.
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
    const m = parseExposition(await res.text()).samples;
    const id = { cluster: broker.clusterId, broker: '1' };

    assert.equal(value(m, 'kafka_server_records_in_total', { ...id, topic: 'metered' }), 27);
    assert.ok((value(m, 'kafka_server_bytes_in_total', { ...id, topic: 'metered' }) ?? 0) > 27 * 2);
    assert.ok((value(m, 'kafka_server_records_out_total', { ...id, topic: 'metered' }) ?? 0) >= 20);
    assert.ok((value(m, 'kafka_server_bytes_out_total', { ...id, topic: 'metered' }) ?? 0) > 0);
    const produceRequests = (m.get('kafka_server_requests_total') ?? [])
      .filter((s) => s.labels.api === 'Produce' && s.labels.cluster === id.cluster)
      .reduce((n, s) => n + s.value, 0);
    assert.ok(produceRequests >= 2, `Produce requests counted: ${produceRequests}`);
    assert.equal(
      value(m, 'kafka_server_request_duration_seconds_count', { ...id, api: 'Produce' }),
      produceRequests,
    );
    assert.equal(
      value(m, 'kafka_server_request_duration_seconds_bucket', { ...id, api: 'Produce', le: '+Inf' }),
      produceRequests,
    );
    for (const api of ['Metadata', 'Fetch', 'JoinGroup', 'OffsetCommit', 'ApiVersions'])
      assert.ok(
        (m.get('kafka_server_requests_total') ?? []).some((s) => s.labels.api === api),
        `${api} counted`,
      );
    assert.equal(value(m, 'kafka_server_isr_shrinks_total', id), 0);
    assert.equal(value(m, 'kafka_server_isr_expands_total', id), 0);

    assert.equal(value(m, 'tributary_cluster_up', { cluster: 'local' }), 1);
    assert.equal(value(m, 'tributary_cluster_up', { cluster: 'gone' }), 0);
    assert.equal(value(m, 'kafka_cluster_brokers', { cluster: 'local' }), 1);
    assert.equal(value(m, 'kafka_cluster_under_replicated_partitions', { cluster: 'local' }), 0);
    assert.equal(value(m, 'kafka_cluster_offline_partitions', { cluster: 'local' }), 0);
    assert.equal(
      value(m, 'kafka_topic_partition_current_offset', {
        cluster: 'local',
        topic: 'metered',
        partition: '0',
      }),
      14,
    );
    assert.equal(
      value(m, 'kafka_topic_partition_current_offset', {
        cluster: 'local',
        topic: 'metered',
        partition: '1',
      }),
      13,
    );
    const lag = (p: string) =>
      value(m, 'kafka_consumergroup_lag', {
        cluster: 'local',
        group: 'meter',
        topic: 'metered',
        partition: p,
      });
    assert.deepEqual([lag('0'), lag('1')], [4, 3]);
    assert.equal(
      value(m, 'kafka_consumergroup_current_offset', { cluster: 'local', group: 'meter', partition: '0' }),
      10,
    );
    assert.equal(value(m, 'kafka_consumergroup_lag_sum', { cluster: 'local', group: 'meter' }), 7);
    assert.equal(value(m, 'tributary_mirror_configured', {}), 0);
    assert.equal(m.get('tributary_mirror_lag_records'), undefined, 'no flows, no samples');
  });
});
