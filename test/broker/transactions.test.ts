import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection, Consumer } from '@tributary/client';
import {
  CreateTopics,
  decodeRecordBatches,
  DescribeProducers,
  encodeRecordBatch,
  ErrorCode,
  Fetch,
  ListOffsets,
  Produce,
  WriteTxnMarkers,
  type ResponseOf,
} from '@tributary/protocol';
import { brokerLevelLogKeys } from '@tributary/storage';
import { Broker, parseBrokerConfig, type TransactionVerification } from '@tributary/broker';
import { runAsync, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';

/**
 * The partition side of transactions against a broker, with hand-built transactional batches
 * and WriteTxnMarkers requests standing in for producers and their coordinator.
 */

/** Producer ids of our own choosing: the coordinator that hands them out is not involved here. */
const A = 900_001;
const B = 900_002;
const C = 900_003;
const D = 900_004;

/** Hand-built transactions have no coordinator to confirm them: KIP-890's verification is off. */
const NO_COORDINATOR = ['--set', 'transaction.partition.verification.enable=false'];

type PartitionFetch = ResponseOf<typeof Fetch>['responses'][number]['partitions'][number];

/** Sequence numbers per producer and epoch, so each batch follows on. */
const sequences = new Map<string, number>();

function txnBatch(pid: number, values: string[], epoch = 0, transactional = true): Buffer {
  const k = `${pid}:${epoch}`;
  const seq = sequences.get(k) ?? 0;
  sequences.set(k, seq + values.length);
  return encodeRecordBatch({
    records: values.map((v) => ({ key: null, value: Buffer.from(v) })),
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    isTransactional: transactional,
  });
}

function plainBatch(values: string[]): Buffer {
  return encodeRecordBatch({ records: values.map((v) => ({ key: null, value: Buffer.from(v) })) });
}

/** What Kafka's read_committed consumer makes of a fetch: control batches and aborted transactions dropped. */
function committedValues(p: PartitionFetch): string[] {
  const aborted = p.abortedTransactions ?? [];
  const open = new Set<number>();
  const out: string[] = [];
  for (const { header: h, records } of decodeRecordBatches(p.records ?? Buffer.alloc(0))) {
    for (const t of aborted) if (t.firstOffset <= h.baseOffset) open.add(t.producerId);
    if (h.isControl) {
      open.delete(h.producerId);
      continue;
    }
    if (h.isTransactional && open.has(h.producerId)) continue;
    for (const r of records) out.push(r.value!.toString());
  }
  return out;
}

function allValues(p: PartitionFetch): string[] {
  return decodeRecordBatches(p.records ?? Buffer.alloc(0))
    .filter((b) => !b.header.isControl)
    .flatMap((b) => b.records.map((r) => r.value!.toString()));
}

class Client {
  constructor(readonly conn: Connection) {}

  static async connect(port: number): Promise<Client> {
    return new Client(await new Connection({ host: '127.0.0.1', port }).connect());
  }

  async createTopic(name: string, configs: Record<string, string> = {}): Promise<void> {
    const r = await this.conn.request(CreateTopics, {
      topics: [
        {
          name,
          numPartitions: 1,
          replicationFactor: 1,
          configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
        },
      ],
      timeoutMs: 5000,
    });
    assert.equal(r.topics[0].errorCode, ErrorCode.NONE);
  }

  async produce(topic: string, records: Buffer, transactionalId: string | null = 'tx') {
    const r = await this.conn.request(Produce, {
      transactionalId,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    return r.responses[0].partitionResponses[0];
  }

  async markers(
    topic: string,
    pid: number,
    committed: boolean,
    options: { epoch?: number; coordinatorEpoch?: number; partitions?: number[] } = {},
  ): Promise<number[]> {
    const r = await this.conn.request(WriteTxnMarkers, {
      markers: [
        {
          producerId: pid,
          producerEpoch: options.epoch ?? 0,
          transactionResult: committed,
          topics: [{ name: topic, partitionIndexes: options.partitions ?? [0] }],
          coordinatorEpoch: options.coordinatorEpoch ?? 0,
        },
      ],
    });
    assert.equal(r.markers[0].producerId, pid);
    return r.markers[0].topics[0].partitions.map((p) => p.errorCode);
  }

  async fetch(topic: string, fetchOffset: number, isolationLevel: number): Promise<PartitionFetch> {
    const r = await this.conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      isolationLevel,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20 }] }],
    });
    const p = r.responses[0].partitions[0];
    assert.equal(p.errorCode, ErrorCode.NONE);
    return p;
  }

  async latest(topic: string, isolationLevel: number): Promise<number> {
    const r = await this.conn.request(ListOffsets, {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }],
    });
    return r.topics[0].partitions[0].offset;
  }

  close(): void {
    this.conn.close();
  }
}

describe('transactions on a broker: markers, last stable offset, read_committed', () => {
  const dataDir = tempDir('txn');
  let broker: BrokerProcess;
  let client: Client;

  before(async () => {
    broker = await startBroker({ dataDir, extraArgs: NO_COORDINATOR });
    client = await Client.connect(broker.port);
  });

  after(async () => {
    client?.close();
    assert.equal(await broker.stop(), 0);
  });

  test('ApiVersions advertises WriteTxnMarkers v0-1', () => {
    assert.equal(client.conn.versionFor(WriteTxnMarkers), 1);
  });

  test('read_committed Fetch returns committed records below the LSO with the aborted transactions; interleaved transactions; an open one holds the LSO', async () => {
    await client.createTopic('txn');
    const offsets: number[] = [];
    const at = async (records: Buffer, transactionalId?: string | null) => {
      const r = await client.produce('txn', records, transactionalId);
      assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? undefined);
      offsets.push(r.baseOffset);
    };
    await at(txnBatch(A, ['a1', 'a2'])); // 0-1
    await at(txnBatch(B, ['b1'])); // 2
    await at(plainBatch(['p1']), null); // 3
    await at(txnBatch(A, ['a3'])); // 4
    assert.deepEqual(await client.markers('txn', B, false, { coordinatorEpoch: 2 }), [ErrorCode.NONE]); // 5
    assert.deepEqual(await client.markers('txn', A, true, { coordinatorEpoch: 2 }), [ErrorCode.NONE]); // 6
    await at(txnBatch(C, ['c1'])); // 7: stays open
    await at(plainBatch(['p2']), null); // 8
    assert.deepEqual(offsets, [0, 2, 3, 4, 7, 8]);

    const committed = await client.fetch('txn', 0, 1);
    assert.equal(committed.highWatermark, 9);
    assert.equal(committed.lastStableOffset, 7, "C's open transaction holds it");
    assert.deepEqual(committed.abortedTransactions, [{ producerId: B, firstOffset: 2 }]);
    assert.deepEqual(committedValues(committed), ['a1', 'a2', 'p1', 'a3']);
    const last = decodeRecordBatches(committed.records!).at(-1)!.header;
    assert.equal(last.lastOffset, 6, 'nothing at or past the LSO');

    const uncommitted = await client.fetch('txn', 0, 0);
    assert.equal(uncommitted.abortedTransactions, null);
    assert.equal(uncommitted.lastStableOffset, 7);
    assert.deepEqual(allValues(uncommitted), ['a1', 'a2', 'b1', 'p1', 'a3', 'c1', 'p2']);
    assert.equal(await client.latest('txn', 1), 7);
    assert.equal(await client.latest('txn', 0), 9);
    // From past the aborted transaction there is none to report.
    assert.deepEqual((await client.fetch('txn', 6, 1)).abortedTransactions, []);

    assert.deepEqual(await client.markers('txn', C, true, { coordinatorEpoch: 2 }), [ErrorCode.NONE]); // 9
    const rest = await client.fetch('txn', 7, 1);
    assert.equal(rest.lastStableOffset, 10);
    assert.deepEqual(committedValues(rest), ['c1', 'p2']);
    assert.equal(await client.latest('txn', 1), 10);

    const producers = await client.conn.request(DescribeProducers, {
      topics: [{ name: 'txn', partitionIndexes: [0] }],
    });
    const byId = new Map(producers.topics[0].partitions[0].activeProducers.map((p) => [p.producerId, p]));
    assert.equal(byId.get(C)?.currentTxnStartOffset, -1);
    assert.equal(byId.get(A)?.coordinatorEpoch, 2);
  });

  test('WriteTxnMarkers refuses stale producer and coordinator epochs and unknown partitions; Produce refuses what Kafka refuses', async () => {
    await client.createTopic('fence');
    assert.equal((await client.produce('fence', txnBatch(D, ['d1']))).errorCode, ErrorCode.NONE);
    // The coordinator fences D (epoch 1) and aborts its transaction with coordinator epoch 5.
    assert.deepEqual(await client.markers('fence', D, false, { epoch: 1, coordinatorEpoch: 5 }), [
      ErrorCode.NONE,
    ]);
    assert.deepEqual(await client.markers('fence', D, true, { epoch: 0, coordinatorEpoch: 5 }), [
      ErrorCode.INVALID_PRODUCER_EPOCH,
    ]);
    assert.deepEqual(await client.markers('fence', D, true, { epoch: 1, coordinatorEpoch: 4 }), [
      ErrorCode.TRANSACTION_COORDINATOR_FENCED,
    ]);
    assert.deepEqual(
      await client.markers('fence', D, true, { epoch: 1, coordinatorEpoch: 5, partitions: [0, 7] }),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    );
    assert.deepEqual(await client.markers('nosuchtopic', D, true), [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);

    // The zombie (epoch 0) is fenced on the partition.
    const zombie = await client.produce('fence', txnBatch(D, ['late']));
    assert.equal(zombie.errorCode, ErrorCode.INVALID_PRODUCER_EPOCH);
    // Transactional records need a transactionalId.
    const anonymous = await client.produce('fence', txnBatch(D, ['x'], 1), null);
    assert.equal(anonymous.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // Clients may not write control batches.
    const control = encodeRecordBatch({
      records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      isControl: true,
    });
    const forged = await client.produce('fence', control, null);
    assert.equal(forged.errorCode, ErrorCode.INVALID_RECORD);
    assert.match(forged.errorMessage ?? '', /not allowed to write control records/);
    // Within a transaction every batch of the producer must be transactional.
    sequences.set(`${D}:1`, 0);
    assert.equal((await client.produce('fence', txnBatch(D, ['y'], 1))).errorCode, ErrorCode.NONE);
    const plain = await client.produce('fence', txnBatch(D, ['z'], 1, false));
    assert.equal(plain.errorCode, ErrorCode.INVALID_TXN_STATE);
    assert.deepEqual(allValues(await client.fetch('fence', 0, 0)), ['d1', 'y']);
  });

  test('kill -9 mid-transaction: the open transaction still holds the LSO and the aborted index is intact after restart', async () => {
    await client.createTopic('crash');
    await client.produce('crash', txnBatch(A, ['x1'])); // 0, aborted below
    await client.produce('crash', txnBatch(B, ['y1'])); // 1, open at the crash
    await client.markers('crash', A, false); // 2
    await client.produce('crash', plainBatch(['z'])); // 3
    const before = await client.fetch('crash', 0, 1);
    assert.equal(before.lastStableOffset, 1);
    client.close();
    await broker.kill9();
    broker = await startBroker({ dataDir, extraArgs: NO_COORDINATOR });
    client = await Client.connect(broker.port);
    const after = await client.fetch('crash', 0, 1);
    assert.equal(after.lastStableOffset, 1);
    assert.equal(after.highWatermark, 4);
    assert.deepEqual(after.abortedTransactions, [{ producerId: A, firstOffset: 0 }]);
    assert.deepEqual(await client.markers('crash', B, true), [ErrorCode.NONE]); // 4
    const done = await client.fetch('crash', 0, 1);
    assert.equal(done.lastStableOffset, 5);
    assert.deepEqual(done.abortedTransactions, [{ producerId: A, firstOffset: 0 }]);
    assert.deepEqual(committedValues(done), ['y1', 'z']);
  });

  test('kcat with isolation.level=read_committed sees committed transactions only; read_uncommitted sees all', async () => {
    await client.createTopic('kcat');
    sequences.clear();
    await client.produce('kcat', txnBatch(A, ['committed-1', 'committed-2']));
    await client.produce('kcat', txnBatch(B, ['aborted-1']));
    await client.produce('kcat', plainBatch(['plain']), null);
    await client.produce('kcat', txnBatch(B, ['aborted-2']));
    await client.markers('kcat', B, false);
    await client.produce('kcat', txnBatch(C, ['committed-3']));
    await client.markers('kcat', A, true);
    await client.markers('kcat', C, true);
    const read = async (isolation: string) => {
      const r = await runAsync(
        'kcat',
        [
          '-b',
          broker.bootstrap,
          '-C',
          '-t',
          'kcat',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-X',
          `isolation.level=${isolation}`,
        ],
        { timeoutMs: 30_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter((l) => l.length > 0);
    };
    assert.deepEqual(await read('read_committed'), ['committed-1', 'committed-2', 'plain', 'committed-3']);
    assert.deepEqual(await read('read_uncommitted'), [
      'committed-1',
      'committed-2',
      'aborted-1',
      'plain',
      'aborted-2',
      'committed-3',
    ]);
  });
});

describe("our client's read_committed consumer against the broker", () => {
  let broker: BrokerProcess;
  let client: Client;

  before(async () => {
    broker = await startBroker({ dataDir: tempDir('txn-client'), extraArgs: NO_COORDINATOR });
    client = await Client.connect(broker.port);
  });

  after(async () => {
    client?.close();
    assert.equal(await broker.stop(), 0);
  });

  test('aborted records never arrive, even from a transaction still open when the consumer reached it', async () => {
    await client.createTopic('ours');
    sequences.clear();
    await client.produce('ours', txnBatch(A, ['a1']));
    await client.produce('ours', txnBatch(B, ['b1']));
    await client.produce('ours', plainBatch(['p1']), null);
    await client.markers('ours', B, false);
    await client.markers('ours', A, true);
    await client.produce('ours', txnBatch(C, ['c1'])); // open while the consumer reads, then aborted
    await client.produce('ours', plainBatch(['p2']), null);
    const consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 200,
      isolationLevel: 'read_committed',
    });
    consumer.assign([{ topic: 'ours', partition: 0 }]);
    const got: string[] = [];
    // C is decided only once the consumer has everything before it: had the broker let c1 out
    // before its marker, the consumer could not have known to drop it.
    for await (const m of consumer) {
      got.push(m.value!.toString());
      if (got.length === 2) assert.deepEqual(await client.markers('ours', C, false), [ErrorCode.NONE]);
      if (got.length === 3) break;
    }
    assert.deepEqual(got, ['a1', 'p1', 'p2']);
    await consumer.close();
  });
});

describe('KIP-890 verification of transactional produce, with a coordinator standing in', () => {
  let broker: Broker;
  let client: Client;
  const asked: TransactionVerification[] = [];
  /** What the stand-in coordinator says, by partition. */
  let answer: (topic: string, partition: number) => number = () => ErrorCode.NONE;

  before(async () => {
    const config = parseBrokerConfig(
      [
        {
          source: 'test',
          values: { 'node.id': '1', listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': tempDir('txn-verify') },
        },
      ],
      brokerLevelLogKeys(),
    );
    broker = new Broker(config, { log: () => undefined, warn: () => undefined, error: () => undefined });
    const [address] = await broker.start();
    broker.ctx!.replicas.useTransactionVerifier((request) => {
      asked.push(request);
      return Promise.resolve(
        request.partitions.map((tp) => ({ ...tp, errorCode: answer(tp.topic, tp.partition) })),
      );
    });
    client = await Client.connect(address.port);
    await client.createTopic('verified');
  });

  after(async () => {
    client?.close();
    await broker?.stop();
  });

  test('the first batch of a transaction is asked about, later ones are not; a refusal is INVALID_TXN_STATE, a busy coordinator NOT_ENOUGH_REPLICAS', async () => {
    sequences.clear();
    answer = () => ErrorCode.INVALID_TXN_STATE;
    const refused = await client.produce('verified', txnBatch(A, ['no']), 'tx-a');
    assert.equal(refused.errorCode, ErrorCode.INVALID_TXN_STATE);
    assert.deepEqual(asked, [
      {
        transactionalId: 'tx-a',
        producerId: A,
        producerEpoch: 0,
        partitions: [{ topic: 'verified', partition: 0 }],
      },
    ]);

    sequences.clear();
    answer = () => ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    const busy = await client.produce('verified', txnBatch(A, ['busy']), 'tx-a');
    assert.equal(busy.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    assert.match(busy.errorMessage ?? '', /COORDINATOR_LOAD_IN_PROGRESS/);

    sequences.clear();
    answer = () => ErrorCode.NONE;
    assert.equal((await client.produce('verified', txnBatch(A, ['yes']), 'tx-a')).errorCode, ErrorCode.NONE);
    const questions = asked.length;
    assert.equal((await client.produce('verified', txnBatch(A, ['more']), 'tx-a')).errorCode, ErrorCode.NONE);
    assert.equal(asked.length, questions, 'the transaction is open here: nothing to ask');
    assert.deepEqual(await client.markers('verified', A, true), [ErrorCode.NONE]);
    assert.deepEqual(allValues(await client.fetch('verified', 0, 1)), ['yes', 'more']);
  });
});
