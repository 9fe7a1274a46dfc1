import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import { DescribeTransactions, ErrorCode } from '@tributary/protocol';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';
import { until } from '../support/mirror-process';
import { exactlyOnce, produceInput, readIsolated, TransformProcess } from '../support/transform-process';

/** Runs one of the transaction scripts and parses the JSON report on its last line. */
async function python<T>(script: string, args: string[], timeoutMs = 90_000): Promise<T> {
  const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, script), ...args], { timeoutMs });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `${script}: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(line) as T;
}

interface ProducerReport {
  committed: string[];
  aborted: string[];
  errors: string[];
}

interface ErrorReport {
  name: string;
  fatal: boolean;
  abortable: boolean;
}

/**
 * Transactions with confluent-kafka (librdkafka 2.0.2) against a broker process: committed
 * records are read by read_committed consumers and aborted ones never; a zombie producer is
 * fenced; a transaction past its timeout is aborted; consume-transform-produce with
 * send_offsets_to_transaction stays exactly-once across kill -9 of the producer.
 */
describe('transactions with confluent-kafka', { timeout: 300_000 }, () => {
  let broker: BrokerProcess;
  let admin: Admin;

  before(async () => {
    broker = await startBroker({
      extraArgs: [
        '--set',
        'transaction.state.log.num.partitions=5',
        '--set',
        'offsets.topic.num.partitions=5',
        '--set',
        'group.initial.rebalance.delay.ms=0',
        '--set',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms=200',
      ],
    });
    admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics(
      ['committed', 'interleaved', 'zombies', 'timeouts', 'eos-in', 'eos-out'].map((name) => ({
        name,
        numPartitions: 3,
      })),
    );
  });

  after(async () => {
    await admin?.close();
    assert.equal(await broker.stop(), 0);
  });

  test('committed transactions are read by read_committed consumers, aborted ones never', async () => {
    const report = await python<ProducerReport>('transactional_producer.py', [
      broker.bootstrap,
      'committed',
      'committer',
      'commit:20',
      'abort:15',
      'commit:5',
      'abort:3',
    ]);
    assert.deepEqual(report.errors, []);
    assert.equal(report.committed.length, 25);
    const committed = await readIsolated(broker.bootstrap, 'committed', 'read_committed');
    assert.deepEqual([...committed].sort(), [...report.committed].sort());
    // read_uncommitted sees the aborted records too: they were written.
    const all = await readIsolated(broker.bootstrap, 'committed', 'read_uncommitted');
    assert.deepEqual([...all].sort(), [...report.committed, ...report.aborted].sort());
  });

  test('interleaved transactions of two producers on the same partitions', async () => {
    const steps = ['commit:30', 'abort:30', 'commit:30', 'abort:30', 'commit:30'];
    const [a, b] = await Promise.all(
      ['left', 'right'].map((id) =>
        python<ProducerReport>('transactional_producer.py', [broker.bootstrap, 'interleaved', id, ...steps]),
      ),
    );
    assert.deepEqual([...a.errors, ...b.errors], []);
    const committed = await readIsolated(broker.bootstrap, 'interleaved', 'read_committed');
    assert.deepEqual([...committed].sort(), [...a.committed, ...b.committed].sort());
  });

  test('a zombie producer is fenced by a new instance with its transactional.id', async () => {
    const report = await python<{ zombie: ErrorReport | string }>('fenced_zombie.py', [
      broker.bootstrap,
      'zombies',
      'zombie-id',
    ]);
    assert.equal(typeof report.zombie, 'object', JSON.stringify(report));
    assert.deepEqual(report.zombie, { name: '_FENCED', fatal: true, abortable: false });
    assert.deepEqual(await readIsolated(broker.bootstrap, 'zombies', 'read_committed'), ['fresh-1']);
  });

  test('a transaction left open past transaction.timeout.ms is aborted by the coordinator', async () => {
    const report = await python<{ commit: ErrorReport | string }>('timed_out_transaction.py', [
      broker.bootstrap,
      'timeouts',
      'sleepy',
      '1500',
      '4',
    ]);
    assert.notEqual(report.commit, 'committed', 'the timed out transaction cannot commit');
    assert.deepEqual(await readIsolated(broker.bootstrap, 'timeouts', 'read_committed'), []);
    assert.deepEqual(
      (await readIsolated(broker.bootstrap, 'timeouts', 'read_uncommitted')).filter((v) => v === 'late-1'),
      ['late-1'],
    );
    const conn = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
    try {
      const d = await conn.request(DescribeTransactions, { transactionalIds: ['sleepy'] });
      assert.equal(d.transactionStates[0].errorCode, ErrorCode.NONE);
      assert.notEqual(d.transactionStates[0].transactionState, 'Ongoing');
    } finally {
      conn.close();
    }
  });

  test('consume-transform-produce is exactly-once across kill -9 of the transforming process', async () => {
    const count = 3000;
    await produceInput(broker.bootstrap, 'eos-in', count);
    const processes: TransformProcess[] = [];
    try {
      // Killed twice after some commits, then left to finish.
      for (const killAfter of [600, 1500, Infinity]) {
        const p = new TransformProcess(broker.bootstrap, 'eos-in', 'eos-out', 'eos-group', 'eos-transform');
        processes.push(p);
        if (killAfter === Infinity) {
          assert.equal(await p.exited, 0, p.diagnostics());
          assert.ok(p.done, p.diagnostics());
        } else {
          await until(`${killAfter} committed`, () => p.committed >= killAfter || !p.running, 60_000, 20);
          assert.ok(p.running, p.diagnostics());
          await p.kill9();
        }
      }
    } finally {
      for (const p of processes) if (p.running) await p.kill9();
    }
    const output = await readIsolated(broker.bootstrap, 'eos-out', 'read_committed');
    assert.deepEqual(exactlyOnce(count, output), { missing: [], duplicated: [] });
    assert.equal(output.length, count);
  });
});
