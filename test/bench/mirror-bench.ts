import fs from 'node:fs';
import path from 'node:path';
import { Admin } from '@tributary/client';
import { Mirror, parseMirrorConfig } from '@tributary/mirror';
import { runAsync, startBroker, type BrokerProcess } from '../support/broker-process';
import { startMirrorWorker, writeMirrorConfig } from '../support/mirror-process';
import { startRedis } from '../support/redis-process';

export interface MirrorRow {
  case: string;
  produceMBps: number;
  mirrorRps: number;
  mirrorMBps: number;
  ratio: number;
  latencyP50ms: number | null;
  latencyP99ms: number | null;
  latencySamples: number;
}

const PARTITIONS = 4;

async function endOffsets(admin: Admin, topic: string): Promise<number> {
  try {
    const ends = await admin.listOffsets(
      Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })),
      'latest',
    );
    return ends.reduce((n, e) => n + e.offset, 0);
  } catch {
    return 0;
  }
}

/**
 * The replicator beside one producer, in the same run: kcat writes the records into a source
 * broker (the produce figure); then a `tributary mirror` worker process copies them into a
 * target broker (offsets preserved), timed from its first copied record to its last. Then
 * heartbeats give the end-to-end replication latency while the flow idles.
 */
export async function mirrorBench(
  dir: string,
  totalBytes: number,
  recordSize: number,
  kcatProducer: readonly string[],
  repeats: number,
): Promise<MirrorRow> {
  const redis = await startRedis();
  const source = await startBroker({ dataDir: path.join(dir, 'mirror-source') });
  const target = await startBroker({ dataDir: path.join(dir, 'mirror-target') });
  const brokers: BrokerProcess[] = [source, target];
  const sourceAdmin = new Admin({ bootstrapServers: source.bootstrap });
  const targetAdmin = new Admin({ bootstrapServers: target.bootstrap });
  try {
    const count = Math.floor(totalBytes / recordSize);
    const line = Buffer.alloc(recordSize, 'm');
    line[recordSize - 1] = 0x0a;
    const input = Buffer.alloc(recordSize * count);
    for (let i = 0; i < count; i++) line.copy(input, i * recordSize);
    const mb = (count * recordSize) / 1e6;
    const config = {
      redis: redis.url,
      namespace: 'bench',
      clusters: {
        src: { 'bootstrap.servers': source.bootstrap },
        dst: { 'bootstrap.servers': target.bootstrap },
      },
      flows: [{ source: 'src', target: 'dst', 'refresh.topics.interval.seconds': 1 }],
    };
    const worker = await startMirrorWorker(writeMirrorConfig(config));
    const produceRates: number[] = [];
    const mirrorRates: number[] = [];
    for (let run = 0; run < repeats; run++) {
      const topic = `bulk-${run}`;
      await sourceAdmin.createTopics([{ name: topic, numPartitions: PARTITIONS }]);
      const started = performance.now();
      const produced = await runAsync('kcat', ['-b', source.bootstrap, '-t', topic, '-P', ...kcatProducer], {
        input,
        timeoutMs: 300_000,
      });
      if (produced.status !== 0) throw new Error(`kcat: ${produced.stderr}`);
      produceRates.push(mb / ((performance.now() - started) / 1000));
      let first = 0;
      let firstCount = 0;
      let done = 0;
      const deadline = Date.now() + 300_000;
      while (Date.now() < deadline) {
        const n = await endOffsets(targetAdmin, `src.${topic}`);
        if (n > 0 && first === 0) {
          first = performance.now();
          firstCount = n;
        }
        if (n >= count) {
          done = performance.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      if (done === 0) throw new Error('the mirror did not catch up in 300 s');
      mirrorRates.push(((count - firstCount) * recordSize) / 1e6 / Math.max(0.001, (done - first) / 1000));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    // Idle for a while: heartbeats measure the end-to-end latency.
    await new Promise((r) => setTimeout(r, 12_000));
    const reader = new Mirror(
      parseMirrorConfig(config, 'bench'),
      { url: redis.url },
      {
        log: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    );
    await reader.start({ work: false, manage: false });
    const [status] = await reader.control.status();
    await reader.stop();
    await worker.stop();
    const mirrorMBps = median(mirrorRates);
    const produceMBps = median(produceRates);
    return {
      case: `${recordSize} B x ${PARTITIONS} partitions, offsets preserved (median of ${repeats})`,
      produceMBps: +produceMBps.toFixed(1),
      mirrorRps: Math.round((mirrorMBps * 1e6) / recordSize),
      mirrorMBps: +mirrorMBps.toFixed(1),
      ratio: +(mirrorMBps / produceMBps).toFixed(2),
      latencyP50ms: status.latencyMs?.p50 ?? null,
      latencyP99ms: status.latencyMs?.p99 ?? null,
      latencySamples: status.latencyMs?.samples ?? 0,
    };
  } finally {
    await sourceAdmin.close();
    await targetAdmin.close();
    for (const b of brokers) await b.stop();
    await redis.stop();
    fs.rmSync(path.join(dir, 'mirror-source'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, 'mirror-target'), { recursive: true, force: true });
  }
}
