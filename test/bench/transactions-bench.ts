import { Admin, Producer } from '@tributary/client';
import type { BrokerProcess } from '../support/broker-process';

/**
 * Transactional produce beside idempotent produce, our client (libs/client) into one broker,
 * 1 KiB records in groups of `perTxn`: an idempotent group is one send awaited, a
 * transactional one is begin, the send, and commit. Latency: of the whole group (the awaited
 * send, or send and commit), and of commitTransaction alone (flush and EndTxn).
 */
export interface TransactionRow {
  readonly mode: string;
  readonly recordsPerTxn: number;
  readonly recordsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly commitP50Ms: number | null;
  readonly commitP99Ms: number | null;
}

const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

let seq = 0;

async function one(
  broker: BrokerProcess,
  transactional: boolean,
  perTxn: number,
  total: number,
): Promise<{ seconds: number; latencies: number[]; commits: number[] }> {
  const topic = `txn-bench-${seq++}`;
  const admin = new Admin({ bootstrapServers: broker.bootstrap });
  await admin.createTopics([{ name: topic, numPartitions: 4 }]);
  await admin.close();
  const producer = new Producer({
    bootstrapServers: broker.bootstrap,
    lingerMs: 1,
    batchSize: 1 << 20,
    transactionalId: transactional ? `${topic}-producer` : undefined,
  });
  const value = Buffer.alloc(1024, 'x');
  const messages = Array.from({ length: perTxn }, (_, i) => ({ key: `k${i}`, value }));
  const latencies: number[] = [];
  const commits: number[] = [];
  try {
    if (transactional) await producer.initTransactions();
    const started = performance.now();
    for (let n = 0; n < total; n += perTxn) {
      const t0 = performance.now();
      if (transactional) producer.beginTransaction();
      await producer.send({ topic, messages });
      if (transactional) {
        const t1 = performance.now();
        await producer.commitTransaction();
        commits.push(performance.now() - t1);
      }
      latencies.push(performance.now() - t0);
    }
    return { seconds: (performance.now() - started) / 1000, latencies, commits };
  } finally {
    await producer.close();
  }
}

export async function transactionsBench(
  broker: BrokerProcess,
  total: number,
  repeats: number,
): Promise<TransactionRow[]> {
  const rows: TransactionRow[] = [];
  for (const perTxn of [10, 100, 1000]) {
    for (const transactional of [false, true]) {
      const runs = [];
      for (let i = 0; i < repeats; i++) runs.push(await one(broker, transactional, perTxn, total));
      const seconds = runs.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(repeats / 2)];
      const latencies = runs.flatMap((r) => r.latencies);
      const commits = runs.flatMap((r) => r.commits);
      rows.push({
        mode: transactional ? 'transactional' : 'idempotent',
        recordsPerTxn: perTxn,
        recordsPerSec: Math.round(total / seconds),
        p50Ms: +percentile(latencies, 0.5).toFixed(2),
        p99Ms: +percentile(latencies, 0.99).toFixed(2),
        commitP50Ms: transactional ? +percentile(commits, 0.5).toFixed(2) : null,
        commitP99Ms: transactional ? +percentile(commits, 0.99).toFixed(2) : null,
      });
    }
  }
  return rows;
}
