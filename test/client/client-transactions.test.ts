import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Consumer, Producer, type ConsumerMessage } from '@tributary/client';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { runAsync, startBroker, type BrokerProcess } from '../support/broker-process';
import { until } from '../support/mirror-process';

/** Every record of a topic a consumer with this isolation level reads (to the end as of now). */
async function readAll(
  bootstrap: string,
  topic: string,
  isolationLevel: 'read_committed' | 'read_uncommitted',
) {
  const admin = new Admin({ bootstrapServers: bootstrap });
  const [info] = await admin.describeTopics([topic]);
  const ends = await admin.listOffsets(
    info.partitions.map((p) => ({ topic, partition: p.partition })),
    'latest',
  );
  await admin.close();
  const consumer = new Consumer({ bootstrapServers: bootstrap, isolationLevel, autoOffsetReset: 'earliest' });
  consumer.assign(info.partitions.map((p) => ({ topic, partition: p.partition })));
  const seen: ConsumerMessage[] = [];
  const done = () => ends.every((e) => consumer.position({ topic, partition: e.partition }) >= e.offset);
  const running = consumer.run({ eachMessage: (m) => void seen.push(m) });
  await until('the consumer read to the end', done, 30_000, 50);
  await consumer.stop();
  await running;
  await consumer.close();
  return seen.map((m) => m.value?.toString() ?? '').sort();
}

/** Our client's transactions against a broker: what read_committed consumers see, offsets in transactions, fencing. */
describe('libs/client transactions', { timeout: 120_000 }, () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'group.initial.rebalance.delay.ms=0'] });
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([
      { name: 'payments', numPartitions: 2 },
      { name: 'input', numPartitions: 1 },
      { name: 'output', numPartitions: 1 },
    ]);
    await admin.close();
  });

  after(async () => {
    await broker?.stop();
  });

  test('committed records are seen by read_committed consumers, aborted ones never', async () => {
    const producer = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'payments-writer' });
    await assert.rejects(
      producer.send({ topic: 'payments', messages: [{ value: 'early' }] }),
      /initTransactions/,
    );
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.send({
      topic: 'payments',
      messages: [
        { value: 'c1', partition: 0 },
        { value: 'c2', partition: 1 },
      ],
    });
    await producer.commitTransaction();
    producer.beginTransaction();
    await producer.send({
      topic: 'payments',
      messages: [
        { value: 'a1', partition: 0 },
        { value: 'a2', partition: 1 },
      ],
    });
    await producer.abortTransaction();
    producer.beginTransaction();
    await producer.send({ topic: 'payments', messages: [{ value: 'c3', partition: 0 }] });
    await producer.commitTransaction();
    await producer.close();

    assert.deepEqual(await readAll(broker.bootstrap, 'payments', 'read_committed'), ['c1', 'c2', 'c3']);
    assert.deepEqual(await readAll(broker.bootstrap, 'payments', 'read_uncommitted'), [
      'a1',
      'a2',
      'c1',
      'c2',
      'c3',
    ]);
    // librdkafka agrees.
    const kcat = await runAsync('kcat', [
      '-b',
      broker.bootstrap,
      '-t',
      'payments',
      '-C',
      '-e',
      '-q',
      '-X',
      'isolation.level=read_committed',
      '-f',
      '%s\n',
    ]);
    assert.equal(kcat.status, 0, kcat.stderr);
    assert.deepEqual(kcat.stdout.trim().split('\n').sort(), ['c1', 'c2', 'c3']);
  });

  test('consume-transform-produce: output and input offsets commit together, or neither', async () => {
    const seed = new Producer({ bootstrapServers: broker.bootstrap });
    await seed.send({
      topic: 'input',
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `in-${i}` })),
    });
    await seed.close();
    const consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      groupId: 'transformer',
      autoCommit: false,
      autoOffsetReset: 'earliest',
      isolationLevel: 'read_committed',
    });
    const producer = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'transformer-1' });
    await producer.initTransactions();
    consumer.subscribe(['input']);
    const taken: ConsumerMessage[] = [];
    const running = consumer.run({ eachMessage: (m) => void taken.push(m) });
    await until('the input is read', () => taken.length === 10, 30_000);
    await consumer.stop();
    // The first transaction aborts: nothing of it counts, offsets included.
    producer.beginTransaction();
    await producer.send({
      topic: 'output',
      messages: taken.map((m) => ({ value: `out-${m.value?.toString()}` })),
    });
    await producer.sendOffsetsToTransaction(
      [{ topic: 'input', partition: 0, offset: 10 }],
      consumer.groupMetadata(),
    );
    await producer.abortTransaction();
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    assert.deepEqual(
      (await admin.fetchOffsets('transformer')).filter((o) => o.offset >= 0),
      [],
      'an aborted transaction commits no offset',
    );
    producer.beginTransaction();
    await producer.send({
      topic: 'output',
      messages: taken.map((m) => ({ value: `out-${m.value?.toString()}` })),
    });
    await producer.sendOffsetsToTransaction(
      [{ topic: 'input', partition: 0, offset: 10 }],
      consumer.groupMetadata(),
    );
    await producer.commitTransaction();
    assert.deepEqual(
      (await admin.fetchOffsets('transformer')).map((o) => [o.topic, o.partition, o.offset]),
      [['input', 0, 10]],
    );
    await admin.close();
    await running;
    await consumer.close();
    await producer.close();
    assert.deepEqual(
      await readAll(broker.bootstrap, 'output', 'read_committed'),
      Array.from({ length: 10 }, (_, i) => `out-in-${i}`).sort(),
    );
  });

  test('a second producer with the same transactional id fences the first', async () => {
    const zombie = new Producer({
      bootstrapServers: broker.bootstrap,
      transactionalId: 'fenced-id',
      retries: 2,
    });
    await zombie.initTransactions();
    zombie.beginTransaction();
    await zombie.send({ topic: 'payments', messages: [{ value: 'zombie-open', partition: 0 }] });
    const successor = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'fenced-id' });
    // The successor's init aborts the zombie's open transaction and bumps the epoch.
    await successor.initTransactions();
    successor.beginTransaction();
    await successor.send({ topic: 'payments', messages: [{ value: 'successor', partition: 0 }] });
    await successor.commitTransaction();
    await assert.rejects(
      zombie
        .send({ topic: 'payments', messages: [{ value: 'zombie-late', partition: 0 }] })
        .then(() => zombie.commitTransaction()),
      // The broker refuses the zombie's stale epoch; it may be told so by the partition leader or the coordinator.
      (err: unknown) =>
        (err instanceof KafkaProtocolError &&
          (err.code === ErrorCode.PRODUCER_FENCED || err.code === ErrorCode.INVALID_PRODUCER_EPOCH)) ||
        /cannot go on/.test((err as Error).message),
    );
    await zombie.close().catch(() => undefined);
    await successor.close();
    const committed = await readAll(broker.bootstrap, 'payments', 'read_committed');
    assert.ok(committed.includes('successor'));
    assert.ok(!committed.includes('zombie-open') && !committed.includes('zombie-late'));
  });
});
