import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeRecordBatches, encodeRecordBatch, ErrorCode } from '@tributary/protocol';
import { LogManager } from '@tributary/storage';
import type { ClusterView } from '../broker-context';
import { FetchWaiters } from '../replica/fetch-waiters';
import { ReplicaManager } from '../replica/replica-manager';
import type { TransactionConfig } from './transaction-config';
import { TransactionCoordinator } from './transaction-coordinator';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  TRANSACTION_STATE_TOPIC,
  transactionPartitionFor,
} from './transaction-log';
import type { TxnMarkerEntry } from '../replica/replica-manager';
import {
  TransactionMarkerChannelManager,
  type MarkerPartitionResult,
} from './transaction-marker-channel-manager';
import { TransactionStateManager } from './transaction-state-manager';
import { transactionVerifier } from './transaction-verifier';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const dirs: string[] = [];

after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const CONFIG: TransactionConfig = {
  stateLogNumPartitions: 3,
  stateLogReplicationFactor: 1,
  stateLogMinIsr: 1,
  stateLogSegmentBytes: 1 << 20,
  stateLogLoadBufferSize: 1 << 20,
  maxTimeoutMs: 60_000,
  transactionalIdExpirationMs: 3_600_000,
  // The tests run the timers' work themselves.
  abortTimedOutTransactionCleanupIntervalMs: 3_600_000,
  removeExpiredTransactionalIdCleanupIntervalMs: 3_600_000,
  partitionVerificationEnable: true,
};

/**
 * Where markers go in these tests: each written marker is recorded; `answer` decides each
 * partition's error (NONE by default), and `hold` keeps the writes waiting until released.
 */
class RecordingWriter {
  readonly written: TxnMarkerEntry[] = [];
  answer: (tp: { topic: string; partition: number }) => number = () => ErrorCode.NONE;
  private held: (() => void)[] | null = null;

  hold(): void {
    this.held = [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const r of held) r();
  }

  readonly write = async (markers: readonly TxnMarkerEntry[]): Promise<MarkerPartitionResult[][]> => {
    if (this.held !== null) await new Promise<void>((resolve) => this.held!.push(resolve));
    return markers.map((m) =>
      m.partitions.map((tp) => {
        const errorCode = this.answer(tp);
        if (errorCode === ErrorCode.NONE) this.written.push({ ...m, partitions: [tp] });
        return { ...tp, errorCode };
      }),
    );
  };
}

/** A coordinator of a lone broker over a real log directory, reopenable as a restarted broker. */
class Harness {
  readonly logs: LogManager;
  readonly replicas: ReplicaManager;
  readonly coordinator: TransactionCoordinator;
  readonly writer: RecordingWriter;
  readonly cluster: ClusterView;
  private nextProducerId: number;
  private readonly keepAlive = setInterval(() => undefined, 1000);

  constructor(
    readonly dir: string,
    readonly config: TransactionConfig,
    firstProducerId = 1000,
    writer = new RecordingWriter(),
  ) {
    this.nextProducerId = firstProducerId;
    this.writer = writer;
    this.logs = new LogManager({ dataDir: dir, brokerConfig: {}, logger: quiet });
    this.logs.open();
    this.replicas = new ReplicaManager({
      localId: 1,
      logs: this.logs,
      waiters: new FetchWaiters(),
      logger: quiet,
      replicaLagTimeMaxMs: 30_000,
    });
    const logs = this.logs;
    const cluster: ClusterView = (this.cluster = {
      clusterId: 'test',
      controllerId: 1,
      brokers: () => [{ nodeId: 1, host: '127.0.0.1', port: 9092, rack: null }],
      topics: () => logs.topics(),
      topic: (name) => logs.topic(name),
      leadership: () => ({ leaderId: 1, leaderEpoch: 0, replicas: [1], isr: [1], offlineReplicas: [] }),
    });
    const stateManager = new TransactionStateManager({
      config,
      logs,
      replicas: this.replicas,
      logger: quiet,
    });
    this.coordinator = new TransactionCoordinator({
      config,
      stateManager,
      markers: new TransactionMarkerChannelManager({
        localId: 1,
        cluster,
        stateManager,
        writeLocal: writer.write,
        sender: null,
        logger: quiet,
      }),
      producerIds: { generateProducerId: () => Promise.resolve(this.nextProducerId++) },
      logger: quiet,
    });
    this.coordinator.startup(true);
    stateManager.ensureTopic();
    if (logs.topic('t') === undefined) logs.createTopic('t', 4, {});
  }

  static create(config: Partial<TransactionConfig> = {}): Harness {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-txn-'));
    dirs.push(dir);
    return new Harness(dir, { ...CONFIG, ...config });
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.coordinator.shutdown();
    this.replicas.close();
    this.logs.close();
  }

  /** Closes and opens a new coordinator over the same directory, as a restarted broker would. */
  reopen(writer = new RecordingWriter()): Harness {
    this.close();
    return new Harness(this.dir, this.config, this.nextProducerId, writer);
  }

  describe(id: string) {
    return this.coordinator.describeTransaction(id);
  }

  async waitForState(id: string, state: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.describe(id).state !== state) {
      if (Date.now() > deadline) assert.fail(`${id} is ${this.describe(id).state}, not ${state}`);
      await sleep(5);
    }
  }

  /** The states written for a transactional id, in log order (null for a tombstone). */
  logged(id: string): (string | null)[] {
    const log = this.logs.partition(
      TRANSACTION_STATE_TOPIC,
      transactionPartitionFor(id, this.config.stateLogNumPartitions),
    );
    assert.ok(log);
    const { records } = log.read(0, 1 << 20, { minOneBatch: true });
    return decodeRecordBatches(records)
      .flatMap((b) => b.records)
      .filter((r) => r.key !== null && decodeTransactionLogKey(r.key) === id)
      .map((r) => (r.value === null ? null : decodeTransactionLogValue(r.value).state));
  }
}

const t = (partition: number) => ({ topic: 't', partition });

describe('transaction coordinator', () => {
  test('InitProducerId: a producer id per transactional id, a new epoch each time; bad timeouts and ids refused', async () => {
    const h = Harness.create();
    try {
      const first = await h.coordinator.initProducerId('a', 10_000, null);
      assert.deepEqual(first, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 0 });
      const again = await h.coordinator.initProducerId('a', 10_000, null);
      assert.deepEqual(again, { errorCode: ErrorCode.NONE, producerId: 1000, producerEpoch: 1 });
      assert.equal((await h.coordinator.initProducerId('b', 10_000, null)).producerId, 1001);
      for (const timeout of [0, -1, 60_001])
        assert.equal(
          (await h.coordinator.initProducerId('a', timeout, null)).errorCode,
          ErrorCode.INVALID_TRANSACTION_TIMEOUT,
        );
      assert.equal((await h.coordinator.initProducerId('', 1000, null)).errorCode, ErrorCode.INVALID_REQUEST);
      assert.deepEqual(h.logged('a'), ['Empty', 'Empty']);
    } finally {
      h.close();
    }
  });

  test('a committed transaction: Ongoing, PrepareCommit answered, markers written, CompleteCommit', async () => {
    const h = Harness.create();
    try {
      const { producerId, producerEpoch } = await h.coordinator.initProducerId('c', 10_000, null);
      assert.equal(
        await h.coordinator.addPartitions('c', producerId, producerEpoch, [t(0), t(1)]),
        ErrorCode.NONE,
      );
      assert.equal(
        await h.coordinator.addPartitions('c', producerId, producerEpoch, [t(1), t(2)]),
        ErrorCode.NONE,
      );
      const ongoing = h.describe('c');
      assert.equal(ongoing.state, 'Ongoing');
      assert.deepEqual(ongoing.topicPartitions, [t(0), t(1), t(2)]);
      assert.ok(ongoing.transactionStartTimeMs > 0);
      assert.equal(await h.coordinator.endTxn('c', producerId, producerEpoch, true), ErrorCode.NONE);
      await h.waitForState('c', 'CompleteCommit');
      assert.deepEqual(
        h.writer.written
          .map((m) => [
            m.producerId,
            m.producerEpoch,
            m.coordinatorEpoch,
            m.committed,
            m.partitions[0].partition,
          ])
          .sort(),
        [0, 1, 2].map((p) => [producerId, producerEpoch, 0, true, p]),
      );
      assert.deepEqual(h.logged('c'), ['Empty', 'Ongoing', 'Ongoing', 'PrepareCommit', 'CompleteCommit']);
      // A retried EndTxn of the same result is answered as done; the other result is refused.
      assert.equal(await h.coordinator.endTxn('c', producerId, producerEpoch, true), ErrorCode.NONE);
      assert.equal(
        await h.coordinator.endTxn('c', producerId, producerEpoch, false),
        ErrorCode.INVALID_TXN_STATE,
      );
      // The next transaction starts from CompleteCommit; an empty one cannot end.
      assert.equal(await h.coordinator.endTxn('d', 1, 0, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
      await h.coordinator.initProducerId('d', 10_000, null);
      assert.equal(await h.coordinator.endTxn('d', 1001, 0, false), ErrorCode.INVALID_TXN_STATE);
    } finally {
      h.close();
    }
  });

  test('requests with a wrong producer id or epoch, or during the markers, are refused as Kafka does', async () => {
    const h = Harness.create();
    try {
      const { producerId, producerEpoch } = await h.coordinator.initProducerId('e', 10_000, null);
      assert.equal(
        await h.coordinator.addPartitions('nobody', producerId, 0, [t(0)]),
        ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      );
      assert.equal(
        await h.coordinator.addPartitions('e', producerId + 1, 0, [t(0)]),
        ErrorCode.INVALID_PRODUCER_ID_MAPPING,
      );
      assert.equal(
        await h.coordinator.addPartitions('e', producerId, producerEpoch + 1, [t(0)]),
        ErrorCode.PRODUCER_FENCED,
      );
      assert.equal(await h.coordinator.addPartitions('e', producerId, producerEpoch, [t(0)]), ErrorCode.NONE);
      h.writer.hold();
      assert.equal(await h.coordinator.endTxn('e', producerId, producerEpoch, false), ErrorCode.NONE);
      // While its markers are written the transaction is PrepareAbort with CompleteAbort pending.
      assert.equal(h.describe('e').state, 'PrepareAbort');
      assert.equal(
        await h.coordinator.addPartitions('e', producerId, producerEpoch, [t(1)]),
        ErrorCode.CONCURRENT_TRANSACTIONS,
      );
      assert.equal(
        await h.coordinator.endTxn('e', producerId, producerEpoch, false),
        ErrorCode.CONCURRENT_TRANSACTIONS,
      );
      assert.equal(
        (await h.coordinator.initProducerId('e', 10_000, null)).errorCode,
        ErrorCode.CONCURRENT_TRANSACTIONS,
      );
      h.writer.release();
      await h.waitForState('e', 'CompleteAbort');
      assert.equal(h.writer.written[0].committed, false);
    } finally {
      h.close();
    }
  });

  test('a new producer instance fences the old one: its transaction is aborted under a bumped epoch', async () => {
    const h = Harness.create();
    try {
      const old = await h.coordinator.initProducerId('f', 10_000, null);
      assert.equal(
        await h.coordinator.addPartitions('f', old.producerId, old.producerEpoch, [t(3)]),
        ErrorCode.NONE,
      );
      const fencing = await h.coordinator.initProducerId('f', 10_000, null);
      assert.equal(fencing.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
      await h.waitForState('f', 'CompleteAbort');
      assert.deepEqual(
        h.writer.written.map((m) => [m.committed, m.producerEpoch]),
        [[false, old.producerEpoch + 1]],
      );
      const retried = await h.coordinator.initProducerId('f', 10_000, null);
      assert.deepEqual(retried, {
        errorCode: ErrorCode.NONE,
        producerId: old.producerId,
        producerEpoch: old.producerEpoch + 2,
      });
      // The zombie can do nothing more.
      assert.equal(
        await h.coordinator.endTxn('f', old.producerId, old.producerEpoch, true),
        ErrorCode.PRODUCER_FENCED,
      );
      assert.equal(
        await h.coordinator.addPartitions('f', old.producerId, old.producerEpoch, [t(0)]),
        ErrorCode.PRODUCER_FENCED,
      );
      assert.deepEqual(h.logged('f'), ['Empty', 'Ongoing', 'PrepareAbort', 'CompleteAbort', 'Empty']);
    } finally {
      h.close();
    }
  });

  test('KIP-360: a producer resuming with its id and epoch gets a bump; a fenced epoch is PRODUCER_FENCED', async () => {
    const h = Harness.create();
    try {
      const first = await h.coordinator.initProducerId('g', 10_000, null);
      const resumed = await h.coordinator.initProducerId('g', 10_000, first);
      assert.deepEqual(resumed, {
        errorCode: ErrorCode.NONE,
        producerId: first.producerId,
        producerEpoch: 1,
      });
      // Its retry (the answer was lost) gets the same epoch again.
      assert.equal((await h.coordinator.initProducerId('g', 10_000, first)).producerEpoch, 1);
      await h.coordinator.initProducerId('g', 10_000, null);
      assert.equal(
        (await h.coordinator.initProducerId('g', 10_000, first)).errorCode,
        ErrorCode.PRODUCER_FENCED,
      );
      assert.equal(
        (await h.coordinator.initProducerId('g', 10_000, { producerId: 5, producerEpoch: 0 })).errorCode,
        ErrorCode.PRODUCER_FENCED,
      );
    } finally {
      h.close();
    }
  });

  test('a producer id whose epochs are exhausted is replaced by a new one at epoch 0', async () => {
    const h = Harness.create();
    const partition = transactionPartitionFor('h', CONFIG.stateLogNumPartitions);
    const value = encodeTransactionLogValue({
      producerId: 500,
      producerEpoch: 32766,
      transactionTimeoutMs: 1000,
      state: 'CompleteCommit',
      topicPartitions: [],
      lastUpdateTimestamp: Date.now(),
      startTimestamp: 1,
    });
    h.logs
      .partition(TRANSACTION_STATE_TOPIC, partition)!
      .append(encodeRecordBatch({ records: [{ key: encodeTransactionLogKey('h'), value }] }), 0);
    const r = h.reopen();
    try {
      const init = await r.coordinator.initProducerId('h', 10_000, null);
      assert.equal(init.errorCode, ErrorCode.NONE);
      assert.notEqual(init.producerId, 500);
      assert.equal(init.producerEpoch, 0);
    } finally {
      r.close();
    }
  });

  test('a transaction past its timeout is aborted with a bumped epoch, fencing its producer', async () => {
    const h = Harness.create();
    try {
      const p = await h.coordinator.initProducerId('i', 100, null);
      assert.equal(
        await h.coordinator.addPartitions('i', p.producerId, p.producerEpoch, [t(0)]),
        ErrorCode.NONE,
      );
      await h.coordinator.abortTimedOutTransactions(Date.now());
      assert.equal(h.describe('i').state, 'Ongoing', 'not timed out yet');
      await h.coordinator.abortTimedOutTransactions(Date.now() + 200);
      await h.waitForState('i', 'CompleteAbort');
      assert.deepEqual(
        h.writer.written.map((m) => [m.committed, m.producerEpoch]),
        [[false, p.producerEpoch + 1]],
      );
      assert.equal(
        await h.coordinator.endTxn('i', p.producerId, p.producerEpoch, true),
        ErrorCode.PRODUCER_FENCED,
      );
    } finally {
      h.close();
    }
  });

  test('markers are retried until written; a partition of a deleted topic is skipped', async () => {
    const h = Harness.create();
    try {
      h.logs.createTopic('gone', 1, {});
      const p = await h.coordinator.initProducerId('j', 10_000, null);
      await h.coordinator.addPartitions('j', p.producerId, p.producerEpoch, [
        t(0),
        { topic: 'gone', partition: 0 },
      ]);
      h.logs.deleteTopic('gone');
      let failures = 3;
      h.writer.answer = () => (failures-- > 0 ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE);
      assert.equal(await h.coordinator.endTxn('j', p.producerId, p.producerEpoch, true), ErrorCode.NONE);
      await h.waitForState('j', 'CompleteCommit');
      assert.deepEqual(
        h.writer.written.map((m) => m.partitions),
        [[t(0)]],
      );
    } finally {
      h.close();
    }
  });

  test('a restarted coordinator loads its transactions and completes one whose markers were in flight', async () => {
    const h = Harness.create();
    const p = await h.coordinator.initProducerId('k', 10_000, null);
    await h.coordinator.addPartitions('k', p.producerId, p.producerEpoch, [t(1)]);
    const q = await h.coordinator.initProducerId('l', 10_000, null);
    await h.coordinator.addPartitions('l', q.producerId, q.producerEpoch, [t(2)]);
    h.writer.answer = () => ErrorCode.NOT_ENOUGH_REPLICAS;
    assert.equal(await h.coordinator.endTxn('k', p.producerId, p.producerEpoch, true), ErrorCode.NONE);
    const r = h.reopen();
    try {
      await r.waitForState('k', 'CompleteCommit');
      assert.deepEqual(
        r.writer.written.map((m) => [m.producerId, m.committed, m.partitions]),
        [[p.producerId, true, [t(1)]]],
      );
      // The other transaction is still open, with its partitions, and can be committed.
      assert.deepEqual([r.describe('l').state, r.describe('l').topicPartitions], ['Ongoing', [t(2)]]);
      assert.equal(await r.coordinator.endTxn('l', q.producerId, q.producerEpoch, true), ErrorCode.NONE);
      await r.waitForState('l', 'CompleteCommit');
    } finally {
      r.close();
    }
  });

  test('transactional ids idle past transactional.id.expiration.ms are removed with a tombstone', async () => {
    const h = Harness.create({ transactionalIdExpirationMs: 1000 });
    const p = await h.coordinator.initProducerId('m', 10_000, null);
    await h.coordinator.addPartitions('m', p.producerId, p.producerEpoch, [t(0)]);
    await h.coordinator.initProducerId('n', 10_000, null);
    await h.coordinator.removeExpiredTransactionalIds(Date.now() + 2000);
    // An open transaction keeps its id.
    assert.equal(h.describe('m').state, 'Ongoing');
    assert.equal(h.describe('n').errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    assert.deepEqual(h.logged('n'), ['Empty', null]);
    const r = h.reopen();
    try {
      assert.equal(r.describe('n').errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      assert.equal(r.describe('m').state, 'Ongoing');
    } finally {
      r.close();
    }
  });

  test('ListTransactions filters by state, producer id and age; unknown states are named', async () => {
    const h = Harness.create();
    try {
      const o = await h.coordinator.initProducerId('o', 10_000, null);
      await h.coordinator.addPartitions('o', o.producerId, o.producerEpoch, [t(0)]);
      const q = await h.coordinator.initProducerId('q', 10_000, null);
      const ids = (r: ReturnType<TransactionCoordinator['listTransactions']>) =>
        r.transactions.map((x) => `${x.transactionalId}:${x.state}`).sort();
      assert.deepEqual(ids(h.coordinator.listTransactions([], [], -1)), ['o:Ongoing', 'q:Empty']);
      assert.deepEqual(ids(h.coordinator.listTransactions([], ['Ongoing'], -1)), ['o:Ongoing']);
      assert.deepEqual(ids(h.coordinator.listTransactions([q.producerId], [], -1)), ['q:Empty']);
      const unknown = h.coordinator.listTransactions([], ['Bogus'], -1);
      assert.deepEqual([ids(unknown), unknown.unknownStateFilters], [[], ['Bogus']]);
      // A duration filter lists a transaction once it has run longer than that.
      const deadline = Date.now() + 5000;
      while (ids(h.coordinator.listTransactions([], ['Ongoing'], 10)).length === 0) {
        if (Date.now() > deadline) assert.fail('o never ran longer than 10 ms');
        await sleep(5);
      }
      assert.deepEqual(ids(h.coordinator.listTransactions([], ['Ongoing'], 10)), ['o:Ongoing']);
      assert.deepEqual(ids(h.coordinator.listTransactions([], ['Ongoing'], 60_000)), []);
    } finally {
      h.close();
    }
  });

  test("KIP-890's verifier asks the local coordinator, and answers COORDINATOR_NOT_AVAILABLE without one", async () => {
    const h = Harness.create();
    try {
      const p = await h.coordinator.initProducerId('w', 10_000, null);
      await h.coordinator.addPartitions('w', p.producerId, p.producerEpoch, [t(1)]);
      const deps = {
        localId: 1,
        cluster: h.cluster,
        coordinator: h.coordinator,
        channel: null,
        logger: quiet,
      };
      const request = { transactionalId: 'w', ...p, partitions: [t(1), t(2)] };
      assert.deepEqual(await transactionVerifier(deps)(request), [
        { ...t(1), errorCode: ErrorCode.NONE },
        { ...t(2), errorCode: ErrorCode.INVALID_TXN_STATE },
      ]);
      // The coordinator is another broker, and there is no channel to it.
      const elsewhere = { ...deps, localId: 2 };
      assert.deepEqual(
        (await transactionVerifier(elsewhere)(request)).map((r) => r.errorCode),
        [ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_NOT_AVAILABLE],
      );
    } finally {
      h.close();
    }
  });

  test('verifyOnly (KIP-890): a partition not in the transaction is INVALID_TXN_STATE', async () => {
    const h = Harness.create();
    try {
      const p = await h.coordinator.initProducerId('v', 10_000, null);
      await h.coordinator.addPartitions('v', p.producerId, p.producerEpoch, [t(0)]);
      assert.deepEqual(
        [...h.coordinator.verifyPartitions('v', p.producerId, p.producerEpoch, [t(0), t(1)]).values()],
        [ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE],
      );
      assert.deepEqual(
        [...h.coordinator.verifyPartitions('v', p.producerId, p.producerEpoch - 1, [t(0)]).values()],
        [ErrorCode.PRODUCER_FENCED],
      );
    } finally {
      h.close();
    }
  });
});
