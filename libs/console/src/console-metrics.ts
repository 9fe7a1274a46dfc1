import type { MetricFamily, Sample } from '@tributary/metrics';
import type { FlowDetail, FlowStatusSource } from './flows/flow-source';
import type { ClusterConnections } from './ops/cluster-connections';

/** How long one cluster may take to answer a scrape before it counts as down. */
const SCRAPE_TIMEOUT_MS = 5000;

function gauge(name: string, help: string, samples: Sample[]): MetricFamily {
  return { name, help, type: 'gauge', samples };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The families the console computes when scraped, from every configured cluster (through the
 * client, so they hold for clusters in other processes too): reachability, partitions under
 * their replication factor and without a leader, log end offsets, consumer lag per group and
 * partition (log end - committed); and from the flow source, mirror lag and latency.
 */
export async function collectConsoleMetrics(
  clusters: ClusterConnections,
  flows: FlowStatusSource,
): Promise<MetricFamily[]> {
  const up: Sample[] = [];
  const brokers: Sample[] = [];
  const partitions: Sample[] = [];
  const underReplicated: Sample[] = [];
  const offline: Sample[] = [];
  const endOffsets: Sample[] = [];
  const lag: Sample[] = [];
  const committed: Sample[] = [];
  const lagSum: Sample[] = [];
  await Promise.all(
    clusters.aliases().map(async (cluster) => {
      try {
        const snap = await withTimeout(
          clusters.get(cluster).snapshot(),
          SCRAPE_TIMEOUT_MS,
          `cluster ${cluster}`,
        );
        const s = snap.summary;
        up.push({ labels: { cluster }, value: s.reachable ? 1 : 0 });
        if (!s.reachable) return;
        brokers.push({ labels: { cluster }, value: s.brokers.filter((b) => b.alive).length });
        partitions.push({ labels: { cluster }, value: s.partitions });
        underReplicated.push({ labels: { cluster }, value: s.underReplicatedPartitions });
        offline.push({ labels: { cluster }, value: s.offlinePartitions });
        for (const o of snap.endOffsets)
          endOffsets.push({ labels: { cluster, topic: o.topic, partition: o.partition }, value: o.offset });
        for (const [group, list] of snap.groupLags) {
          let sum = 0;
          for (const p of list) {
            const labels = { cluster, group, topic: p.topic, partition: p.partition };
            if (p.committedOffset !== null) committed.push({ labels, value: p.committedOffset });
            if (p.lag === null) continue;
            lag.push({ labels, value: p.lag });
            sum += p.lag;
          }
          lagSum.push({ labels: { cluster, group }, value: sum });
        }
      } catch {
        up.push({ labels: { cluster }, value: 0 });
      }
    }),
  );
  return [
    gauge(
      'tributary_cluster_up',
      'Whether the console reached the cluster at this scrape (1) or not (0).',
      up,
    ),
    gauge('kafka_cluster_brokers', 'Brokers listed in the cluster’s Metadata.', brokers),
    gauge('kafka_cluster_partitions', 'Partitions of every topic, internal ones included.', partitions),
    gauge(
      'kafka_cluster_under_replicated_partitions',
      'Partitions whose ISR is smaller than their replica set.',
      underReplicated,
    ),
    gauge('kafka_cluster_offline_partitions', 'Partitions without a leader.', offline),
    gauge(
      'kafka_topic_partition_current_offset',
      'Log end offset per partition (non-internal topics).',
      endOffsets,
    ),
    gauge('kafka_consumergroup_current_offset', 'Committed offset per group and partition.', committed),
    gauge('kafka_consumergroup_lag', 'Log end offset minus committed offset, per group and partition.', lag),
    gauge('kafka_consumergroup_lag_sum', 'Total lag of a group.', lagSum),
    ...(await collectMirrorMetrics(flows)),
  ];
}

/**
 * The mirror's families, from the flow source: the console's share, and all a mirror worker
 * serves (with `mirrorFlowSource`, read from the flows' status in Redis).
 */
export async function collectMirrorMetrics(flows: FlowStatusSource): Promise<MetricFamily[]> {
  const ids = (await flows.listFlows()).map((f) => f.id);
  const [workers, details] = await Promise.all([
    flows.workers(),
    Promise.all(ids.map((id) => flows.describeFlow(id))).then((all) =>
      all.filter((d): d is FlowDetail => d !== null),
    ),
  ]);
  const list = details;
  const flowLabels = (f: { id: string; source: string; target: string }) => ({
    flow: f.id,
    source: f.source,
    target: f.target,
  });
  const partitionSamples = (pick: (p: FlowDetail['partitions'][number]) => number | null): Sample[] =>
    details.flatMap((f) =>
      f.partitions.flatMap((p) => {
        const v = pick(p);
        return v === null
          ? []
          : [{ labels: { ...flowLabels(f), topic: p.sourceTopic, partition: p.partition }, value: v }];
      }),
    );
  return [
    gauge('tributary_mirror_configured', 'Whether a replicator is attached to this console.', [
      { labels: {}, value: flows.configured ? 1 : 0 },
    ]),
    gauge(
      'tributary_mirror_flow_running',
      'Whether each mirror flow is running (1) or paused, failing or stopped (0).',
      list.map((f) => ({ labels: flowLabels(f), value: f.state === 'running' ? 1 : 0 })),
    ),
    gauge(
      'tributary_mirror_lag_records',
      'Records on the source not yet copied, per flow and source partition.',
      partitionSamples((p) => p.lagRecords),
    ),
    gauge(
      'tributary_mirror_lag_seconds',
      'Age of the oldest record not yet copied, per flow and source partition.',
      partitionSamples((p) => p.lagSeconds),
    ),
    gauge(
      'tributary_mirror_replication_latency_seconds',
      'Recent time from a record’s append on the source to its append on the target, per flow.',
      list.flatMap((f) =>
        f.replicationLatencyMs === null
          ? []
          : [{ labels: flowLabels(f), value: f.replicationLatencyMs / 1000 }],
      ),
    ),
    gauge(
      'tributary_mirror_records_per_second',
      'Records copied per second, per flow.',
      list.map((f) => ({ labels: flowLabels(f), value: f.throughput.recordsPerSecond })),
    ),
    gauge(
      'tributary_mirror_bytes_per_second',
      'Bytes copied per second, per flow.',
      list.map((f) => ({ labels: flowLabels(f), value: f.throughput.bytesPerSecond })),
    ),
    gauge(
      'tributary_mirror_partition_error',
      'Whether a source partition is stuck in an error state (1) until an operator acts, e.g. a batch larger than the target allows.',
      partitionSamples((p) => (p.state === 'error' ? 1 : 0)),
    ),
    gauge('tributary_mirror_workers', 'Mirror workers seen in the last 10 seconds.', [
      { labels: {}, value: workers.length },
    ]),
    gauge(
      'tributary_mirror_last_checkpoint_timestamp_seconds',
      'When each flow last checkpointed group offsets.',
      list.flatMap((f) =>
        f.lastCheckpoint === null ? [] : [{ labels: flowLabels(f), value: f.lastCheckpoint.at / 1000 }],
      ),
    ),
  ];
}
