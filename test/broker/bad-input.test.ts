import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@tributary/client';
import {
  ApiVersions,
  BATCH,
  CreateTopics,
  DeleteRecords,
  encodeRecordBatch,
  encodeRequest,
  ErrorCode,
  FindCoordinator,
  ListOffsets,
  Metadata,
  Produce,
} from '@tributary/protocol';
import { startBroker, type BrokerProcess } from '../support/broker-process';

/** Writes raw bytes on a fresh socket; resolves with what came back and whether the broker closed it. */
function rawExchange(port: number, bytes: Buffer, waitMs = 1500): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    }, waitMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed });
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

const frame = (body: Buffer): Buffer => {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
};

describe('a broker given bad input', () => {
  let broker: BrokerProcess;
  let client: Connection;

  const latest = async (topic: string): Promise<number> => {
    const r = await client.request(ListOffsets, {
      replicaId: -1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
    });
    return r.topics[0].partitions[0].offset;
  };

  const produce = async (topic: string, records: Buffer) => {
    const r = await client.request(Produce, {
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return r.responses[0].partitionResponses[0];
  };

  const goodBatch = (n = 3): Buffer =>
    encodeRecordBatch({
      records: Array.from({ length: n }, (_, i) => ({
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
      })),
    });

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'socket.request.max.bytes=65536'] });
    client = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
    const created = await client.request(CreateTopics, {
      topics: [
        {
          name: 'bad',
          numPartitions: 1,
          replicationFactor: 1,
          configs: [{ name: 'max.message.bytes', value: '2000' }],
        },
      ],
      timeoutMs: 5000,
    });
    assert.equal(created.topics[0].errorCode, ErrorCode.NONE);
    assert.equal((await produce('bad', goodBatch())).errorCode, ErrorCode.NONE);
  });

  after(async () => {
    client?.close();
    assert.equal(await broker.stop(), 0);
  });

  test('a frame over socket.request.max.bytes closes the connection', async () => {
    const size = Buffer.alloc(4);
    size.writeInt32BE(65537);
    const r = await rawExchange(broker.port, size);
    assert.equal(r.closed, true);
    assert.equal(r.data.length, 0);
    assert.match(broker.output(), /exceeds socket.request.max.bytes 65536/);
  });

  test('a negative frame length closes the connection', async () => {
    const r = await rawExchange(broker.port, Buffer.from('ffffff00', 'hex'));
    assert.equal(r.closed, true);
    assert.match(broker.output(), /negative frame size/);
  });

  test('random garbage and truncated requests close the connection', async () => {
    assert.equal((await rawExchange(broker.port, frame(Buffer.from('deadbeef00', 'hex')))).closed, true);
    const metadata = Buffer.concat(encodeRequest(Metadata, 9, 5, 'x', { topics: [{ name: 'bad' }] }));
    const cut = metadata.subarray(4, metadata.length - 3);
    assert.equal((await rawExchange(broker.port, frame(cut))).closed, true);
    assert.match(broker.output(), /truncated/);
  });

  test('an unknown API key or an unsupported version closes the connection', async () => {
    const unknownKey = Buffer.from('7fff0000000000010000', 'hex');
    assert.equal((await rawExchange(broker.port, frame(unknownKey))).closed, true);
    assert.match(broker.output(), /unknown API key 32767/);
    const newerProduce = Buffer.concat(
      encodeRequest(Produce, 9, 2, 'x', { acks: 1, timeoutMs: 1, topicData: [] }),
    );
    newerProduce.writeInt16BE(10, 6); // Produce v10 (KIP-951), newer than the broker serves
    assert.equal((await rawExchange(broker.port, newerProduce)).closed, true);
    assert.match(broker.output(), /Produce v10 is not supported/);
  });

  test('ApiVersions in a version the broker does not know is answered in v0 with UNSUPPORTED_VERSION', async () => {
    const req = Buffer.concat(encodeRequest(ApiVersions, 0, 77, 'x', {}));
    req.writeInt16BE(99, 6);
    const r = await rawExchange(broker.port, req, 500);
    assert.equal(r.closed, false);
    assert.equal(r.data.readInt32BE(4), 77, 'correlation id');
    assert.equal(r.data.readInt16BE(8), ErrorCode.UNSUPPORTED_VERSION);
    assert.ok(r.data.readInt32BE(10) > 10, 'the supported keys are listed');
  });

  test('a batch with a wrong CRC is CORRUPT_MESSAGE and nothing is appended', async () => {
    const before = await latest('bad');
    const batch = goodBatch();
    batch[batch.length - 1] ^= 0xff;
    const r = await produce('bad', batch);
    assert.equal(r.errorCode, ErrorCode.CORRUPT_MESSAGE);
    assert.equal(await latest('bad'), before);
  });

  test('a batch whose length lies is CORRUPT_MESSAGE and nothing is appended', async () => {
    const before = await latest('bad');
    for (const lie of [10, 5000, -7]) {
      const batch = goodBatch();
      batch.writeInt32BE(lie, BATCH.BATCH_LENGTH);
      assert.equal((await produce('bad', batch)).errorCode, ErrorCode.CORRUPT_MESSAGE, `length ${lie}`);
    }
    const two = Buffer.concat([goodBatch(), goodBatch().subarray(0, 30)]);
    assert.equal((await produce('bad', two)).errorCode, ErrorCode.CORRUPT_MESSAGE, 'trailing partial batch');
    assert.equal(await latest('bad'), before);
  });

  test('old magic is UNSUPPORTED_FOR_MESSAGE_FORMAT, a batch over max.message.bytes is MESSAGE_TOO_LARGE', async () => {
    const before = await latest('bad');
    const old = goodBatch();
    old[BATCH.MAGIC] = 1;
    assert.equal((await produce('bad', old)).errorCode, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    const big = encodeRecordBatch({ records: [{ value: Buffer.alloc(3000, 1) }] });
    const r = await produce('bad', big);
    assert.equal(r.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(await latest('bad'), before);
  });

  test('invalid acks is INVALID_REQUIRED_ACKS; an unknown partition is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const r = await client.request(Produce, {
      acks: 2,
      timeoutMs: 1000,
      topicData: [{ name: 'bad', partitionData: [{ index: 0, records: goodBatch() }] }],
    });
    assert.equal(r.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    const unknown = await client.request(Produce, {
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: 'bad', partitionData: [{ index: 9, records: goodBatch() }] }],
    });
    assert.equal(unknown.responses[0].partitionResponses[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  test('clients may not append to __consumer_offsets: INVALID_TOPIC_EXCEPTION, nothing appended', async () => {
    const found = await client.send(FindCoordinator, 3, { key: 'makes-the-offsets-topic', keyType: 0 });
    assert.equal(found.errorCode, ErrorCode.NONE);
    const end = await latest('__consumer_offsets');
    const r = await produce('__consumer_offsets', goodBatch());
    assert.equal(r.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    assert.equal(await latest('__consumer_offsets'), end);
  });

  test('DeleteRecords on __consumer_offsets is INVALID_TOPIC_EXCEPTION: committed offsets are the coordinator’s', async () => {
    const r = await client.request(DeleteRecords, {
      topics: [{ name: '__consumer_offsets', partitions: [{ partitionIndex: 0, offset: -1 }] }],
      timeoutMs: 5000,
    });
    assert.equal(r.topics[0].partitions[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
  });

  test('a failed acks=0 produce closes its connection (there is no answer to carry the error); a good one does not', async () => {
    const acks0 = (name: string, index: number) =>
      Buffer.concat(
        encodeRequest(Produce, 9, 3, 'x', {
          transactionalId: null,
          acks: 0,
          timeoutMs: 1000,
          topicData: [{ name, partitionData: [{ index, records: goodBatch() }] }],
        }),
      );
    assert.equal((await rawExchange(broker.port, acks0('bad', 9), 800)).closed, true);
    assert.equal((await rawExchange(broker.port, acks0('bad', 0), 800)).closed, false);
  });

  test('fuzzed frames on many connections leave the broker serving and the log intact', async () => {
    const before = await latest('bad');
    const valid = [
      Buffer.concat(
        encodeRequest(Metadata, 9, 1, 'f', { topics: [{ name: 'bad' }], allowAutoTopicCreation: false }),
      ),
      Buffer.concat(
        encodeRequest(Produce, 7, 2, 'f', {
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: 'bad', partitionData: [{ index: 0, records: goodBatch() }] }],
        }),
      ),
    ];
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const exchanges: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const base = Buffer.from(valid[i % valid.length]);
      // Mutate only past the CRC-covered records of the produce frame's header, or anywhere in a metadata frame.
      for (let m = 0; m < 1 + rand(4); m++) base[4 + rand(base.length - 4)] = rand(256);
      exchanges.push(rawExchange(broker.port, base, 300));
    }
    await Promise.all(exchanges);
    const meta = await client.request(Metadata, { topics: [{ name: 'bad' }], allowAutoTopicCreation: false });
    assert.equal(meta.topics[0].errorCode, ErrorCode.NONE);
    // A mutant produce either failed its CRC, or was a valid request for another topic/partition,
    // or kept a valid batch: the log only ever grows by whole 3-record batches.
    assert.equal(((await latest('bad')) - before) % 3, 0);
    assert.equal(broker.child.exitCode, null, 'the broker is still running');
  });
});
