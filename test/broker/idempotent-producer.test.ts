import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@tributary/client';
import {
  batchHeaders,
  CreateTopics,
  encodeRecordBatch,
  ErrorCode,
  Fetch,
  InitProducerId,
  ListOffsets,
  Produce,
} from '@tributary/protocol';
import { startBroker, tempDir, type BrokerProcess } from '../support/broker-process';

/** Idempotent produce over the wire with our own Connection, against a broker process. */
describe('idempotent producer against a broker process', () => {
  const dataDir = tempDir('idempotence');
  let broker: BrokerProcess;
  let conn: Connection;

  const connect = async () => {
    conn = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
  };

  const restart = async (how: 'stop' | 'kill9') => {
    conn.close();
    if (how === 'stop') assert.equal(await broker.stop(), 0);
    else await broker.kill9();
    broker = await startBroker({ dataDir });
    await connect();
  };

  const initProducerId = async () => {
    const r = await conn.request(InitProducerId, { transactionalId: null, transactionTimeoutMs: 60000 });
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.producerEpoch, 0);
    return r.producerId;
  };

  const idempotentBatch = (producerId: number, seq: number, count = 3, epoch = 0) =>
    encodeRecordBatch({
      records: Array.from({ length: count }, (_, i) => ({
        key: Buffer.from(`k${seq + i}`),
        value: Buffer.from(`v${seq + i}`),
      })),
      producerId,
      producerEpoch: epoch,
      baseSequence: seq,
    });

  const produceRequest = (topic: string, records: Buffer) => ({
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });

  const produce = async (topic: string, records: Buffer) =>
    (await conn.request(Produce, produceRequest(topic, records))).responses[0].partitionResponses[0];

  const latest = async (topic: string): Promise<number> => {
    const r = await conn.request(ListOffsets, {
      replicaId: -1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
    });
    return r.topics[0].partitions[0].offset;
  };

  /** [baseOffset, producerId, baseSequence] of every stored batch. */
  const storedBatches = async (topic: string) => {
    const r = await conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    const records = r.responses[0].partitions[0].records ?? Buffer.alloc(0);
    return [...batchHeaders(records)].map((h) => [h.baseOffset, h.producerId, h.baseSequence]);
  };

  const createTopic = async (name: string) => {
    const r = await conn.request(CreateTopics, {
      topics: [{ name, numPartitions: 1, replicationFactor: 1 }],
      timeoutMs: 5000,
    });
    assert.equal(r.topics[0].errorCode, ErrorCode.NONE);
  };

  before(async () => {
    broker = await startBroker({ dataDir });
    await connect();
  });

  after(async () => {
    conn?.close();
    assert.equal(await broker.stop(), 0);
  });

  test('InitProducerId gives fresh ids (even to a producer that passes its own), refuses half a pair', async () => {
    const a = await initProducerId();
    const b = await initProducerId();
    assert.notEqual(a, b);
    const resumed = await conn.request(InitProducerId, {
      transactionalId: null,
      transactionTimeoutMs: 60000,
      producerId: b,
      producerEpoch: 0,
    });
    assert.equal(resumed.errorCode, ErrorCode.NONE);
    assert.ok(
      ![a, b].includes(resumed.producerId),
      'a non-transactional producer gets a new id, as in Kafka',
    );
    const half = await conn.request(InitProducerId, {
      transactionalId: null,
      transactionTimeoutMs: 60000,
      producerId: a,
      producerEpoch: -1,
    });
    assert.equal(half.errorCode, ErrorCode.INVALID_REQUEST);
    // A transactional id keeps its producer id and gets a new epoch (the coordinator's tests say more).
    const txn = await conn.request(InitProducerId, { transactionalId: 'tx-1', transactionTimeoutMs: 60000 });
    const again = await conn.request(InitProducerId, {
      transactionalId: 'tx-1',
      transactionTimeoutMs: 60000,
    });
    assert.deepEqual(
      [txn.errorCode, again.errorCode, again.producerId, again.producerEpoch],
      [ErrorCode.NONE, ErrorCode.NONE, txn.producerId, txn.producerEpoch + 1],
    );
  });

  test('a batch resent after its connection was cut before the answer is stored once and answered with its offset', async () => {
    await createTopic('retry');
    const pid = await initProducerId();
    assert.equal((await produce('retry', idempotentBatch(pid, 0))).baseOffset, 0);
    const batch = idempotentBatch(pid, 3);
    // Send, then cut the connection before reading the answer: the producer cannot know whether it was written.
    await conn.requestNoResponse(Produce, produceRequest('retry', batch));
    conn.close();
    await connect();
    for (let i = 0; (await latest('retry')) < 6; i++) {
      assert.ok(i < 100, 'the first send was appended');
      await sleep(20);
    }
    const retried = await produce('retry', batch);
    assert.equal(retried.errorCode, ErrorCode.NONE);
    assert.equal(retried.baseOffset, 3, 'the original offset');
    assert.equal(await latest('retry'), 6, 'nothing appended for the retry');
    assert.deepEqual(await storedBatches('retry'), [
      [0, pid, 0],
      [3, pid, 3],
    ]);
    const next = await produce('retry', idempotentBatch(pid, 6));
    assert.deepEqual([next.errorCode, next.baseOffset], [ErrorCode.NONE, 6]);
  });

  test('out-of-sequence and stale-epoch batches get Kafka error codes and are not stored', async () => {
    await createTopic('fenced');
    const pid = await initProducerId();
    assert.equal((await produce('fenced', idempotentBatch(pid, 0, 2, 1))).errorCode, ErrorCode.NONE);
    const gap = await produce('fenced', idempotentBatch(pid, 5, 2, 1));
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.match(gap.errorMessage ?? '', /Out of order sequence number/);
    const stale = await produce('fenced', idempotentBatch(pid, 2, 2, 0));
    assert.equal(stale.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await latest('fenced'), 2);
  });

  for (const how of ['stop', 'kill9'] as const) {
    test(`a retry after a broker restart (${how === 'stop' ? 'SIGTERM' : 'kill -9'}) is still recognised`, async () => {
      const topic = `restart-${how}`;
      await createTopic(topic);
      const pid = await initProducerId();
      for (let seq = 0; seq < 15; seq += 3) await produce(topic, idempotentBatch(pid, seq));
      const last = idempotentBatch(pid, 15);
      assert.equal((await produce(topic, last)).baseOffset, 15);
      await restart(how);
      const retried = await produce(topic, last);
      assert.deepEqual([retried.errorCode, retried.baseOffset], [ErrorCode.NONE, 15]);
      const older = await produce(topic, idempotentBatch(pid, 6));
      assert.deepEqual([older.errorCode, older.baseOffset], [ErrorCode.NONE, 6], 'any of the last five');
      assert.equal(await latest(topic), 18);
      assert.equal((await produce(topic, idempotentBatch(pid, 18))).baseOffset, 18);
      assert.ok((await initProducerId()) > pid, 'producer ids are not reused after a restart');
    });
  }
});
