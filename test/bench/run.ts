import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { Connection } from '@tributary/client';
import { CreateTopics, DeleteTopics, encodeRecordBatch, ErrorCode, Produce } from '@tributary/protocol';
import { runAsync, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { startCluster } from '../support/cluster-process';
import { makeCertificates } from '../support/tls-certs';
import { cpuMsPerMB, median, pairedRatio, withCpu, type Run } from './cpu';
import { failoverBench } from './failover-bench';
import { mirrorBench } from './mirror-bench';
import { transactionsBench } from './transactions-bench';

/**
 * npm run bench: a broker process driven by kcat (librdkafka), beside the floor measured in
 * the same run: the same bytes sent over loopback into a Node process that only appends them
 * to a file, and kcat into librdkafka's in-process mock broker. Each cell is the median of
 * REPEATS runs, the cases taking turns in each repeat; the machine is shared, so read the
 * ratios (medians of same-repeat ratios) and the CPU milliseconds per MB from /proc, which
 * the machine's other load inflates far less than wall time.
 */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const TOTAL_BYTES = Number(process.env.BENCH_BYTES ?? 256 * 1024 * 1024);
const KCAT_PRODUCER = [
  '-X',
  'linger.ms=5',
  '-X',
  'batch.size=1000000',
  '-X',
  'acks=1',
  '-X',
  'queue.buffering.max.kbytes=1048576',
];

const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

function inputFile(dir: string, recordSize: number, count: number): string {
  const file = path.join(dir, `in-${recordSize}.txt`);
  const line = Buffer.alloc(recordSize, 'x');
  line[recordSize - 1] = 0x0a;
  const chunk = Buffer.alloc(recordSize * 1024);
  for (let i = 0; i < 1024; i++) line.copy(chunk, i * recordSize);
  const fd = fs.openSync(file, 'w');
  for (let written = 0; written < count; written += 1024)
    fs.writeSync(fd, chunk, 0, Math.min(1024, count - written) * recordSize);
  fs.closeSync(fd);
  return file;
}

/** Streams `file` over loopback into the append-only sink: wall seconds and the sink's CPU seconds. */
async function floorRun(file: string, dir: string): Promise<Run> {
  const size = fs.statSync(file).size;
  const out = path.join(dir, 'sink.out');
  fs.rmSync(out, { force: true });
  const sink = spawn(process.execPath, [path.join(__dirname, 'append-sink.js'), out, String(size)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) =>
    sink.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
  );
  const data = fs.readFileSync(file);
  const exited = new Promise((r) => sink.once('exit', r));
  const run = await withCpu([sink.pid!], async () => {
    const started = performance.now();
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        for (let at = 0; at < data.length; at += 1 << 20) s.write(data.subarray(at, at + (1 << 20)));
      });
      s.once('data', () => resolve(s));
      s.once('error', reject);
    });
    const seconds = (performance.now() - started) / 1000;
    return { seconds, done: () => socket.destroy() };
  });
  run.done();
  await exited;
  fs.rmSync(out, { force: true });
  return { seconds: run.seconds, cpu: run.cpu };
}

let topicSeq = 0;
async function createTopic(
  client: Connection,
  partitions: number,
  replicationFactor = 1,
  configs: { name: string; value: string }[] = [],
): Promise<string> {
  const name = `bench-${topicSeq++}`;
  const r = await client.request(CreateTopics, {
    topics: [{ name, numPartitions: partitions, replicationFactor, configs }],
    timeoutMs: 10000,
  });
  if (r.topics[0].errorCode !== ErrorCode.NONE)
    throw new Error(`create ${name}: ${r.topics[0].errorMessage}`);
  return name;
}

/**
 * Wall seconds of a command. Its output goes to /dev/null: a consumer's 268 MB read back
 * through a pipe into this process (and joined into one string) cost more than the fetches.
 */
async function timed(cmd: string, args: string[], input?: Buffer): Promise<number> {
  const started = performance.now();
  const r = await runAsync(cmd, args, { input, timeoutMs: 300_000, discardStdout: true });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

/** A timed command, with the CPU seconds the broker processes `pids` spent meanwhile. */
function timedCpu(pids: readonly number[], cmd: string, args: string[], input?: Buffer): Promise<Run> {
  return withCpu(pids, async () => ({ seconds: await timed(cmd, args, input) }));
}

/** kcat's arguments to read `count` records of a topic from the beginning, printing only values. */
function kcatConsume(topic: string, count: number): string[] {
  return ['-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-c', String(count), '-f', '%s\\n'];
}

/** kcat into librdkafka's mock broker, in kcat's own process: the client's ceiling. */
const KCAT_MOCK = ['-b', '127.0.0.1:1', '-X', 'test.mock.num.brokers=1'];

const mbps = (mb: number, runs: readonly Run[]): number =>
  +(mb / median(runs.map((r) => r.seconds))).toFixed(1);
const seconds = (runs: readonly Run[]): number[] => runs.map((r) => r.seconds);

interface Row {
  case: string;
  records: number;
  'floor MB/s': number;
  'floor ms/MB': number;
  'mock MB/s': number;
  'produce MB/s': number;
  'produce krec/s': number;
  'produce/mock': number;
  'produce/floor': number;
  'broker ms/MB': number;
  'broker s/Mrec': number;
  'broker/floor cpu': number;
  'consume MB/s': number;
  'consume/floor': number;
  'consume ms/MB': number;
}

/**
 * One row: in each repeat, the floor, kcat into the mock broker, kcat into our broker and kcat
 * reading it all back, one after the other, so that the machine's load falls on all of them.
 */
async function throughput(
  broker: BrokerProcess,
  client: Connection,
  dir: string,
  recordSize: number,
  partitions: number,
): Promise<Row> {
  const count = Math.floor(TOTAL_BYTES / recordSize);
  const file = inputFile(dir, recordSize, count);
  const input = fs.readFileSync(file);
  const pid = [broker.child.pid!];
  const floor: Run[] = [];
  const mock: Run[] = [];
  const produce: Run[] = [];
  const consume: Run[] = [];
  for (let i = 0; i < REPEATS; i++) {
    floor.push(await floorRun(file, dir));
    mock.push(await timedCpu([], 'kcat', [...KCAT_MOCK, '-t', 'bench', '-P', ...KCAT_PRODUCER], input));
    const topic = await createTopic(client, partitions);
    produce.push(
      await timedCpu(pid, 'kcat', ['-b', broker.bootstrap, '-t', topic, '-P', ...KCAT_PRODUCER], input),
    );
    consume.push(await timedCpu(pid, 'kcat', ['-b', broker.bootstrap, ...kcatConsume(topic, count)]));
    await client.request(DeleteTopics, { topicNames: [topic], timeoutMs: 10000 });
  }
  fs.rmSync(file);
  const mb = (count * recordSize) / 1e6;
  return {
    case: `${recordSize} B x ${partitions} partition(s)`,
    records: count,
    'floor MB/s': mbps(mb, floor),
    'floor ms/MB': cpuMsPerMB(floor, mb),
    'mock MB/s': mbps(mb, mock),
    'produce MB/s': mbps(mb, produce),
    'produce krec/s': Math.round(count / median(seconds(produce)) / 1000),
    'produce/mock': pairedRatio(seconds(mock), seconds(produce)),
    'produce/floor': pairedRatio(seconds(floor), seconds(produce)),
    'broker ms/MB': cpuMsPerMB(produce, mb),
    'broker s/Mrec': +median(produce.map((r) => (r.cpu * 1e6) / count)).toFixed(2),
    'broker/floor cpu': pairedRatio(
      produce.map((r) => r.cpu),
      floor.map((r) => r.cpu),
    ),
    'consume MB/s': mbps(mb, consume),
    'consume/floor': pairedRatio(seconds(floor), seconds(consume)),
    'consume ms/MB': cpuMsPerMB(consume, mb),
  };
}

interface ClientRow {
  case: string;
  'kcat produce MB/s': number;
  'ours produce MB/s': number;
  'produce ours/kcat': number;
  'broker ms/MB kcat': number;
  'broker ms/MB ours': number;
  'kcat consume MB/s': number;
  'ours consume MB/s': number;
  'consume ours/kcat': number;
}

/** Our client (libs/client) beside kcat, each in its own process, on the same records. */
async function clientVsKcat(
  broker: BrokerProcess,
  client: Connection,
  dir: string,
  recordSize: number,
): Promise<ClientRow> {
  const count = Math.floor(TOTAL_BYTES / recordSize);
  const file = inputFile(dir, recordSize, count);
  const input = fs.readFileSync(file);
  const worker = path.join(__dirname, 'client-worker.js');
  const pid = [broker.child.pid!];
  const kp: Run[] = [];
  const op: Run[] = [];
  const kc: Run[] = [];
  const oc: Run[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const theirs = await createTopic(client, 1);
    kp.push(
      await timedCpu(pid, 'kcat', ['-b', broker.bootstrap, '-t', theirs, '-P', ...KCAT_PRODUCER], input),
    );
    kc.push(await timedCpu(pid, 'kcat', ['-b', broker.bootstrap, ...kcatConsume(theirs, count)]));
    const ours = await createTopic(client, 1);
    const args = (mode: string, last: string) => [worker, mode, broker.bootstrap, ours, String(count), last];
    // Wall time of the whole worker process, start-up included, as kcat's is timed.
    op.push(await timedCpu(pid, process.execPath, args('produce', String(recordSize))));
    oc.push(await timedCpu(pid, process.execPath, args('consume', '1')));
    await client.request(DeleteTopics, { topicNames: [theirs, ours], timeoutMs: 10000 });
  }
  fs.rmSync(file);
  const mb = (count * recordSize) / 1e6;
  return {
    case: `${recordSize} B x 1 partition`,
    'kcat produce MB/s': mbps(mb, kp),
    'ours produce MB/s': mbps(mb, op),
    'produce ours/kcat': pairedRatio(seconds(kp), seconds(op)),
    'broker ms/MB kcat': cpuMsPerMB(kp, mb),
    'broker ms/MB ours': cpuMsPerMB(op, mb),
    'kcat consume MB/s': mbps(mb, kc),
    'ours consume MB/s': mbps(mb, oc),
    'consume ours/kcat': pairedRatio(seconds(kc), seconds(oc)),
  };
}

/** Produce latency: one 1 KiB record per request, one request at a time, so nothing is batched away. */
async function latency(
  client: Connection,
  acks: number,
  leaderAndFollowers: number[] | null = null,
): Promise<{ acks: number; replicas: number; p50: number; p99: number }> {
  let topic: string;
  if (leaderAndFollowers === null) topic = await createTopic(client, 1);
  else {
    topic = `bench-${topicSeq++}`;
    const r = await client.request(CreateTopics, {
      topics: [
        {
          name: topic,
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: leaderAndFollowers }],
        },
      ],
      timeoutMs: 10000,
    });
    if (r.topics[0].errorCode !== ErrorCode.NONE)
      throw new Error(`create ${topic}: ${r.topics[0].errorMessage}`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const samples: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const records = encodeRecordBatch({ records: [{ value: Buffer.alloc(1024, 'x') }] });
    const started = performance.now();
    const r = await client.request(Produce, {
      acks,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
    });
    samples.push(performance.now() - started);
    if (r.responses[0].partitionResponses[0].errorCode !== ErrorCode.NONE) throw new Error('produce failed');
  }
  const warm = samples.slice(200);
  return {
    acks,
    replicas: leaderAndFollowers?.length ?? 1,
    p50: +percentile(warm, 0.5).toFixed(3),
    p99: +percentile(warm, 0.99).toFixed(3),
  };
}

interface ReplicationRow {
  case: string;
  records: number;
  'produce MB/s': number;
  'floor MB/s': number;
  'produce/floor': number;
  'x/RF=1': number;
  /** CPU of the three broker processes together, per MB produced. */
  'brokers ms/MB': number;
  'floor ms/MB': number;
}

/**
 * Replication: a cluster of three broker processes on one Redis, the same kcat producer into a
 * topic with one replica and acks=1, and into one with three replicas (min.insync.replicas=2)
 * and acks=all, which is answered only once both followers fetched the batch.
 */
async function replication(
  dir: string,
  latencies: { acks: number; replicas: number; p50: number; p99: number }[],
): Promise<ReplicationRow[]> {
  const cluster = await startCluster({ brokers: 3 });
  const client = await new Connection({ host: '127.0.0.1', port: cluster.node(1).port }).connect();
  const recordSize = 1024;
  const partitions = 8;
  const count = Math.floor(TOTAL_BYTES / recordSize);
  const file = inputFile(dir, recordSize, count);
  const input = fs.readFileSync(file);
  const producer = (acks: string) => KCAT_PRODUCER.map((a) => (a === 'acks=1' ? `acks=${acks}` : a));
  const rows: ReplicationRow[] = [];
  const pids = cluster.nodes.map((n) => n.process.child.pid!);
  try {
    const runs = { one: [] as Run[], three: [] as Run[], floor: [] as Run[] };
    for (let i = 0; i < REPEATS; i++) {
      runs.floor.push(await floorRun(file, dir));
      const single = await createTopic(client, partitions, 1);
      runs.one.push(
        await timedCpu(pids, 'kcat', ['-b', cluster.bootstrap, '-t', single, '-P', ...producer('1')], input),
      );
      const replicated = await createTopic(client, partitions, 3, [
        { name: 'min.insync.replicas', value: '2' },
      ]);
      runs.three.push(
        await timedCpu(
          pids,
          'kcat',
          ['-b', cluster.bootstrap, '-t', replicated, '-P', ...producer('all')],
          input,
        ),
      );
      await client.request(DeleteTopics, { topicNames: [single, replicated], timeoutMs: 10000 });
    }
    latencies.push(await latency(client, 1, [1]), await latency(client, -1, [1, 2, 3]));
    const mb = (count * recordSize) / 1e6;
    for (const [name, measured] of [
      ['RF=1 acks=1', runs.one],
      ['RF=3 acks=all', runs.three],
    ] as const) {
      rows.push({
        case: `${name}, ${recordSize} B x ${partitions} partitions, 3 brokers`,
        records: count,
        'produce MB/s': mbps(mb, measured),
        'floor MB/s': mbps(mb, runs.floor),
        'produce/floor': pairedRatio(seconds(runs.floor), seconds(measured)),
        'x/RF=1': pairedRatio(seconds(runs.one), seconds(measured)),
        'brokers ms/MB': cpuMsPerMB(measured, mb),
        'floor ms/MB': cpuMsPerMB(runs.floor, mb),
      });
    }
  } finally {
    fs.rmSync(file);
    client.close();
    await cluster.stop();
  }
  return rows;
}

interface SecurityRow {
  listener: string;
  'produce MB/s': number;
  'produce ratio': number;
  'produce ms/MB': number;
  'consume MB/s': number;
  'consume ratio': number;
  'consume ms/MB': number;
}

/**
 * kcat into one broker over PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512) listeners, taking
 * turns in each repeat so that the machine's noise falls on all of them; ratio = x / PLAINTEXT.
 */
async function securityOverhead(dir: string): Promise<SecurityRow[]> {
  const certs = makeCertificates();
  const password = 'bench-secret';
  const configFile = path.join(dir, 'secure.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      'ssl.key.location': certs.brokerKey,
      'ssl.certificate.location': certs.brokerCert,
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'sasl.scram.bootstrap.users': `SCRAM-SHA-512=[name=bench,password=${password}]`,
    }),
  );
  const broker = await startBroker({
    dataDir: path.join(dir, 'secure-data'),
    extraArgs: [
      '--config',
      configFile,
      '--set',
      'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0',
    ],
  });
  const client = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
  const recordSize = 1024;
  const partitions = 8;
  const count = Math.floor(TOTAL_BYTES / recordSize);
  const file = inputFile(dir, recordSize, count);
  const input = fs.readFileSync(file);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const ports = broker.listenerPorts();
    const tls = ['-X', `ssl.ca.location=${certs.ca}`];
    const listeners: [string, string[]][] = [
      ['PLAINTEXT', ['-b', `127.0.0.1:${ports.PLAINTEXT}`]],
      ['SSL', ['-b', `127.0.0.1:${ports.SSL}`, '-X', 'security.protocol=SSL', ...tls]],
      [
        'SASL_SSL (SCRAM-SHA-512)',
        [
          ...['-b', `127.0.0.1:${ports.SASL_SSL}`, '-X', 'security.protocol=SASL_SSL', ...tls],
          ...[
            '-X',
            'sasl.mechanism=SCRAM-SHA-512',
            '-X',
            'sasl.username=bench',
            '-X',
            `sasl.password=${password}`,
          ],
        ],
      ],
    ];
    const pid = [broker.child.pid!];
    const produce = listeners.map((): Run[] => []);
    const consume = listeners.map((): Run[] => []);
    for (let i = 0; i < REPEATS; i++) {
      for (const [at, [, via]] of listeners.entries()) {
        const topic = await createTopic(client, partitions);
        produce[at].push(await timedCpu(pid, 'kcat', [...via, '-t', topic, '-P', ...KCAT_PRODUCER], input));
        consume[at].push(await timedCpu(pid, 'kcat', [...via, ...kcatConsume(topic, count)]));
        await client.request(DeleteTopics, { topicNames: [topic], timeoutMs: 10000 });
      }
    }
    const mb = (count * recordSize) / 1e6;
    return listeners.map(([listener], at) => ({
      listener: `${listener}, ${recordSize} B x ${partitions} partitions`,
      'produce MB/s': mbps(mb, produce[at]),
      'produce ratio': pairedRatio(seconds(produce[0]), seconds(produce[at])),
      'produce ms/MB': cpuMsPerMB(produce[at], mb),
      'consume MB/s': mbps(mb, consume[at]),
      'consume ratio': pairedRatio(seconds(consume[0]), seconds(consume[at])),
      'consume ms/MB': cpuMsPerMB(consume[at], mb),
    }));
  } finally {
    fs.rmSync(file);
    client.close();
    await broker.stop();
  }
}

/** The bench's sections in order; BENCH_ONLY=name,name runs some of them. */
const SECTIONS: Record<string, (broker: BrokerProcess, client: Connection, dir: string) => Promise<void>> = {
  throughput: async (broker, client, dir) => {
    const rows: Row[] = [];
    for (const size of [100, 1024])
      for (const partitions of [1, 8]) rows.push(await throughput(broker, client, dir, size, partitions));
    console.log(
      [
        `\nThroughput, kcat, medians of ${REPEATS} interleaved runs. floor: the same bytes over loopback into a Node process`,
        "appending to a file; mock: kcat into librdkafka's mock broker; x/y: median of same-run ratios of throughput;",
        'ms/MB: CPU (user + system, /proc) of the broker, or the floor process, per MB; s/Mrec: per million records',
      ].join('\n'),
    );
    console.table(rows);
  },
  client: async (broker, client, dir) => {
    console.log(
      '\nOur client (libs/client, separate process) beside kcat; ratio = ours / kcat (1.0 = as fast)',
    );
    console.table([
      await clientVsKcat(broker, client, dir, 100),
      await clientVsKcat(broker, client, dir, 1024),
    ]);
  },
  latency: async (_broker, client) => {
    console.log('\nProduce latency, 1 KiB, one request in flight (ms)');
    console.table([await latency(client, 1), await latency(client, -1)]);
  },
  replication: async (_broker, _client, dir) => {
    const latencies: { acks: number; replicas: number; p50: number; p99: number }[] = [];
    const rows = await replication(dir, latencies);
    console.log(
      '\nReplicated produce (median), kcat into a cluster of three broker processes on one Redis; brokers ms/MB: the three processes together',
    );
    console.table(rows);
    console.log('\nProduce latency in the cluster, 1 KiB, one request in flight (ms)');
    console.table(latencies);
  },
  mirror: async (_broker, _client, dir) => {
    const row = await mirrorBench(dir, TOTAL_BYTES, 1024, KCAT_PRODUCER, REPEATS);
    console.log(
      '\nMirror (a tributary mirror worker process, source and target brokers) beside kcat producing into the source; ratio = mirror / produce; latency from heartbeats',
    );
    console.table([row]);
  },
  failover: async (_broker, _client, dir) => {
    const { lag, promote } = await failoverBench(dir, REPEATS);
    console.log(
      '\nMirror lag as the console reports it, against kcat’s view of both clusters at the same moment',
    );
    console.table([lag]);
    console.log(
      '\nPlanned promote under load: from the call to a kcat produce into the promoted topic succeeding',
    );
    console.table([promote]);
  },
  transactions: async (broker) => {
    const rows = await transactionsBench(broker, Number(process.env.BENCH_TXN_RECORDS ?? 20000), REPEATS);
    console.log(
      '\nTransactional produce beside idempotent produce, our client, 1 KiB records into 4 partitions (records/s: median run; latency ms: a group’s send, or send and commit; commit: commitTransaction alone)',
    );
    console.table(rows);
  },
  security: async (_broker, _client, dir) => {
    const rows = await securityOverhead(dir);
    console.log(
      '\nProduce and consume over TLS beside plaintext, kcat, one broker (median); ratio = x / PLAINTEXT',
    );
    console.table(rows);
  },
};

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',') ?? Object.keys(SECTIONS);
  for (const name of only)
    if (SECTIONS[name] === undefined)
      throw new Error(`BENCH_ONLY: no section "${name}" (sections: ${Object.keys(SECTIONS).join(', ')})`);
  const dir = tempDir('bench');
  const broker = await startBroker({ dataDir: path.join(dir, 'data') });
  const client = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
  try {
    console.log(
      `bench: ${REPEATS} repeats, ${(TOTAL_BYTES / 1e6).toFixed(0)} MB per run, kcat ${KCAT_PRODUCER.join(' ')}`,
    );
    for (const name of only) await SECTIONS[name](broker, client, dir);
  } finally {
    client.close();
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
