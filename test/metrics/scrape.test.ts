import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import { stringify } from 'yaml';
import { startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { startMirrorWorker, until, writeMirrorConfig, type MirrorWorker } from '../support/mirror-process';
import { PROCESS_METRICS, parseExposition, sampleValue, type Exposition } from '../support/prometheus-text';
import { startRedis, type RedisProcess } from '../support/redis-process';
import { startConsoleProcess, type ConsoleProcess } from '../console/console-support';

const RECORDS = 30;

/** The address a process printed when it started serving metrics. */
function metricsUrl(output: string, who: string): string {
  const url = /metrics on (http:\/\/\S+)/.exec(output)?.[1];
  assert.ok(url !== undefined, `${who} prints its metrics address:\n${output}`);
  return url;
}

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain;.*version=0\.0\.4/);
  return parseExposition(await res.text());
}

/** Each family declared with its type; `withSamples` also need at least one sample now. */
function assertFamilies(
  e: Exposition,
  families: Readonly<Record<string, string>>,
  withSamples: readonly string[],
): void {
  for (const [name, type] of Object.entries(families)) assert.equal(e.types.get(name), type, name);
  for (const name of withSamples) {
    const sampleName = families[name] === 'histogram' ? `${name}_count` : name;
    assert.ok((e.samples.get(sampleName) ?? []).length > 0, `${name} has samples`);
  }
}

/** Node's process metrics with a sample each (GC's histogram once a collection ran). */
async function assertProcessMetrics(url: string): Promise<void> {
  const names = Object.keys(PROCESS_METRICS);
  await until(
    `${url} has a sample of every process metric`,
    async () => {
      const e = await scrape(url);
      assertFamilies(e, PROCESS_METRICS, []);
      return names.every(
        (n) => (e.samples.get(PROCESS_METRICS[n] === 'histogram' ? `${n}_count` : n) ?? []).length > 0,
      );
    },
    30_000,
  );
  const e = await scrape(url);
  assert.ok((sampleValue(e.samples, 'process_resident_memory_bytes') ?? 0) > 1_000_000);
  assert.ok((sampleValue(e.samples, 'nodejs_heap_used_bytes') ?? 0) > 1_000_000);
  const started = sampleValue(e.samples, 'process_start_time_seconds') ?? 0;
  assert.ok(Math.abs(started - Date.now() / 1000) < 600, `process_start_time_seconds ${started}`);
}

/**
 * Prometheus' view of a deployment: a broker, a mirror worker and the console, each a process of
 * its own, scraped over HTTP; the families the README documents and Node's process metrics.
 */
describe('scraping a broker, a mirror worker and the console', { timeout: 240_000 }, () => {
  let redis: RedisProcess;
  let source: BrokerProcess;
  let target: BrokerProcess;
  let worker: MirrorWorker;
  let consoleProcess: ConsoleProcess;

  before(async () => {
    redis = await startRedis();
    source = await startBroker({ extraArgs: ['--metrics-listen', '127.0.0.1:0'] });
    target = await startBroker();
    const admin = new Admin({ bootstrapServers: source.bootstrap });
    await admin.createTopics([{ name: 'orders', numPartitions: 2 }]);
    const producer = new Producer({ bootstrapServers: source.bootstrap });
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: RECORDS }, (_, i) => ({ value: `order-${i}`, partition: i % 2 })),
    });
    await producer.close();
    // A group that read 10 of partition 0's 15 records: lag 5 there, 15 on partition 1.
    const partitions = [0, 1].map((partition) => ({ topic: 'orders', partition }));
    await admin.resetOffsets('billing', partitions, {
      offsets: [
        { topic: 'orders', partition: 0, offset: 10 },
        { topic: 'orders', partition: 1, offset: 0 },
      ],
    });
    await admin.close();
    worker = await startMirrorWorker(
      writeMirrorConfig({
        redis: redis.url,
        namespace: 'scrape',
        clusters: {
          a: { 'bootstrap.servers': source.bootstrap },
          b: { 'bootstrap.servers': target.bootstrap },
        },
        flows: [{ source: 'a', target: 'b', 'refresh.topics.interval.seconds': 1 }],
      }),
      ['--metrics-listen', '127.0.0.1:0'],
    );
    const consoleFile = path.join(tempDir('scrape-console'), 'console.yaml');
    fs.writeFileSync(
      consoleFile,
      stringify({
        http: { host: '127.0.0.1', port: 0 },
        clusters: [
          { alias: 'a', 'bootstrap.servers': source.bootstrap },
          { alias: 'b', 'bootstrap.servers': target.bootstrap },
        ],
      }),
    );
    consoleProcess = await startConsoleProcess(consoleFile);
  });

  after(async () => {
    await consoleProcess?.stop();
    await worker?.stop();
    await source?.stop();
    await target?.stop();
    await redis?.stop();
  });

  test('the broker: requests and latency per API, bytes and records per topic, ISR changes', async () => {
    const url = metricsUrl(source.output(), 'the broker');
    // The worker's fetches count as bytes and records out once it has copied everything.
    const e = await (async () => {
      let last: Exposition | undefined;
      await until(
        'the broker counts the records the worker fetched',
        async () => {
          last = await scrape(url);
          const out = sampleValue(last.samples, 'kafka_server_records_out_total', { topic: 'orders' });
          return out !== undefined && out >= RECORDS;
        },
        60_000,
      );
      return last as Exposition;
    })();
    assertFamilies(
      e,
      {
        kafka_server_requests_total: 'counter',
        kafka_server_request_duration_seconds: 'histogram',
        kafka_server_bytes_in_total: 'counter',
        kafka_server_records_in_total: 'counter',
        kafka_server_bytes_out_total: 'counter',
        kafka_server_records_out_total: 'counter',
        kafka_server_replication_bytes_out_total: 'counter',
        kafka_server_isr_shrinks_total: 'counter',
        kafka_server_isr_expands_total: 'counter',
      },
      [
        'kafka_server_requests_total',
        'kafka_server_request_duration_seconds',
        'kafka_server_bytes_in_total',
        'kafka_server_bytes_out_total',
      ],
    );
    const id = { broker: '1', topic: 'orders' };
    assert.equal(sampleValue(e.samples, 'kafka_server_records_in_total', id), RECORDS);
    assert.ok((sampleValue(e.samples, 'kafka_server_bytes_in_total', id) ?? 0) > RECORDS * 7);
    for (const api of ['Produce', 'Fetch', 'Metadata'])
      assert.ok(
        (e.samples.get('kafka_server_requests_total') ?? []).some(
          (s) => s.labels.api === api && /^\d+$/.test(s.labels.version) && s.value >= 1,
        ),
        `${api} requests counted per version`,
      );
    assert.ok(
      (sampleValue(e.samples, 'kafka_server_request_duration_seconds_bucket', {
        api: 'Produce',
        le: '+Inf',
      }) ?? 0) >= 1,
    );
    assert.equal(sampleValue(e.samples, 'kafka_server_isr_shrinks_total', { broker: '1' }), 0);
    assert.equal(sampleValue(e.samples, 'kafka_server_isr_expands_total', { broker: '1' }), 0);
    await assertProcessMetrics(url);
  });

  test('the worker: lag, latency and throughput of the flows it runs', async () => {
    const url = metricsUrl(worker.output(), 'the mirror worker');
    const flow = { flow: 'a->b', source: 'a', target: 'b' };
    const lagOf = (e: Exposition, partition: string) =>
      sampleValue(e.samples, 'tributary_mirror_lag_records', { ...flow, topic: 'orders', partition });
    let e: Exposition | undefined;
    await until(
      'the worker reports both partitions copied, with a latency',
      async () => {
        e = await scrape(url);
        return (
          lagOf(e, '0') === 0 &&
          lagOf(e, '1') === 0 &&
          sampleValue(e.samples, 'tributary_mirror_replication_latency_seconds', flow) !== undefined
        );
      },
      60_000,
    );
    const m = e as Exposition;
    assertFamilies(
      m,
      {
        tributary_mirror_configured: 'gauge',
        tributary_mirror_flow_running: 'gauge',
        tributary_mirror_lag_records: 'gauge',
        tributary_mirror_lag_seconds: 'gauge',
        tributary_mirror_replication_latency_seconds: 'gauge',
        tributary_mirror_records_per_second: 'gauge',
      },
      ['tributary_mirror_records_per_second'],
    );
    assert.equal(sampleValue(m.samples, 'tributary_mirror_configured'), 1);
    assert.equal(sampleValue(m.samples, 'tributary_mirror_flow_running', flow), 1);
    assert.equal(
      sampleValue(m.samples, 'tributary_mirror_lag_seconds', { ...flow, topic: 'orders', partition: '0' }),
      0,
    );
    const latency = sampleValue(m.samples, 'tributary_mirror_replication_latency_seconds', flow) ?? -1;
    assert.ok(latency >= 0 && latency < 60, `replication latency ${latency} s`);
    assert.equal(m.types.get('kafka_server_requests_total'), undefined, 'a worker runs no broker');
    await assertProcessMetrics(url);
  });

  test('the console: every cluster’s partitions, offsets and consumer lag', async () => {
    const url = `${consoleProcess.url}/metrics`;
    const e = await scrape(url);
    assertFamilies(
      e,
      {
        tributary_cluster_up: 'gauge',
        kafka_cluster_brokers: 'gauge',
        kafka_cluster_partitions: 'gauge',
        kafka_cluster_under_replicated_partitions: 'gauge',
        kafka_cluster_offline_partitions: 'gauge',
        kafka_topic_partition_current_offset: 'gauge',
        kafka_consumergroup_current_offset: 'gauge',
        kafka_consumergroup_lag: 'gauge',
        kafka_consumergroup_lag_sum: 'gauge',
        tributary_mirror_configured: 'gauge',
      },
      [],
    );
    for (const cluster of ['a', 'b']) {
      assert.equal(sampleValue(e.samples, 'tributary_cluster_up', { cluster }), 1, cluster);
      assert.equal(sampleValue(e.samples, 'kafka_cluster_brokers', { cluster }), 1, cluster);
      assert.equal(sampleValue(e.samples, 'kafka_cluster_under_replicated_partitions', { cluster }), 0);
      assert.equal(sampleValue(e.samples, 'kafka_cluster_offline_partitions', { cluster }), 0);
    }
    const orders = (partition: string) => ({ cluster: 'a', topic: 'orders', partition });
    assert.equal(sampleValue(e.samples, 'kafka_topic_partition_current_offset', orders('0')), RECORDS / 2);
    const billing = (partition: string) => ({ ...orders(partition), group: 'billing' });
    assert.equal(sampleValue(e.samples, 'kafka_consumergroup_current_offset', billing('0')), 10);
    assert.equal(sampleValue(e.samples, 'kafka_consumergroup_lag', billing('0')), 5);
    assert.equal(sampleValue(e.samples, 'kafka_consumergroup_lag', billing('1')), 15);
    assert.equal(
      sampleValue(e.samples, 'kafka_consumergroup_lag_sum', { cluster: 'a', group: 'billing' }),
      20,
    );
    // This console has no replicator attached: the workers serve the flows' figures.
    assert.equal(sampleValue(e.samples, 'tributary_mirror_configured'), 0);
    await assertProcessMetrics(url);
  });
});
