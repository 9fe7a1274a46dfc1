import { Connection } from '@tributary/client';
import { Metadata, type ResponseOf } from '@tributary/protocol';
import { startBroker, tempDir, type BrokerProcess } from './broker-process';
import { startRedis, startRedisSentinels, type RedisProcess, type RedisSentinelGroup } from './redis-process';

/** Settings that make failures show within seconds in tests (Kafka's defaults are 9 s and 30 s). */
export const FAST_FAILOVER = [
  'broker.session.timeout.ms=3000',
  'broker.heartbeat.interval.ms=300',
  'replica.lag.time.max.ms=3000',
  'replica.fetch.backoff.ms=200',
  'redis.reconcile.interval.ms=2000',
  'controlled.shutdown.retry.backoff.ms=3000',
];

export interface ClusterNode {
  readonly nodeId: number;
  readonly dataDir: string;
  /** The running process; replaced by restart(). */
  process: BrokerProcess;
  readonly port: number;
  readonly alive: boolean;
}

export interface ClusterOptions {
  readonly brokers: number;
  readonly clusterId?: string;
  /** broker.rack of each broker, in node id order. */
  readonly racks?: readonly string[];
  /** KEY=VALUE settings for every broker. */
  readonly settings?: readonly string[];
  /** Command-line flags for every broker (e.g. --metrics-listen 127.0.0.1:0). */
  readonly flags?: readonly string[];
  /** Coordinate through a primary with replicas that Sentinels fail over, not a lone Redis. */
  readonly sentinels?: boolean;
  /** The data dir of some brokers by node id (a small disk); a new temporary dir for the others. */
  readonly dataDirs?: Readonly<Record<number, string>>;
}

export interface TestCluster {
  /** The lone Redis, or the first primary of the Sentinel group. */
  readonly redis: RedisProcess;
  readonly sentinels: RedisSentinelGroup | null;
  readonly clusterId: string;
  readonly nodes: ClusterNode[];
  readonly bootstrap: string;
  node(id: number): ClusterNode;
  /** Starts a stopped or killed broker again on its port and data dir. */
  restart(id: number): Promise<void>;
  kill9(id: number): Promise<void>;
  /** Metadata from the first live broker that answers, or from broker `fromNode` only. */
  metadata(topics?: string[] | null, fromNode?: number): Promise<ResponseOf<typeof Metadata>>;
  /** Polls `check` every 100 ms until it returns a value (not undefined), failing after timeoutMs. */
  waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/** A Redis and N broker processes of one cluster, each with its own data dir and port. */
export async function startCluster(options: ClusterOptions): Promise<TestCluster> {
  const sentinels = options.sentinels ? await startRedisSentinels() : null;
  const redis = sentinels?.servers[0] ?? (await startRedis());
  const clusterId = options.clusterId ?? `test-${Math.random().toString(36).slice(2, 8)}`;
  const settings = [...FAST_FAILOVER, ...(options.settings ?? [])];
  const args = (id: number): string[] => [
    '--cluster-id',
    clusterId,
    ...(sentinels === null
      ? ['--redis', redis.url]
      : ['--redis-sentinels', sentinels.sentinels, '--redis-sentinel-master', sentinels.master]),
    ...(options.racks ? ['--set', `broker.rack=${options.racks[id - 1]}`] : []),
    ...settings.flatMap((s) => ['--set', s]),
    ...(options.flags ?? []),
  ];
  const nodes: ClusterNode[] = [];
  for (let id = 1; id <= options.brokers; id++) {
    const dataDir = options.dataDirs?.[id] ?? tempDir(`node${id}`);
    const process = await startBroker({ nodeId: id, dataDir, extraArgs: args(id) });
    const node: ClusterNode = {
      nodeId: id,
      dataDir,
      process,
      port: process.port,
      get alive() {
        return this.process.child.exitCode === null && this.process.child.signalCode === null;
      },
    };
    nodes.push(node);
  }
  const cluster: TestCluster = {
    redis,
    sentinels,
    clusterId,
    nodes,
    get bootstrap() {
      return nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
    },
    node(id) {
      return nodes[id - 1];
    },
    async restart(id) {
      const node = nodes[id - 1];
      node.process = await startBroker({
        nodeId: id,
        dataDir: node.dataDir,
        port: node.port,
        extraArgs: args(id),
      });
    },
    async kill9(id) {
      await nodes[id - 1].process.kill9();
    },
    async metadata(topics = null, fromNode?: number) {
      let last: unknown = null;
      for (const n of nodes.filter((x) => x.alive && (fromNode === undefined || x.nodeId === fromNode))) {
        const conn = new Connection({ host: '127.0.0.1', port: n.port, requestTimeoutMs: 5000 });
        try {
          await conn.connect();
          return await conn.request(Metadata, {
            topics: topics === null ? null : topics.map((name) => ({ name })),
            allowAutoTopicCreation: false,
            includeTopicAuthorizedOperations: false,
          });
        } catch (err) {
          last = err;
        } finally {
          conn.close();
        }
      }
      throw new Error(`no broker answered Metadata: ${String(last)}`);
    },
    async waitFor(what, check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Error | undefined;
      while (Date.now() < deadline) {
        try {
          const v = await check();
          if (v !== undefined) return v;
        } catch (err) {
          last = err as Error;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.process.stop()));
      await (sentinels ?? redis).stop();
    },
  };
  return cluster;
}

/** A broker's output since it started, for assertion messages. */
export function outputs(cluster: TestCluster): string {
  return cluster.nodes.map((n) => `--- broker ${n.nodeId}\n${n.process.output()}`).join('\n');
}
