import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Admin,
  ConfigResourceType,
  Consumer,
  murmur2Partition,
  Producer,
  type ConsumerMessage,
} from '@tributary/client';
import { runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

/** Our client against a broker process, checked with kcat (librdkafka) both ways. */
describe('libs/client against a broker process', () => {
  let broker: BrokerProcess;
  let admin: Admin;

  before(async () => {
    broker = await startBroker();
    admin = new Admin({ bootstrapServers: broker.bootstrap });
  });

  after(async () => {
    await admin.close();
    assert.equal(await broker.stop(), 0);
  });

  test('admin: create, list, describe, alter configs, add partitions, delete', async () => {
    await admin.createTopics([{ name: 'adm', numPartitions: 2, configs: { 'retention.ms': '100000' } }]);
    await assert.rejects(admin.createTopics([{ name: 'adm', numPartitions: 2 }]), /TOPIC_ALREADY_EXISTS/);
    await admin.createTopics([{ name: 'adm-v', numPartitions: 1 }], { validateOnly: true });
    assert.deepEqual(await admin.listTopics(), ['adm']);
    const [info] = await admin.describeTopics(['adm']);
    assert.equal(info.partitions.length, 2);
    assert.deepEqual(info.partitions[0].isr, [1]);
    await admin.alterConfigs({ type: ConfigResourceType.TOPIC, name: 'adm' }, [
      { name: 'retention.ms', value: '200000' },
      { name: 'cleanup.policy', value: 'compact', op: 'append' },
    ]);
    const configs = await admin.describeConfigs({ type: ConfigResourceType.TOPIC, name: 'adm' }, [
      'retention.ms',
      'cleanup.policy',
    ]);
    assert.deepEqual(
      configs.map((c) => [c.name, c.value]),
      [
        ['cleanup.policy', 'delete,compact'],
        ['retention.ms', '200000'],
      ],
    );
    await assert.rejects(
      admin.alterConfigs({ type: ConfigResourceType.TOPIC, name: 'adm' }, [
        { name: 'retention.ms', value: 'x' },
      ]),
      /INVALID_CONFIG/,
    );
    await admin.createPartitions([{ topic: 'adm', count: 5 }]);
    assert.equal((await admin.describeTopics(['adm']))[0].partitions.length, 5);
    const cluster = await admin.describeCluster();
    assert.equal(cluster.controllerId, 1);
    assert.deepEqual(
      cluster.brokers.map((b) => b.port),
      [broker.port],
    );
    await admin.deleteTopics(['adm']);
    assert.deepEqual(await admin.listTopics(), []);
    await assert.rejects(admin.deleteTopics(['adm']), /UNKNOWN_TOPIC_OR_PARTITION/);
  });

  test('our producer writes every codec; kcat reads every record, keys in the Java partitioner’s partitions', async () => {
    await admin.createTopics([{ name: 'ours', numPartitions: 4 }]);
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
    for (const compression of codecs) {
      const producer = new Producer({ bootstrapServers: broker.bootstrap, compression, lingerMs: 2 });
      const metas = await producer.send({
        topic: 'ours',
        messages: Array.from({ length: 100 }, (_, i) => ({
          key: `key-${i}`,
          value: `${compression}-${i}`,
          headers: { codec: compression },
        })),
      });
      metas.forEach((m, i) => assert.equal(m.partition, murmur2Partition(Buffer.from(`key-${i}`), 4)));
      await producer.close();
    }
    const r = await runAsync('kcat', [
      '-b',
      broker.bootstrap,
      '-t',
      'ours',
      '-C',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%p %k %s %h\\n',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => l.length > 0);
    assert.equal(rows.length, 500);
    for (const row of rows) {
      const [p, key, value, header] = row.split(' ');
      assert.equal(
        Number(p),
        murmur2Partition(Buffer.from(key), 4),
        `${key} in the partition the Java client picks`,
      );
      assert.equal(header, `codec=${value.split('-')[0]}`);
    }
    assert.equal(new Set(rows.map((r) => r.split(' ')[2])).size, 500, 'each record once');
  });

  test('kcat writes; our consumer (assigned partitions) reads every record in order, with seek and pause', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `k${i % 5}:v${i}`).join('\n') + '\n';
    const produced = await runAsync(
      'kcat',
      ['-b', broker.bootstrap, '-t', 'theirs', '-P', '-K:', '-p', '0', '-z', 'lz4'],
      {
        input: lines,
      },
    );
    assert.equal(produced.status, 0, produced.stderr);
    const consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 100,
    });
    consumer.assign([{ topic: 'theirs', partition: 0 }]);
    const seen: ConsumerMessage[] = [];
    let sought = false;
    await consumer.run({
      eachMessage: async (m) => {
        seen.push(m);
        if (m.offset === 99 && !sought) {
          sought = true;
          consumer.seek({ topic: 'theirs', partition: 0, offset: 250 });
        }
        if (m.offset === 299) void consumer.stop();
      },
    });
    assert.deepEqual(
      seen.map((m) => m.offset),
      [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 250 + i)],
    );
    assert.equal(seen[0].key?.toString(), 'k0');
    assert.equal(seen[seen.length - 1].value?.toString(), 'v299');
    assert.equal(consumer.position({ topic: 'theirs', partition: 0 }), 300);
    await consumer.close();
  });

  test('for await iteration, and records produced while consuming arrive through the long poll', async () => {
    const producer = new Producer({ bootstrapServers: broker.bootstrap, lingerMs: 0 });
    await admin.createTopics([{ name: 'live', numPartitions: 1 }]);
    const consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 5000,
    });
    consumer.assign([{ topic: 'live', partition: 0 }]);
    const sender = (async () => {
      for (let i = 0; i < 20; i++) {
        await producer.send({ topic: 'live', messages: [{ value: `m${i}` }] });
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const got: string[] = [];
    const started = Date.now();
    for await (const m of consumer) {
      got.push(m.value?.toString() ?? '');
      if (got.length === 20) break;
    }
    await sender;
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    assert.ok(Date.now() - started < 5000, 'records arrive as they are produced, not at max.wait.ms');
    await consumer.close();
    await producer.close();
  });

  test('offsets: earliest, latest, by time; delete records moves the earliest', async () => {
    await admin.createTopics([{ name: 'times', numPartitions: 1 }]);
    const producer = new Producer({ bootstrapServers: broker.bootstrap });
    const t0 = Date.now() - 100_000;
    await producer.send({
      topic: 'times',
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `${i}`, timestamp: t0 + i * 1000 })),
    });
    await producer.close();
    const tp = [{ topic: 'times', partition: 0 }];
    assert.equal((await admin.listOffsets(tp, 'earliest'))[0].offset, 0);
    assert.equal((await admin.listOffsets(tp, 'latest'))[0].offset, 10);
    assert.equal((await admin.listOffsets(tp, { timestamp: t0 + 2500 }))[0].offset, 3);
    assert.equal((await admin.listOffsets(tp, { timestamp: t0 + 60_000 }))[0].offset, -1);
    assert.deepEqual(await admin.deleteRecords([{ topic: 'times', partition: 0, offset: 4 }]), [
      { topic: 'times', partition: 0, offset: 4 },
    ]);
    assert.equal((await admin.listOffsets(tp, 'earliest'))[0].offset, 4);
    await assert.rejects(
      admin.deleteRecords([{ topic: 'times', partition: 0, offset: 11 }]),
      /OFFSET_OUT_OF_RANGE/,
    );
  });

  test('acks=0 and acks=1 producers; a record larger than max.message.bytes fails with MESSAGE_TOO_LARGE', async () => {
    await admin.createTopics([{ name: 'acks', numPartitions: 1, configs: { 'max.message.bytes': '10000' } }]);
    const fireAndForget = new Producer({ bootstrapServers: broker.bootstrap, acks: 0, idempotent: false });
    const metas = await fireAndForget.send({ topic: 'acks', messages: [{ value: 'a' }, { value: 'b' }] });
    assert.deepEqual(
      metas.map((m) => m.offset),
      [-1, -1],
    );
    await fireAndForget.close();
    const leader = new Producer({ bootstrapServers: broker.bootstrap, acks: 1, idempotent: false });
    const [m] = await leader.send({ topic: 'acks', messages: [{ value: 'c' }] });
    assert.equal(m.offset, 2, 'the two acks=0 records were written before it');
    await assert.rejects(
      leader.send({ topic: 'acks', messages: [{ value: Buffer.alloc(20000) }] }),
      /MESSAGE_TOO_LARGE/,
    );
    await leader.close();
  });
});
