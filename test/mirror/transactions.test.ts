import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import { ListOffsets } from '@tributary/protocol';
import { Mirror, parseMirrorConfig, parseOrigin, ORIGIN_HEADER } from '@tributary/mirror';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';
import {
  readPartition,
  startMirrorWorker,
  until,
  writeMirrorConfig,
  type MirrorWorker,
} from '../support/mirror-process';
import { startRedis, type RedisProcess } from '../support/redis-process';

const quiet = {
  log: () => undefined,
  warn: (m: string) => (process.env.MIRROR_DEBUG ? console.error(m) : undefined),
  error: (m: string) => console.error(m),
};

interface ProducerReport {
  committed: string[];
  aborted: string[];
  errors: string[];
}

async function python<T>(script: string, args: string[], timeoutMs = 90_000): Promise<T> {
  const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, script), ...args], { timeoutMs });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `${script}: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(line) as T;
}

/** A topic's values as a read_committed confluent-kafka consumer reads them, partition by partition. */
async function readCommitted(bootstrap: string, topic: string): Promise<string[]> {
  const r = await python<{ values: string[]; errors: string[] }>('read_isolated.py', [
    bootstrap,
    topic,
    'read_committed',
  ]);
  assert.deepEqual(r.errors, []);
  return r.values;
}

/** The same with kcat (librdkafka's own consumer), one partition. */
async function kcatCommitted(bootstrap: string, topic: string, partition: number): Promise<string[]> {
  const records = await readPartition(bootstrap, topic, partition, ['-X', 'isolation.level=read_committed']);
  return records.map((r) => r.value ?? '');
}

async function ends(bootstrap: string, topic: string, partitions: number): Promise<number[]> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const offsets = await admin.listOffsets(
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
      'latest',
    );
    return offsets.map((o) => o.offset);
  } catch {
    return [];
  } finally {
    await admin.close();
  }
}

/** The open_transaction.py processes, killed after the tests whatever happened. */
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Each partition's last stable offset (ListOffsets read_committed), from a one-broker cluster. */
async function lastStable(broker: BrokerProcess, topic: string, partitions: number): Promise<number[]> {
  const conn = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
  try {
    const r = await conn.request(ListOffsets, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
            partitionIndex,
            currentLeaderEpoch: -1,
            timestamp: -1,
            maxNumOffsets: 1,
          })),
        },
      ],
    });
    return r.topics[0].partitions.map((p) => p.offset);
  } finally {
    conn.close();
  }
}

/** A transaction held open by a confluent-kafka producer until the test ends it. */
function openTransaction(
  bootstrap: string,
  topic: string,
  id: string,
  count: number,
): Promise<{ values: string[]; end: (how: 'commit' | 'abort') => Promise<void> }> {
  const child = spawn(
    PYTHON,
    [path.join(PYTHON_DIR, 'open_transaction.py'), bootstrap, topic, id, String(count)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`open_transaction.py did not open: ${out}`)), 30_000);
    child.stdout.on('data', () => {
      const line = out.split('\n').find((l) => l.startsWith('{"open"'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve({
        values: (JSON.parse(line) as { open: string[] }).open,
        async end(how) {
          child.stdin.end(`${how}\n`);
          const code = await exited;
          assert.equal(code, 0, `open_transaction.py: ${out}`);
        },
      });
    });
    void exited.then((code) => reject(new Error(`open_transaction.py exited with ${code}: ${out}`)));
  });
}

/**
 * preserve mode: batches travel as stored, control batches and aborted records included, so
 * the mirror's partitions learn the transactions from them: a read_committed reader of the
 * mirror sees exactly what one of the source sees, and the mirror's last stable offset
 * follows the source's (an open transaction hides its records downstream too).
 */
describe('mirror: a transactional source in preserve mode', { timeout: 180_000 }, () => {
  let redis: RedisProcess;
  let src: BrokerProcess;
  let dst: BrokerProcess;
  let mirror: Mirror;

  before(async () => {
    redis = await startRedis();
    src = await startBroker();
    dst = await startBroker();
    const admin = new Admin({ bootstrapServers: src.bootstrap });
    await admin.createTopics([{ name: 'ledger', numPartitions: 2 }]);
    await admin.close();
    const config = parseMirrorConfig(
      {
        namespace: 'txn-preserve',
        clusters: {
          src: { 'bootstrap.servers': src.bootstrap },
          dst: { 'bootstrap.servers': dst.bootstrap },
        },
        flows: [
          {
            source: 'src',
            target: 'dst',
            topics: 'ledger',
            offsets: 'preserve',
            'refresh.topics.interval.seconds': 1,
            'emit.heartbeats.enabled': false,
          },
        ],
      },
      'txn-preserve-test',
    );
    mirror = new Mirror(config, { url: redis.url }, quiet);
    await mirror.start();
  });

  after(async () => {
    await mirror?.stop();
    await src?.stop();
    await dst?.stop();
    await redis?.stop();
  });

  test('committed, aborted and open transactions read the same on both sides; promote waits for the open one', async () => {
    // Two producers whose commits and aborts interleave on both partitions.
    const steps = (n: number) =>
      Array.from({ length: n }, (_, i) => (i % 3 === 1 ? 'abort:20' : 'commit:30'));
    const [a, b] = await Promise.all([
      python<ProducerReport>('transactional_producer.py', [src.bootstrap, 'ledger', 'txn-a', ...steps(9)]),
      python<ProducerReport>('transactional_producer.py', [src.bootstrap, 'ledger', 'txn-b', ...steps(9)]),
    ]);
    assert.deepEqual([...a.errors, ...b.errors], []);
    // A transaction left open, then committed records of another producer after it.
    const open = await openTransaction(src.bootstrap, 'ledger', 'txn-open', 10);
    const later = await python<ProducerReport>('transactional_producer.py', [
      src.bootstrap,
      'ledger',
      'txn-later',
      'commit:10',
    ]);
    assert.deepEqual(later.errors, []);

    // The mirror does not stall on the open transaction: every batch after it is copied too.
    const sourceEnds = await ends(src.bootstrap, 'ledger', 2);
    await until(
      'dst/src.ledger has every batch of src/ledger',
      async () => JSON.stringify(await ends(dst.bootstrap, 'src.ledger', 2)) === JSON.stringify(sourceEnds),
      60_000,
      250,
    );
    // The mirror's last stable offsets are the source's: held at the open transaction's first offset.
    const sourceStable = await lastStable(src, 'ledger', 2);
    assert.deepEqual(await lastStable(dst, 'src.ledger', 2), sourceStable);
    assert.ok(
      sourceStable.some((o, p) => o < sourceEnds[p]),
      `an open transaction holds the LSO below the end: ${sourceStable} / ${sourceEnds}`,
    );
    const committed = new Set([...a.committed, ...b.committed]);
    const seenAtSource = await readCommitted(src.bootstrap, 'ledger');
    const seenAtMirror = await readCommitted(dst.bootstrap, 'src.ledger');
    assert.deepEqual(seenAtMirror, seenAtSource, 'confluent-kafka read_committed: the same on both sides');
    assert.deepEqual(new Set(seenAtMirror), committed, 'below the open transaction: every committed record');
    assert.ok(
      !seenAtMirror.some((v) => v.startsWith('txn-open') || v.startsWith('txn-later')),
      'nothing past the LSO',
    );
    for (const p of [0, 1])
      assert.deepEqual(
        await kcatCommitted(dst.bootstrap, 'src.ledger', p),
        await kcatCommitted(src.bootstrap, 'ledger', p),
      );
    const everything = ['-X', 'isolation.level=read_uncommitted'];
    const uncommitted = (await readPartition(dst.bootstrap, 'src.ledger', 0, everything)).concat(
      await readPartition(dst.bootstrap, 'src.ledger', 1, everything),
    );
    assert.ok(
      uncommitted.some((r) => (r.value ?? '').startsWith('txn-a') && a.aborted.includes(r.value ?? '')),
      'the aborted records are in the mirror at their offsets (read_uncommitted sees them)',
    );

    // Promote refuses while the transaction is open, naming where it starts.
    await assert.rejects(
      mirror.control.promote('src->dst', { timeoutMs: 1500 }),
      /open transactions .*partition \d from offset \d+/,
    );
    await open.end('commit');
    await until(
      'the open transaction’s records readable on the mirror',
      async () => (await readCommitted(dst.bootstrap, 'src.ledger')).length === committed.size + 20,
      30_000,
      500,
    );
    assert.deepEqual(
      await readCommitted(dst.bootstrap, 'src.ledger'),
      await readCommitted(src.bootstrap, 'ledger'),
    );
    const endsAfter = await ends(src.bootstrap, 'ledger', 2);
    assert.deepEqual(await lastStable(src, 'ledger', 2), endsAfter, 'no transaction open at the source');
    assert.deepEqual(await lastStable(dst, 'src.ledger', 2), endsAfter, 'nor on the mirror');
    const report = await mirror.control.promote('src->dst', { timeoutMs: 30_000 });
    assert.equal(report.topics[0]?.mode, 'preserve');
    assert.deepEqual(
      report.topics[0]?.partitions.map((p) => p.behind),
      [0, 0],
    );
  });
});

/**
 * Failover with preserved offsets while a source transaction is open: its marker will never
 * come, so the promoted topic aborts it (else its last stable offset would stay stuck).
 */
describe('mirror: failover with a transaction left open at the lost source', { timeout: 120_000 }, () => {
  let redis: RedisProcess;
  let src: BrokerProcess;
  let dst: BrokerProcess;
  let mirror: Mirror;

  before(async () => {
    redis = await startRedis();
    src = await startBroker();
    dst = await startBroker();
    const admin = new Admin({ bootstrapServers: src.bootstrap });
    await admin.createTopics([{ name: 'ledger', numPartitions: 1 }]);
    await admin.close();
    const config = parseMirrorConfig(
      {
        namespace: 'txn-failover',
        clusters: {
          src: { 'bootstrap.servers': src.bootstrap },
          dst: { 'bootstrap.servers': dst.bootstrap },
        },
        flows: [
          {
            source: 'src',
            target: 'dst',
            topics: 'ledger',
            offsets: 'preserve',
            'refresh.topics.interval.seconds': 1,
            'emit.heartbeats.enabled': false,
          },
        ],
      },
      'txn-failover-test',
    );
    mirror = new Mirror(config, { url: redis.url }, quiet);
    await mirror.start();
  });

  after(async () => {
    await mirror?.stop();
    await src?.stop();
    await dst?.stop();
    await redis?.stop();
  });

  test('the open transaction is aborted on the promoted topic, whose LSO reaches its end', async () => {
    const done = await python<ProducerReport>('transactional_producer.py', [
      src.bootstrap,
      'ledger',
      'fo-a',
      'commit:20',
      'abort:5',
      'commit:10',
    ]);
    assert.deepEqual(done.errors, []);
    await openTransaction(src.bootstrap, 'ledger', 'fo-open', 7);
    const sourceEnds = await ends(src.bootstrap, 'ledger', 1);
    await until(
      'the open transaction copied',
      async () => JSON.stringify(await ends(dst.bootstrap, 'src.ledger', 1)) === JSON.stringify(sourceEnds),
      60_000,
      250,
    );
    const [stuck] = await lastStable(dst, 'src.ledger', 1);
    assert.ok(stuck < sourceEnds[0], 'the mirror holds the open transaction below its LSO');
    await src.stop();
    const report = await mirror.control.failover('src->dst');
    const aborted = report.topics[0]?.abortedTransactions ?? [];
    assert.equal(aborted.length, 1, JSON.stringify(report.topics[0]));
    assert.equal(aborted[0].firstOffset, stuck, 'the open transaction started at the LSO');
    const [end] = await ends(dst.bootstrap, 'src.ledger', 1);
    assert.deepEqual(await lastStable(dst, 'src.ledger', 1), [end], 'the LSO reached the end');
    assert.deepEqual(await readCommitted(dst.bootstrap, 'src.ledger'), done.committed);
    assert.deepEqual(await kcatCommitted(dst.bootstrap, 'src.ledger', 0), done.committed);
  });
});

/**
 * translate mode: the replicator reads read_committed and writes each chunk in a transaction
 * of its unit, with the unit's next source offset committed in the same transaction: a worker
 * killed with kill -9 mid-copy leaves every committed source record in the target once.
 */
describe(
  'mirror: a transactional source in translate mode, a worker kill -9ed mid-copy',
  { timeout: 180_000 },
  () => {
    let redis: RedisProcess;
    let src: BrokerProcess;
    let dst: BrokerProcess;
    const workers: MirrorWorker[] = [];

    before(async () => {
      redis = await startRedis();
      src = await startBroker();
      dst = await startBroker();
      const admin = new Admin({ bootstrapServers: src.bootstrap });
      await admin.createTopics([{ name: 'payments', numPartitions: 2 }]);
      await admin.close();
      const config = writeMirrorConfig({
        redis: redis.url,
        namespace: 'txn-translate',
        clusters: {
          src: { 'bootstrap.servers': src.bootstrap },
          dst: { 'bootstrap.servers': dst.bootstrap },
        },
        flows: [
          {
            source: 'src',
            target: 'dst',
            topics: 'payments',
            'replication.policy': 'identity',
            offsets: 'translate',
            'refresh.topics.interval.seconds': 1,
            'emit.heartbeats.enabled': false,
          },
        ],
        worker: { 'unit.slice.ms': 2000, 'lock.duration.ms': 2000 },
      });
      workers.push(await startMirrorWorker(config), await startMirrorWorker(config));
    });

    after(async () => {
      for (const w of workers) await w.stop();
      await src?.stop();
      await dst?.stop();
      await redis?.stop();
    });

    test('every committed source record is in the target exactly once, no aborted one', async () => {
      const steps = Array.from({ length: 60 }, (_, i) => (i % 4 === 3 ? 'abort:40' : 'commit:100'));
      const producing = Promise.all([
        python<ProducerReport>('transactional_producer.py', [src.bootstrap, 'payments', 'pay-a', ...steps]),
        python<ProducerReport>('transactional_producer.py', [src.bootstrap, 'payments', 'pay-b', ...steps]),
      ]);
      await until(
        'the mirror is copying',
        async () => (await ends(dst.bootstrap, 'payments', 2)).reduce((n, e) => n + e, 0) > 1500,
        60_000,
        50,
      );
      await workers[0].kill9();
      await until(
        'the survivor took the dead worker’s units over',
        () => /took over/.test(workers[1].output()),
        30_000,
      );
      const [a, b] = await producing;
      assert.deepEqual([...a.errors, ...b.errors], []);
      const committed = [...a.committed, ...b.committed];
      assert.equal(committed.length, 2 * 45 * 100);

      const sourceValues = await readCommitted(src.bootstrap, 'payments');
      assert.equal(sourceValues.length, committed.length);
      await until(
        'the survivor copied every committed record',
        async () => (await readCommitted(dst.bootstrap, 'payments')).length >= committed.length,
        60_000,
        1000,
      );
      const targetValues = await readCommitted(dst.bootstrap, 'payments');
      const counts = new Map<string, number>();
      for (const v of targetValues) counts.set(v, (counts.get(v) ?? 0) + 1);
      const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
      const missing = committed.filter((v) => !counts.has(v));
      const aborted = new Set([...a.aborted, ...b.aborted]);
      assert.deepEqual(twice, [], 'no record twice');
      assert.deepEqual(missing, [], 'no committed record missing');
      assert.equal(targetValues.filter((v) => aborted.has(v)).length, 0, 'no aborted record');
      assert.equal(targetValues.length, committed.length);
      // kcat read_committed agrees, and each target partition holds its source partition in order.
      for (const p of [0, 1]) {
        const source = (
          await readPartition(src.bootstrap, 'payments', p, ['-X', 'isolation.level=read_committed'])
        ).map((r) => r.offset);
        const target = (
          await readPartition(dst.bootstrap, 'payments', p, ['-X', 'isolation.level=read_committed'])
        ).map((r) => {
          const i = r.headers.lastIndexOf(ORIGIN_HEADER);
          return parseOrigin(i < 0 ? null : Buffer.from(r.headers[i + 1]))?.offset;
        });
        assert.deepEqual(target, source, `partition ${p}: each committed source record once, in order`);
      }
      // The units' positions are committed on the target with the records.
      const admin = new Admin({ bootstrapServers: dst.bootstrap });
      const positions = await admin.fetchOffsets('tributary-mirror:src->dst');
      await admin.close();
      assert.deepEqual(
        positions.map((o) => o.partition).sort(),
        [0, 1],
        `the flow's group holds both units' positions: ${JSON.stringify(positions)}`,
      );
    });
  },
);
