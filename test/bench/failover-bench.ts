import fs from 'node:fs';
import path from 'node:path';
import { Admin, Producer } from '@tributary/client';
import { MirrorControl, parseMirrorConfig } from '@tributary/mirror';
import { runAsync, startBroker } from '../support/broker-process';
import { kcatEnd, startMirrorWorker, writeMirrorConfig } from '../support/mirror-process';
import { startRedis } from '../support/redis-process';

const PARTITIONS = 4;
const RECORD = Buffer.alloc(1024, 'f');

export interface LagRow {
  case: string;
  samples: number;
  medianLagRecords: number;
  medianErrorRecords: number;
  p95ErrorRecords: number;
  medianLagSeconds: number;
  medianErrorSeconds: number;
}

export interface PromoteRow {
  case: string;
  runs: number;
  medianToWritableMs: number;
  maxToWritableMs: number;
  medianRecordsAtPromote: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/** kcat's timestamp of the record at `offset`: the age of the oldest record not yet copied. */
async function kcatTimestamp(
  bootstrap: string,
  topic: string,
  partition: number,
  offset: number,
): Promise<number> {
  const r = await runAsync(
    'kcat',
    [
      '-C',
      '-b',
      bootstrap,
      '-t',
      topic,
      '-p',
      String(partition),
      '-o',
      String(offset),
      '-c',
      '1',
      '-e',
      '-f',
      '%T\n',
    ],
    { timeoutMs: 30_000 },
  );
  return Number(r.stdout.trim());
}

/** Produces 1 KiB records into `topic` at about `rate` per second until stopped or refused (fenced). */
function load(
  producer: Producer,
  topic: string,
  rate: number,
): { stop(): Promise<{ sent: number; refused: unknown }> } {
  let running = true;
  let sent = 0;
  let refused: unknown = null;
  const done = (async () => {
    const started = Date.now();
    while (running) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
      if (due > 0) {
        const batch = Math.min(due, 200);
        await producer
          .send({ topic, messages: Array.from({ length: batch }, () => ({ value: RECORD })) })
          .then(() => (sent += batch))
          .catch((err: unknown) => {
            refused = err;
            running = false;
          });
      } else await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { sent, refused };
    },
  };
}

/**
 * The replicator's operations under load, with a worker process and a control as a console
 * has one: how far the console's lag (records, seconds) is from kcat's view of both
 * clusters while a throttled flow falls behind, and how long a planned promote takes from
 * the call to a writable target while a producer writes into the source.
 */
export async function failoverBench(
  dir: string,
  repeats: number,
): Promise<{ lag: LagRow; promote: PromoteRow }> {
  const redis = await startRedis();
  const source = await startBroker({ dataDir: path.join(dir, 'dr-source') });
  const target = await startBroker({ dataDir: path.join(dir, 'dr-target') });
  const doc = {
    redis: redis.url,
    namespace: 'bench-dr',
    clusters: {
      src: { 'bootstrap.servers': source.bootstrap },
      dst: { 'bootstrap.servers': target.bootstrap },
    },
    flows: [
      {
        source: 'src',
        target: 'dst',
        'refresh.topics.interval.seconds': 1,
        'emit.heartbeats.enabled': false,
      },
    ],
  };
  const worker = await startMirrorWorker(writeMirrorConfig(doc));
  const control = MirrorControl.connect(parseMirrorConfig(doc, 'bench'), { url: redis.url });
  const admin = new Admin({ bootstrapServers: source.bootstrap });
  const producer = new Producer({ bootstrapServers: source.bootstrap, lingerMs: 2, retries: 0 });
  try {
    // Lag: produce at 3000 records/s into a flow throttled to 1500, so the lag grows; compare.
    await admin.createTopics([{ name: 'lagging', numPartitions: PARTITIONS }]);
    await control.throttle('src->dst', { bytesPerSecond: 0, recordsPerSecond: 1500 });
    const traffic = load(producer, 'lagging', 3000);
    const lagRecords: number[] = [];
    const errors: number[] = [];
    const lagSeconds: number[] = [];
    const secondErrors: number[] = [];
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const status = await control.flowStatus('src->dst');
      const mine = status.partitions.filter((p) => p.topic === 'lagging');
      let kcatLag = 0;
      for (const p of mine)
        kcatLag +=
          (await kcatEnd(source.bootstrap, 'lagging', p.partition)) -
          (await kcatEnd(target.bootstrap, 'src.lagging', p.partition));
      const apiLag = mine.reduce((n, p) => n + p.lagRecords, 0);
      lagRecords.push(kcatLag);
      errors.push(Math.abs(apiLag - kcatLag));
      const p0 = mine.find((p) => p.partition === 0);
      if (p0 !== undefined) {
        const next = await kcatEnd(target.bootstrap, 'src.lagging', 0);
        const ts = await kcatTimestamp(source.bootstrap, 'lagging', 0, next);
        if (ts > 0) {
          const kcatSeconds = (Date.now() - ts) / 1000;
          lagSeconds.push(kcatSeconds);
          secondErrors.push(Math.abs(p0.lagSeconds - kcatSeconds));
        }
      }
    }
    const { refused } = await traffic.stop();
    if (refused !== null) throw new Error('the load producer failed', { cause: refused });
    await control.throttle('src->dst', { bytesPerSecond: 0, recordsPerSecond: 0 });

    // Promote under load: a producer writes into the source until it is fenced.
    const took: number[] = [];
    const atPromote: number[] = [];
    for (let run = 0; run < repeats; run++) {
      const topic = `promoted-${run}`;
      await admin.createTopics([{ name: topic, numPartitions: PARTITIONS }]);
      const writer = new Producer({ bootstrapServers: source.bootstrap, lingerMs: 2, retries: 0 });
      const running = load(writer, topic, 3000);
      await new Promise((r) => setTimeout(r, 3000));
      const started = performance.now();
      const report = await control.promote('src->dst', { topics: [topic] });
      // Writable: a standard client's produce into the promoted topic succeeds.
      const written = await runAsync(
        'kcat',
        ['-b', target.bootstrap, '-t', `src.${topic}`, '-p', '0', '-P'],
        { input: 'x\n' },
      );
      if (written.status !== 0) throw new Error(`the promoted topic is not writable: ${written.stderr}`);
      took.push(performance.now() - started);
      atPromote.push(report.topics[0].partitions.reduce((n, p) => n + p.targetEnd, 0));
      await running.stop();
      await writer.close();
    }
    return {
      lag: {
        case: 'flow throttled to 1500 rec/s under 3000 rec/s of 1 KiB, 4 partitions; console vs kcat',
        samples: errors.length,
        medianLagRecords: median(lagRecords),
        medianErrorRecords: median(errors),
        p95ErrorRecords: p95(errors),
        medianLagSeconds: +median(lagSeconds).toFixed(2),
        medianErrorSeconds: +median(secondErrors).toFixed(2),
      },
      promote: {
        case: 'planned promote while a producer writes 3000 rec/s of 1 KiB into the source, 4 partitions',
        runs: took.length,
        medianToWritableMs: Math.round(median(took)),
        maxToWritableMs: Math.round(Math.max(...took)),
        medianRecordsAtPromote: median(atPromote),
      },
    };
  } finally {
    await producer.close().catch(() => undefined);
    await admin.close();
    await control.close();
    await worker.stop();
    await source.stop();
    await target.stop();
    await redis.stop();
    fs.rmSync(path.join(dir, 'dr-source'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'dr-target'), { recursive: true, force: true });
  }
}
