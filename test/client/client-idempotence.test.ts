import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import {
  batchHeaders,
  decodeRequestBody,
  decodeRequestHeader,
  encodeResponse,
  ErrorCode,
  Produce,
  Reader,
} from '@tributary/protocol';
import { runAsync, startBroker } from '../support/broker-process';
import { CuttingProxy } from '../support/cutting-proxy';
import { freePort } from '../support/redis-process';

test(
  'our idempotent producer, its connection cut mid-request several times, writes every record exactly once',
  { timeout: 120_000 },
  async () => {
    const proxyPort = await freePort();
    const broker = await startBroker({
      extraArgs: ['--set', `advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`],
    });
    const proxy = new CuttingProxy({ host: '127.0.0.1', port: broker.port });
    await proxy.listen(proxyPort);
    const bootstrap = `127.0.0.1:${proxyPort}`;
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.createTopics([{ name: 'exactly-once', numPartitions: 2 }]);
      const producer = new Producer({
        bootstrapServers: bootstrap,
        lingerMs: 1,
        batchSize: 1024,
        retryBackoffMs: 50,
      });
      // Cut the connection after every 3rd Produce request, 5 times, while 20 sends are in flight.
      proxy.arm(0, 5, 3);
      const sends = Array.from({ length: 20 }, (_, s) =>
        producer.send({
          topic: 'exactly-once',
          messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `s${s}-r${i}` })),
        }),
      );
      const results = (await Promise.all(sends)).flat();
      await producer.close();
      assert.equal(proxy.cuts.length, 5, 'the proxy cut five connections with a produce request in flight');
      assert.equal(results.length, 1000);

      const r = await runAsync('kcat', [
        '-b',
        broker.bootstrap,
        '-t',
        'exactly-once',
        '-C',
        '-o',
        'beginning',
        '-e',
        '-f',
        '%p %o %s\\n',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split(' '));
      assert.equal(rows.length, 1000, 'no record written twice, none lost');
      assert.equal(new Set(rows.map((row) => row[2])).size, 1000);
      // Every acknowledged offset holds the record it was acknowledged for.
      const stored = new Map(rows.map(([p, o, v]) => [`${p}/${o}`, v]));
      for (const [s, m] of results.entries()) {
        assert.equal(stored.get(`${m.partition}/${m.offset}`), `s${Math.floor(s / 50)}-r${s % 50}`);
      }
    } finally {
      await admin.close();
      await proxy.close();
      assert.equal(await broker.stop(), 0);
    }
  },
);

/**
 * A proxy in front of a broker that answers the Produce requests carrying the batch of one
 * base sequence with NOT_LEADER_OR_FOLLOWER itself, `times` times and a little late, as a
 * broker that just lost the partition would, while the requests behind it reach the broker,
 * which finds a gap before their sequences (OUT_OF_ORDER_SEQUENCE_NUMBER).
 */
class SequenceRefusingProxy {
  private server: net.Server | null = null;
  private readonly late: NodeJS.Timeout[] = [];
  refused = 0;

  constructor(
    private readonly target: number,
    private readonly sequence: number,
    private readonly times: number,
    /**
     * forward: the refused request still reaches the broker, which appends it, and the broker's
     * answer is dropped (a request that timed out on the client after it was written);
     * delayMs: how late the proxy's own answer comes.
     */
    private readonly options: { forward?: boolean; delayMs?: number } = {},
  ) {}

  async listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  }

  /** The proxy's own answer to a request frame it refuses, or null to forward it. */
  private refusal(frame: Buffer): Buffer[] | null {
    const r = new Reader(frame, 4);
    const header = decodeRequestHeader(r);
    if (header.apiKey !== Produce.apiKey || this.refused >= this.times) return null;
    const body = decodeRequestBody(Produce, header.apiVersion, r) as {
      topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[];
    };
    const [topic] = body.topicData;
    const [partition] = topic.partitionData;
    const [batch] = batchHeaders(partition.records ?? Buffer.alloc(0));
    if (batch?.baseSequence !== this.sequence) return null;
    this.refused++;
    return encodeResponse(Produce, header.apiVersion, header.correlationId, {
      responses: [
        {
          name: topic.name,
          partitionResponses: [
            {
              index: partition.index,
              errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER,
              baseOffset: -1,
              recordErrors: [],
              errorMessage: 'refused by the test proxy',
            },
          ],
        },
      ],
    });
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect({ host: '127.0.0.1', port: this.target });
    let pending = Buffer.alloc(0);
    const dropped = new Set<number>();
    let answers = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(0, 4 + pending.readInt32BE(0));
        pending = pending.subarray(frame.length);
        const answer = this.refusal(frame);
        if (answer === null || this.options.forward === true) upstream.write(frame);
        if (answer === null) continue;
        if (this.options.forward === true) dropped.add(frame.readInt32BE(8));
        // Late, so that the batches behind it are answered first.
        const delay = this.options.delayMs ?? 100;
        this.late.push(setTimeout(() => answer.forEach((b) => client.write(b)), delay));
      }
    });
    upstream.on('data', (data: Buffer) => {
      answers = Buffer.concat([answers, data]);
      while (answers.length >= 4 && answers.length >= 4 + answers.readInt32BE(0)) {
        const frame = answers.subarray(0, 4 + answers.readInt32BE(0));
        answers = answers.subarray(frame.length);
        if (!dropped.delete(frame.readInt32BE(4))) client.write(frame);
      }
    });
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  }

  async close(): Promise<void> {
    this.late.forEach(clearTimeout);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

test(
  'our idempotent producer retries batches refused out of order while an earlier one is refused (seed a1 of the nemesis suite)',
  { timeout: 120_000 },
  async () => {
    const proxyPort = await freePort();
    const broker = await startBroker({
      extraArgs: ['--set', `advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`],
    });
    // The batch of sequence 3 is refused 8 times: more than any fixed number of retries of the
    // batches behind it, each answered OUT_OF_ORDER_SEQUENCE_NUMBER every time.
    const proxy = new SequenceRefusingProxy(broker.port, 3, 8);
    await proxy.listen(proxyPort);
    const bootstrap = `127.0.0.1:${proxyPort}`;
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.createTopics([{ name: 'in-order', numPartitions: 1 }]);
      // One record per batch, several batches in flight.
      const producer = new Producer({
        bootstrapServers: bootstrap,
        lingerMs: 0,
        batchSize: 1,
        retryBackoffMs: 20,
      });
      await producer.send({ topic: 'in-order', messages: [{ value: 'r0' }] });
      const sends = Array.from({ length: 30 }, (_, i) =>
        producer.send({ topic: 'in-order', messages: [{ value: `r${i + 1}` }] }),
      );
      const settled = await Promise.allSettled(sends);
      await producer.close();
      assert.equal(proxy.refused, 8);
      assert.deepEqual(
        settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason)),
        [],
        'no send failed',
      );
      const r = await runAsync('kcat', [
        '-b',
        broker.bootstrap,
        '-t',
        'in-order',
        '-C',
        '-o',
        'beginning',
        '-e',
        '-f',
        '%o %s\\n',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        r.stdout.split('\n').filter((l) => l.length > 0),
        Array.from({ length: 31 }, (_, i) => `${i} r${i}`),
        'every record once, in the order sent',
      );
    } finally {
      await admin.close();
      await proxy.close();
      assert.equal(await broker.stop(), 0);
    }
  },
);

test(
  'a batch whose request timed out after the broker wrote it counts as written once a later batch is acknowledged (seed s20-final-0630)',
  { timeout: 120_000 },
  async () => {
    const proxyPort = await freePort();
    const broker = await startBroker({
      extraArgs: ['--set', `advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`],
    });
    // Sequence 3 reaches the broker, but its answer is lost and a retriable error comes 1 s
    // later: by then the batches behind it are acknowledged, the broker is more than five
    // batches past it, and its retry is refused OUT_OF_ORDER_SEQUENCE_NUMBER every time.
    const proxy = new SequenceRefusingProxy(broker.port, 3, 1, { forward: true, delayMs: 1000 });
    await proxy.listen(proxyPort);
    const bootstrap = `127.0.0.1:${proxyPort}`;
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.createTopics([{ name: 'written-once', numPartitions: 1 }]);
      const producer = new Producer({
        bootstrapServers: bootstrap,
        lingerMs: 0,
        batchSize: 1,
        retryBackoffMs: 20,
        deliveryTimeoutMs: 20_000,
      });
      await producer.send({ topic: 'written-once', messages: [{ value: 'r0' }] });
      const sends = Array.from({ length: 30 }, (_, i) =>
        producer.send({ topic: 'written-once', messages: [{ value: `r${i + 1}` }] }),
      );
      const settled = await Promise.allSettled(sends);
      await producer.close();
      assert.equal(proxy.refused, 1);
      assert.deepEqual(
        settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason)),
        [],
        'no send failed',
      );
      const r = await runAsync('kcat', [
        '-b',
        broker.bootstrap,
        '-t',
        'written-once',
        '-C',
        '-o',
        'beginning',
        '-e',
        '-f',
        '%o %s\\n',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        r.stdout.split('\n').filter((l) => l.length > 0),
        Array.from({ length: 31 }, (_, i) => `${i} r${i}`),
        'every record once, in the order sent',
      );
    } finally {
      await admin.close();
      await proxy.close();
      assert.equal(await broker.stop(), 0);
    }
  },
);
