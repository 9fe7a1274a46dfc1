import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  Broker,
  ConfigError,
  nestBrokerLogger,
  parseBrokerConfig,
  type BrokerConfig,
} from '@tributary/broker';
import { ConsoleModule, mirrorFlowSource, singleClusterConfig } from '@tributary/console';
import { MetricsRegistry } from '@tributary/metrics';
import {
  describeRedis,
  Mirror,
  MirrorConfigError,
  parseMirrorConfig,
  type MirrorConfig,
  type RedisEndpoint,
} from '@tributary/mirror';
import { brokerLevelLogKeys } from '@tributary/storage';
import { readYaml } from '../config-file';
import { takeLogSettings, type LogSettings } from '../logging/log-settings';
import { activeLogger } from '../logging/logger';
import { PrivateRedis } from './redis-server';
import { SampleTraffic } from './sample-traffic';

export interface DemoConfig {
  readonly file: string;
  readonly brokers: readonly { cluster: string; config: BrokerConfig }[];
  readonly mirror: MirrorConfig;
  readonly producerClusters: readonly string[];
  readonly producerTopic: string;
  readonly recordsPerSecond: number;
  readonly consumerGroup: string | null;
  readonly consoleHost: string;
  readonly consolePort: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads a topology file (config/demo.yaml): brokers to host, clusters, flows, sample traffic; and its log settings. */
export function loadDemoConfig(file: string): { config: DemoConfig; log: Partial<LogSettings> } {
  const { log, rest: doc } = takeLogSettings(
    readYaml(file, (key, problem) => new MirrorConfigError(file, key, problem)),
    file,
  );
  const mirror = parseMirrorConfig(doc, file);
  const top = doc as Obj;
  const brokersDoc = top.brokers ?? [];
  if (!Array.isArray(brokersDoc))
    throw new MirrorConfigError(file, 'brokers', 'must be a list of broker settings');
  const brokers = brokersDoc.map((raw: unknown, i: number) => {
    const key = `brokers[${i}]`;
    if (!isObj(raw)) throw new MirrorConfigError(file, key, 'must be a map of broker settings');
    const { cluster, ...values } = raw;
    if (typeof cluster !== 'string' || !mirror.clusters.has(cluster)) {
      throw new MirrorConfigError(
        file,
        `${key}.cluster`,
        `must name one of the clusters (${[...mirror.clusters.keys()].join(', ')})`,
      );
    }
    try {
      const config = parseBrokerConfig(
        [{ source: `${file}: ${key}`, values: { 'cluster.id': cluster, ...values } }],
        brokerLevelLogKeys(),
      );
      return { cluster, config };
    } catch (err) {
      if (err instanceof ConfigError)
        throw new MirrorConfigError(file, `${key}.${err.key}`, err.message.split(': ').slice(2).join(': '));
      throw err;
    }
  });
  const demo = isObj(top.demo) ? top.demo : {};
  const list = (v: unknown): string[] =>
    Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(',').map((s) => s.trim()) : [];
  const producerClusters = list(demo['producer.clusters']);
  for (const c of producerClusters) {
    if (!mirror.clusters.has(c))
      throw new MirrorConfigError(file, 'demo.producer.clusters', `unknown cluster "${c}"`);
  }
  const consoleDoc = isObj(top.console) ? top.console : {};
  // A name given as a map or a list would otherwise become "[object Object]".
  const text = (section: string, doc: Obj, key: string, fallback: string): string => {
    const v = doc[key] ?? fallback;
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new MirrorConfigError(file, `${section}.${key}`, 'must be a string');
    return String(v);
  };
  const config = {
    file,
    brokers,
    mirror,
    producerClusters,
    producerTopic: text('demo', demo, 'producer.topic', 'orders'),
    recordsPerSecond: Number(demo['producer.records.per.second'] ?? 20),
    consumerGroup: demo['consumer.group'] === undefined ? null : text('demo', demo, 'consumer.group', ''),
    consoleHost: text('console', consoleDoc, 'host', '127.0.0.1'),
    consolePort: Number(consoleDoc.port ?? 8080),
  };
  return { config, log };
}

export const DEMO_CONFIG = Symbol('DEMO_CONFIG');
export const DEMO_PARTS = Symbol('DEMO_PARTS');

/** What the demo's services share: the replicator (started by DemoService) and the metrics its brokers report. */
export interface DemoParts {
  readonly mirror: Mirror;
  readonly registry: MetricsRegistry;
  redis: RedisEndpoint;
}

/**
 * Runs a whole topology in one process: the brokers of every local cluster, a private
 * redis-server when no Redis is configured, the replicator (worker and flow managers), and
 * the sample traffic. The same code paths as separate processes: each broker listens on its
 * own port, the replicator reaches them through the Kafka protocol.
 */
@Injectable()
export class DemoService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('demo');
  private readonly brokers: Broker[] = [];
  private readonly redis = new PrivateRedis();
  private traffic: SampleTraffic | null = null;

  constructor(
    @Inject(DEMO_CONFIG) private readonly config: DemoConfig,
    @Inject(DEMO_PARTS) private readonly parts: DemoParts,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    for (const b of c.brokers) {
      const broker = new Broker(b.config, nestBrokerLogger(`${b.cluster}/broker-${b.config.nodeId}`), {
        registry: this.parts.registry,
        loggerLevels: activeLogger() ?? undefined,
      });
      const [address] = await broker.start();
      this.brokers.push(broker);
      this.logger.log(`cluster ${b.cluster}: broker ${b.config.nodeId} on ${address.host}:${address.port}`);
    }
    this.parts.redis = c.mirror.redis ?? { url: await this.redis.start('./var/demo/redis') };
    await this.parts.mirror.start();
    const bootstrapOf = (alias: string): string => c.mirror.clusters.get(alias)?.bootstrapServers as string;
    this.traffic = new SampleTraffic(
      c.producerClusters.map((alias) => ({ alias, bootstrap: bootstrapOf(alias) })),
      c.producerTopic,
      c.recordsPerSecond,
      c.consumerGroup,
    );
    await this.traffic.start();
    this.logger.log(
      `flows: ${c.mirror.flows.map((f) => f.name).join(', ')}; redis ${describeRedis(this.parts.redis)}`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.traffic?.stop();
    await this.parts.mirror.stop();
    for (const b of this.brokers) await b.stop();
    await this.redis.stop();
  }
}

/**
 * The demo as one Nest application: its brokers, Redis, replicator and traffic, and the
 * console (dashboard, REST API, metrics) over every cluster and flow, on one HTTP port.
 */
@Module({})
export class DemoModule {
  static forRoot(config: DemoConfig): DynamicModule {
    const registry = new MetricsRegistry();
    registry.addProcessMetrics();
    const parts = { registry, redis: { url: '' } } as {
      registry: MetricsRegistry;
      redis: RedisEndpoint;
      mirror: Mirror;
    };
    parts.mirror = new Mirror(config.mirror, () => parts.redis, new Logger('mirror'));
    const clusters = [...config.mirror.clusters.values()].map((c) => ({
      ...singleClusterConfig(c.alias, c.bootstrapServers),
      datacenter: c.datacenter,
    }));
    return {
      module: DemoModule,
      imports: [
        ConsoleModule.forRoot({
          clusters,
          metrics: registry,
          flows: mirrorFlowSource(() => parts.mirror.control),
        }),
      ],
      providers: [
        { provide: DEMO_CONFIG, useValue: config },
        { provide: DEMO_PARTS, useValue: parts },
        DemoService,
      ],
      exports: [DemoService],
    };
  }
}
