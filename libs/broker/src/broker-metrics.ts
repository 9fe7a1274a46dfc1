import { apiByKey, BATCH, Fetch, type RequestOf, type ResponseOf } from '@tributary/protocol';
import {
  LATENCY_BUCKETS,
  type HotCounter,
  type HotFamily,
  type HotHistogram,
  type MetricsRegistry,
} from '@tributary/metrics';
import type { RequestObserver } from './network/request-router';

type Inc = { inc(by?: number): void };

/**
 * A broker's metrics, labelled by cluster id and node id so that several brokers in one
 * process share the registry: requests and their latency per API (Kafka's RequestsPerSec and
 * TotalTimeMs), bytes and records in and out per topic (BytesInPerSec, MessagesInPerSec,
 * BytesOutPerSec), read from the decoded requests and responses at the router, and the ISR
 * shrink and expand counters that replication bumps. Consumer fetches count as bytes out;
 * followers' fetches as replication bytes out. Records are counted from batch headers only.
 * Produced bytes and records are counted by the produce handler as it appends, while the
 * request's bytes are still its own (the connection reuses them afterwards).
 * Hot path: the per-request series are hot counters and histograms (plain numbers read at
 * scrape time, see MetricsRegistry.hotCounter), bound once per API and topic.
 */
export class BrokerMetrics implements RequestObserver {
  readonly isrShrinks: Inc;
  readonly isrExpands: Inc;
  private readonly requests: HotFamily<HotCounter>;
  private readonly latency: HotFamily<HotHistogram>;
  private readonly bytesIn: HotFamily<HotCounter>;
  private readonly recordsIn: HotFamily<HotCounter>;
  private readonly bytesOut: HotFamily<HotCounter>;
  private readonly recordsOut: HotFamily<HotCounter>;
  private readonly replicationBytesOut: HotFamily<HotCounter>;
  /** Per API key, per version. */
  private readonly perApi: ({ count: HotCounter; latency: HotHistogram } | undefined)[][] = [];
  private readonly perTopic = new Map<HotFamily<HotCounter>, Map<string, HotCounter>>();

  constructor(
    registry: MetricsRegistry,
    private readonly labels: { cluster: string; broker: number },
  ) {
    const names = ['cluster', 'broker'];
    this.requests = registry.hotCounter({
      name: 'kafka_server_requests_total',
      help: 'Requests answered, per API and version.',
      labelNames: [...names, 'api', 'version'],
    });
    this.latency = registry.hotHistogram({
      name: 'kafka_server_request_duration_seconds',
      help: 'Time from a decoded request to its encoded response, per API.',
      labelNames: [...names, 'api'],
      buckets: LATENCY_BUCKETS,
    });
    const topicLabels = [...names, 'topic'];
    this.bytesIn = registry.hotCounter({
      name: 'kafka_server_bytes_in_total',
      help: 'Record batch bytes appended by producers, per topic.',
      labelNames: topicLabels,
    });
    this.recordsIn = registry.hotCounter({
      name: 'kafka_server_records_in_total',
      help: 'Records appended by producers, per topic.',
      labelNames: topicLabels,
    });
    this.bytesOut = registry.hotCounter({
      name: 'kafka_server_bytes_out_total',
      help: 'Record batch bytes sent to consumers, per topic.',
      labelNames: topicLabels,
    });
    this.recordsOut = registry.hotCounter({
      name: 'kafka_server_records_out_total',
      help: 'Records sent to consumers, per topic (whole batches, as stored).',
      labelNames: topicLabels,
    });
    this.replicationBytesOut = registry.hotCounter({
      name: 'kafka_server_replication_bytes_out_total',
      help: 'Record batch bytes sent to follower replicas, per topic.',
      labelNames: topicLabels,
    });
    this.isrShrinks = registry
      .counter({
        name: 'kafka_server_isr_shrinks_total',
        help: 'Replicas removed from an ISR.',
        labelNames: names,
      })
      .labels(labels);
    this.isrExpands = registry
      .counter({
        name: 'kafka_server_isr_expands_total',
        help: 'Replicas added to an ISR.',
        labelNames: names,
      })
      .labels(labels);
    // A series exists from its first increment: these read 0 until replication bumps them.
    this.isrShrinks.inc(0);
    this.isrExpands.inc(0);
  }

  onRequest(
    apiKey: number,
    apiVersion: number,
    latencyMs: number,
    request: unknown,
    response: unknown,
  ): void {
    const versions = (this.perApi[apiKey] ??= []);
    let series = versions[apiVersion];
    if (series === undefined) {
      const api = apiByKey(apiKey)?.name ?? String(apiKey);
      series = {
        count: this.requests.labels({ ...this.labels, api, version: apiVersion }),
        latency: this.latency.labels({ ...this.labels, api }),
      };
      versions[apiVersion] = series;
    }
    series.count.inc();
    series.latency.observe(latencyMs / 1000);
    if (apiKey === Fetch.apiKey && response !== null)
      this.onFetch(request as RequestOf<typeof Fetch>, response as ResponseOf<typeof Fetch>);
  }

  /** Record batches a producer appended to a partition of `topic` (any acks, retried batches too). */
  produced(topic: string, records: Buffer): void {
    this.topicSeries(this.bytesIn, topic).inc(records.length);
    this.topicSeries(this.recordsIn, topic).inc(recordCount(records));
  }

  private topicSeries(family: HotFamily<HotCounter>, topic: string): HotCounter {
    let byTopic = this.perTopic.get(family);
    if (byTopic === undefined) {
      byTopic = new Map();
      this.perTopic.set(family, byTopic);
    }
    let s = byTopic.get(topic);
    if (s === undefined) {
      s = family.labels({ ...this.labels, topic });
      byTopic.set(topic, s);
    }
    return s;
  }

  private onFetch(request: RequestOf<typeof Fetch>, response: ResponseOf<typeof Fetch>): void {
    const follower = request.replicaId >= 0;
    for (const t of response.responses) {
      let bytes = 0;
      let records = 0;
      for (const p of t.partitions) {
        if (p.records === null || p.records.length === 0) continue;
        bytes += p.records.length;
        if (!follower) records += recordCount(p.records);
      }
      if (bytes === 0) continue;
      if (follower) this.topicSeries(this.replicationBytesOut, t.topic).inc(bytes);
      else {
        this.topicSeries(this.bytesOut, t.topic).inc(bytes);
        this.topicSeries(this.recordsOut, t.topic).inc(records);
      }
    }
  }
}

/** Records in whole batches, from their headers (a batch cut short at the end is not counted). */
function recordCount(records: Buffer): number {
  let at = 0;
  let count = 0;
  while (records.length - at >= BATCH.HEADER_SIZE) {
    const size = records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    if (at + size > records.length) break;
    count += records.readInt32BE(at + BATCH.RECORD_COUNT);
    at += size;
  }
  return count;
}
