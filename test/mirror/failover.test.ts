import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import { ErrorCode } from '@tributary/protocol';
import {
  MAIN,
  PYTHON,
  PYTHON_DIR,
  ROOT,
  runAsync,
  startBroker,
  type BrokerProcess,
} from '../support/broker-process';
import { refusedWith } from '../support/kafka-errors';
import {
  readPartition,
  startMirrorWorker,
  until,
  writeMirrorConfig,
  type MirrorWorker,
  type StoredRecord,
} from '../support/mirror-process';
import { startRedis, type RedisProcess } from '../support/redis-process';
import { apiClient, startConsoleProcess, type ConsoleProcess } from '../console/console-support';

const PARTITIONS = 3;

/** A process printing one line per event; `lines` fills as it prints. */
class Script {
  readonly lines: string[] = [];
  private stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = spawn(PYTHON, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => this.lines.push(l));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Asks a group member to stop (it commits what it consumed and leaves) and waits for it. */
  async stop(): Promise<void> {
    this.child.stdin!.end('stop\n');
    const code = await this.exited;
    assert.equal(code, 0, this.stderr);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  get errors(): string {
    return this.stderr;
  }
}

/** confluent-kafka consumer group member (group_member.py): its consumed records and commits. */
function member(bootstrap: string, topic: string, group: string, name: string): Script {
  return new Script([path.join(PYTHON_DIR, 'group_member.py'), bootstrap, topic, group, name]);
}

function events(s: Script): { ev: string; p?: number; o?: number; offsets?: Record<string, number> }[] {
  return s.lines.map((l) => JSON.parse(l) as { ev: string });
}

async function readAll(bootstrap: string, topic: string): Promise<Map<number, StoredRecord[]>> {
  const out = new Map<number, StoredRecord[]>();
  for (let p = 0; p < PARTITIONS; p++) out.set(p, await readPartition(bootstrap, topic, p));
  return out;
}

interface Deployment {
  redis: RedisProcess;
  a: BrokerProcess;
  b: BrokerProcess;
  worker: MirrorWorker;
  console: ConsoleProcess;
  api: ReturnType<typeof apiClient>;
  cli: (...args: string[]) => ReturnType<typeof runAsync>;
  stop(): Promise<void>;
}

/** Two clusters, Redis, one worker and a console attached to it, as separate processes. */
async function deploy(
  namespace: string,
  topics: (string | { name: string; configs: Record<string, string> })[],
  flow: Record<string, unknown> = {},
): Promise<Deployment> {
  const redis = await startRedis();
  const a = await startBroker();
  const b = await startBroker();
  const admin = new Admin({ bootstrapServers: a.bootstrap });
  await admin.createTopics(
    topics.map((t) =>
      typeof t === 'string' ? { name: t, numPartitions: PARTITIONS } : { ...t, numPartitions: PARTITIONS },
    ),
  );
  await admin.close();
  const config = writeMirrorConfig({
    redis: redis.url,
    namespace,
    clusters: { a: { 'bootstrap.servers': a.bootstrap }, b: { 'bootstrap.servers': b.bootstrap } },
    flows: [
      {
        source: 'a',
        target: 'b',
        'refresh.topics.interval.seconds': 1,
        'emit.checkpoints.interval.seconds': 1,
        ...flow,
      },
    ],
    worker: { 'lock.duration.ms': 2000 },
    console: { port: 0 },
  });
  const worker = await startMirrorWorker(config);
  const consoleProcess = await startConsoleProcess(config);
  return {
    redis,
    a,
    b,
    worker,
    console: consoleProcess,
    api: apiClient(consoleProcess.url),
    cli: (...args: string[]) =>
      runAsync(process.execPath, [MAIN, 'mirror', ...args, '--console', consoleProcess.url], {
        timeoutMs: 120_000,
      }),
    async stop() {
      await consoleProcess.stop();
      await worker.stop();
      await a.stop();
      await b.stop();
      await redis.stop();
    },
  };
}

async function endOffsets(bootstrap: string, topic: string): Promise<number[]> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    const o = await admin.listOffsets(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
      'latest',
    );
    return o.map((x) => x.offset);
  } finally {
    await admin.close();
  }
}

const sum = (xs: number[]): number => xs.reduce((n, x) => n + x, 0);

describe('planned promotion with traffic running, then reverse and failback', { timeout: 400_000 }, () => {
  let d: Deployment;

  before(async () => {
    d = await deploy('promote', ['orders']);
  });

  after(async () => {
    await d?.stop();
  });

  test('promote: the producer is fenced and moves over, no record lost or duplicated, the group resumes exactly', async () => {
    const producer = new Script([
      path.join(PYTHON_DIR, 'failover_producer.py'),
      d.a.bootstrap,
      'orders',
      d.b.bootstrap,
      'a.orders',
      '3000',
      '250',
    ]);
    const consumer1 = member(d.a.bootstrap, 'orders', 'billing', 'on-a');
    await until(
      'the group consumes on the source',
      () => events(consumer1).filter((e) => e.ev === 'msg').length >= 300,
      60_000,
    );
    await consumer1.stop();
    const committed = new Map<number, number>();
    for (const e of events(consumer1))
      if (e.ev === 'commit')
        for (const [p, o] of Object.entries(e.offsets ?? {})) committed.set(Number(p), o);
    assert.ok(producer.lines.filter((l) => l.startsWith('ACK')).length > 0, 'the producer is running');

    const promoted = await d.cli('promote', 'a->b', '--groups', 'billing', '--json');
    assert.equal(promoted.status, 0, promoted.stderr + promoted.stdout);
    const report = JSON.parse(promoted.stdout);
    assert.equal(report.action, 'promote');
    assert.equal(report.topics[0].topic, 'orders');
    assert.equal(report.topics[0].sourceFenced, true);
    for (const p of report.topics[0].partitions) assert.equal(p.behind, 0, `orders-${p.partition} caught up`);
    assert.deepEqual(
      report.groups.map((g: { group: string; skipped: string | null }) => [g.group, g.skipped]),
      [['billing', null]],
    );

    assert.equal(await producer.exited, 0, producer.errors);
    const acked = producer.lines
      .filter((l) => l.startsWith('ACK'))
      .map((l) => l.split(' ').map(Number))
      .map(([, seq, cluster, partition, offset]) => ({ seq, cluster, partition, offset }));
    assert.ok(
      producer.lines.some((l) => l.startsWith('SWITCH')),
      'the producer was fenced and moved to b',
    );
    assert.deepEqual(
      acked.map((x) => x.seq),
      Array.from({ length: 3000 }, (_, i) => i),
    );
    assert.ok(acked.some((x) => x.cluster === 1) && acked.some((x) => x.cluster === 2));

    // kcat: every acknowledged record is in the promoted topic exactly once, where it was acknowledged.
    const stored = await readAll(d.b.bootstrap, 'a.orders');
    const where = new Map<string, string>();
    for (const [p, records] of stored)
      for (const r of records) {
        assert.ok(!where.has(r.value as string), `record ${r.value} appears twice`);
        where.set(r.value as string, `${p}@${r.offset}`);
      }
    assert.equal(where.size, 3000, '0 lost, 0 duplicated');
    for (const x of acked)
      assert.equal(where.get(String(x.seq)), `${x.partition}@${x.offset}`, `record ${x.seq}`);

    // The group moves over with its offsets and resumes exactly at its next record.
    const consumer2 = member(d.b.bootstrap, 'a.orders', 'billing', 'on-b');
    const total = sum(await endOffsets(d.b.bootstrap, 'a.orders'));
    const consumed1 = events(consumer1).filter((e) => e.ev === 'msg').length;
    await until(
      'the group reads the rest on the promoted topic',
      () => events(consumer2).filter((e) => e.ev === 'msg').length >= total - consumed1,
      60_000,
    );
    await consumer2.stop();
    const first = new Map<number, number>();
    for (const e of events(consumer2)) if (e.ev === 'msg' && !first.has(e.p!)) first.set(e.p!, e.o!);
    for (const [p, next] of committed)
      assert.equal(first.get(p) ?? next, next, `partition ${p} resumes at ${next}`);
    const seen = [...events(consumer1), ...events(consumer2)]
      .filter((e) => e.ev === 'msg')
      .map((e) => `${e.p}@${e.o}`);
    assert.equal(new Set(seen).size, seen.length, 'no record consumed twice');
    assert.equal(seen.length, 3000, 'every record consumed');

    // The source is read-only now; the promoted topic takes producers.
    const onA = await runAsync('kcat', ['-b', d.a.bootstrap, '-t', 'orders', '-P'], { input: 'late\n' });
    assert.notEqual(onA.status, 0, 'producing to the fenced source fails');
    const flow = await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}`);
    assert.deepEqual(
      flow.body.topicStates.map((t: { topic: string; state: string; kind: string }) => [
        t.topic,
        t.state,
        t.kind,
      ]),
      [['orders', 'promoted', 'promote']],
    );
  });

  test('reverse copies what was written to the promoted topic back with its offsets; failback restores the flow', async () => {
    const onB = new Producer({ bootstrapServers: d.b.bootstrap });
    await onB.send({
      topic: 'a.orders',
      messages: Array.from({ length: 90 }, (_, i) => ({ key: `r${i}`, value: `written-on-b-${i}` })),
    });
    await onB.close();
    const reversed = await d.cli('reverse', 'a->b', '--topics', 'orders', '--json');
    assert.equal(reversed.status, 0, reversed.stderr + reversed.stdout);
    assert.equal(JSON.parse(reversed.stdout).action, 'reverse');
    const bEnds = await endOffsets(d.b.bootstrap, 'a.orders');
    await until(
      'the source holds everything the promoted topic has',
      async () => {
        const aEnds = await endOffsets(d.a.bootstrap, 'orders');
        return aEnds.every((e, i) => e === bEnds[i]);
      },
      60_000,
    );
    const onA = await readAll(d.a.bootstrap, 'orders');
    const onBNow = await readAll(d.b.bootstrap, 'a.orders');
    for (let p = 0; p < PARTITIONS; p++)
      assert.deepEqual(
        onA.get(p)!.map((r) => [r.offset, r.value]),
        onBNow.get(p)!.map((r) => [r.offset, r.value]),
        `orders-${p} equals a.orders-${p}, offsets included`,
      );

    const failedBack = await d.cli('failback', 'a->b', '--json');
    assert.equal(failedBack.status, 0, failedBack.stderr + failedBack.stdout);
    // The source takes producers again, the target is the read-only mirror, and the flow copies forward.
    const producer = new Producer({ bootstrapServers: d.a.bootstrap });
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 60 }, (_, i) => ({ value: `after-${i}` })),
    });
    await producer.close();
    const expected = sum(await endOffsets(d.a.bootstrap, 'orders'));
    await until(
      'the flow mirrors forward again',
      async () => sum(await endOffsets(d.b.bootstrap, 'a.orders')) === expected,
      60_000,
    );
    const onBProducer = new Producer({ bootstrapServers: d.b.bootstrap, retries: 0 });
    await assert.rejects(
      onBProducer.send({ topic: 'a.orders', messages: [{ value: 'refused' }] }),
      refusedWith(ErrorCode.POLICY_VIOLATION),
    );
    await onBProducer.close();
    const values = [...(await readAll(d.b.bootstrap, 'a.orders')).values()].flat().map((r) => r.value);
    assert.equal(new Set(values).size, values.length, 'no record twice after the round trip');
  });
});

describe('unplanned failover after kill -9 of the source broker', { timeout: 300_000 }, () => {
  let d: Deployment;

  before(async () => {
    d = await deploy('failover', ['orders'], { 'sync.group.offsets.enabled': false });
  });

  after(async () => {
    await d?.stop();
  });

  test('the target becomes writable at once, groups get their checkpoints, and the report says what was behind', async () => {
    const producer = new Producer({ bootstrapServers: d.a.bootstrap });
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 600 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await until(
      'everything is copied',
      async () => sum(await endOffsets(d.b.bootstrap, 'a.orders')) === 600,
      60_000,
    );
    // Two groups commit on the source; their checkpoints reach the target.
    const source = new Admin({ bootstrapServers: d.a.bootstrap });
    for (const group of ['reports', 'audit'])
      await source.resetOffsets(group, [], {
        offsets: [0, 1, 2].map((partition) => ({ topic: 'orders', partition, offset: 100 + partition })),
      });
    await source.close();
    await until(
      'checkpoints of both groups are in the target',
      async () =>
        (await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}/checkpoints`)).body.items.length === 6,
      30_000,
    );
    const offsets = await d.cli('offsets', '--flow', 'a->b', '--group', 'reports', '--json');
    assert.equal(offsets.status, 0, offsets.stderr);
    assert.deepEqual(
      JSON.parse(offsets.stdout).partitions.map(
        (p: { partition: number; sourceCommitted: number; checkpoint: { offset: number } }) => [
          p.partition,
          p.sourceCommitted,
          p.checkpoint.offset,
        ],
      ),
      [
        [0, 100, 100],
        [1, 101, 101],
        [2, 102, 102],
      ],
    );

    // 50 records the flow never copies: paused, then the source dies.
    await d.cli('pause', 'a->b');
    await until(
      'every unit has stopped copying',
      async () =>
        (await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}`)).body.partitions.every(
          (p: { state: string }) => p.state === 'paused',
        ),
      10_000,
    );
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `late${i}`, value: `late${i}` })),
    });
    await producer.close();
    await until(
      'the flow knows the 50 records it has not copied',
      async () =>
        (await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}`)).body.partitions
          .filter((p: { sourceTopic: string }) => p.sourceTopic === 'orders')
          .reduce((n: number, p: { lagRecords: number }) => n + p.lagRecords, 0) === 50,
      15_000,
    );
    await d.a.kill9();

    const started = Date.now();
    const failedOver = await d.cli('failover', 'a->b', '--groups', 'reports', '--json');
    assert.equal(failedOver.status, 0, failedOver.stderr + failedOver.stdout);
    const report = JSON.parse(failedOver.stdout);
    assert.ok(Date.now() - started < 15_000, 'failover does not wait on the dead source');
    const t = report.topics[0];
    assert.equal(t.targetTopic, 'a.orders');
    assert.equal(
      t.partitions.reduce((n: number, p: { behind: number }) => n + p.behind, 0),
      50,
      'the report says the target was 50 records behind',
    );
    assert.deepEqual(
      report.groups.map((g: { group: string; offsets: { offset: number }[] }) => [
        g.group,
        g.offsets.map((o) => o.offset).sort(),
      ]),
      [['reports', [100, 101, 102]]],
    );
    // Writable at once, with a standard client.
    const written = await runAsync('kcat', ['-b', d.b.bootstrap, '-t', 'a.orders', '-p', '0', '-P'], {
      input: 'after-failover\n',
    });
    assert.equal(written.status, 0, written.stderr);
    // A group that was not failed over moves to its checkpoint with reset-offsets --from-checkpoints.
    const reset = await runAsync(
      process.execPath,
      [
        MAIN,
        'groups',
        'reset-offsets',
        'audit',
        '--from-checkpoints',
        'a',
        '--execute',
        '--bootstrap-server',
        d.b.bootstrap,
        '--json',
      ],
      { timeoutMs: 30_000 },
    );
    assert.equal(reset.status, 0, reset.stderr);
    const admin = new Admin({ bootstrapServers: d.b.bootstrap });
    for (const group of ['reports', 'audit']) {
      const committed = await admin.fetchOffsets(group);
      assert.deepEqual(
        committed.map((o) => [o.topic, o.partition, o.offset]).sort(),
        [
          ['a.orders', 0, 100],
          ['a.orders', 1, 101],
          ['a.orders', 2, 102],
        ],
        group,
      );
    }
    await admin.close();
  });
});

describe('the flow respects what operators did to mirror topics', { timeout: 300_000 }, () => {
  let d: Deployment;

  before(async () => {
    // Small segments on the source, synced to the mirror: a mirror write must fit them.
    d = await deploy('respect', ['events', 'logs', { name: 'big', configs: { 'segment.bytes': '65536' } }]);
  });

  after(async () => {
    await d?.stop();
  });

  test('a mirror whose tributary.mirror.of is removed by hand is never copied again', async () => {
    const producer = new Producer({ bootstrapServers: d.a.bootstrap });
    await producer.send({
      topic: 'events',
      messages: Array.from({ length: 200 }, (_, i) => ({ value: `e${i}` })),
    });
    await until(
      'events are mirrored',
      async () => sum(await endOffsets(d.b.bootstrap, 'a.events')) === 200,
      60_000,
    );
    const admin = new Admin({ bootstrapServers: d.b.bootstrap });
    await admin.alterConfigs({ type: 2, name: 'a.events' }, [{ name: 'tributary.mirror.of', op: 'delete' }]);
    await admin.close();
    await until(
      'the flow treats it as promoted',
      async () =>
        (await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}`)).body.topicStates.some(
          (t: { topic: string; kind: string }) => t.topic === 'events' && t.kind === 'manual',
        ),
      30_000,
    );
    await producer.send({
      topic: 'events',
      messages: Array.from({ length: 100 }, (_, i) => ({ value: `later${i}` })),
    });
    await producer.close();
    // The source moves on; the promoted topic keeps what it had, once.
    await until(
      'the units of the promoted topic report they stopped',
      async () =>
        (await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}`)).body.partitions
          .filter((p: { sourceTopic: string }) => p.sourceTopic === 'events')
          .every((p: { state: string }) => p.state === 'promoted'),
      30_000,
    );
    const values = [...(await readAll(d.b.bootstrap, 'a.events')).values()].flat().map((r) => r.value);
    assert.equal(values.length, 200, 'nothing was copied again or after');
    assert.equal(new Set(values).size, 200);
  });

  test('DeleteRecords on the source moves the mirror’s log start: deleted records never reappear', async () => {
    const producer = new Producer({ bootstrapServers: d.a.bootstrap });
    await producer.send({
      topic: 'logs',
      messages: Array.from({ length: 300 }, (_, i) => ({ value: `l${i}`, partition: i % PARTITIONS })),
    });
    await producer.close();
    await until(
      'logs are mirrored',
      async () => sum(await endOffsets(d.b.bootstrap, 'a.logs')) === 300,
      60_000,
    );
    const admin = new Admin({ bootstrapServers: d.a.bootstrap });
    await admin.deleteRecords([0, 1, 2].map((partition) => ({ topic: 'logs', partition, offset: 40 })));
    await admin.close();
    await until(
      'the mirror starts at 40 too, as kcat reads it from the beginning',
      async () => {
        for (let p = 0; p < PARTITIONS; p++) {
          const records = await readPartition(d.b.bootstrap, 'a.logs', p);
          if (records.length !== 60 || records[0].offset !== 40) return false;
        }
        return true;
      },
      30_000,
    );
  });

  test('writes are cut to fit the target; a batch it cannot take stops the partition with a clear error', async () => {
    const producer = new Producer({ bootstrapServers: d.a.bootstrap, lingerMs: 5, batchSize: 200_000 });
    const big = Buffer.alloc(1000, 'b');
    // Batches of 50 records of 1000 B: a 4 MiB fetch holds many, a 64 KiB segment few.
    for (let i = 0; i < 40; i++)
      await producer.send({
        topic: 'big',
        messages: Array.from({ length: 50 }, () => ({ value: big, partition: 0 })),
      });
    await until(
      'every record arrives in the small-segment mirror',
      async () => (await endOffsets(d.b.bootstrap, 'a.big'))[0] === 2000,
      60_000,
    );
    const target = new Admin({ bootstrapServers: d.b.bootstrap });
    const [segment] = await target.describeConfigs({ type: 2, name: 'a.big' }, ['segment.bytes']);
    assert.equal(segment.value, '65536', 'the mirror took the source’s segment.bytes');

    // A mirror that allows smaller batches than the source wrote: the partition stops, and says why.
    await target.alterConfigs({ type: 2, name: 'a.big' }, [{ name: 'max.message.bytes', value: '20000' }]);
    await producer.send({
      topic: 'big',
      messages: Array.from({ length: 50 }, () => ({ value: big, partition: 0 })),
    });
    await until(
      'the partition is in an error state naming the limit',
      async () => {
        const f = await d.api('GET', `/api/flows/${encodeURIComponent('a->b')}`);
        const p = f.body.partitions.find(
          (x: { sourceTopic: string; partition: number }) => x.sourceTopic === 'big' && x.partition === 0,
        );
        return (
          p?.state === 'error' &&
          p.error.offset === 2000 &&
          p.error.limit.name === 'max.message.bytes' &&
          p.error.limit.value === 20000 &&
          f.body.state === 'failing'
        );
      },
      30_000,
    );
    const described = await d.cli('describe', 'a->b');
    assert.match(
      described.stdout,
      /a\.big-0: the batch at offset 2000 is \d+ bytes, more than the target's max.message.bytes 20000/,
    );
    const metrics = await (await fetch(`${d.console.url}/metrics`)).text();
    assert.match(metrics, /tributary_mirror_partition_error\{[^}]*topic="big",partition="0"[^}]*\} 1/);
    await target.alterConfigs({ type: 2, name: 'a.big' }, [{ name: 'max.message.bytes', value: '1048588' }]);
    await until(
      'the partition goes on once the limit is raised',
      async () => (await endOffsets(d.b.bootstrap, 'a.big'))[0] === 2050,
      60_000,
    );
    await target.close();
    await producer.close();
  });
});
