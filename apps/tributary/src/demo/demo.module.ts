import fs from 'node:fs';
import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { Broker, ConfigError, parseBrokerConfig, type BrokerConfig } from '@tributary/broker';
import { Mirror, MirrorConfigError, parseMirrorConfig, type MirrorConfig } from '@tributary/mirror';
import { brokerLevelLogKeys } from '@tributary/storage';
import { parse } from 'yaml';
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
  readonly consolePort: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads a topology file (config/demo.yaml): brokers to host, clusters, flows, sample traffic. */
export function loadDemoConfig(file: string): DemoConfig {
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MirrorConfigError(file, '(file)', (err as Error).message.split('\n')[0]);
  }
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
  return {
    file,
    brokers,
    mirror,
    producerClusters,
    producerTopic: String(demo['producer.topic'] ?? 'orders'),
    recordsPerSecond: Number(demo['producer.records.per.second'] ?? 20),
    consumerGroup: demo['consumer.group'] === undefined ? null : String(demo['consumer.group']),
    consolePort: Number(consoleDoc.port ?? 8080),
  };
}

export const DEMO_CONFIG = Symbol('DEMO_CONFIG');

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
  private mirrorInstance: Mirror | null = null;
  private traffic: SampleTraffic | null = null;

  constructor(@Inject(DEMO_CONFIG) private readonly config: DemoConfig) {}

  get mirror(): Mirror | null {
    return this.mirrorInstance;
  }

  async onApplicationBootstrap(): Promise<void> {
    const c = this.config;
    for (const b of c.brokers) {
      const broker = new Broker(b.config, new Logger(`${b.cluster}/broker-${b.config.nodeId}`));
      const [address] = await broker.start();
      this.brokers.push(broker);
      this.logger.log(`cluster ${b.cluster}: broker ${b.config.nodeId} on ${address.host}:${address.port}`);
    }
    const redisUrl = c.mirror.redis ?? (await this.redis.start('./var/demo/redis'));
    this.mirrorInstance = new Mirror(c.mirror, redisUrl, new Logger('mirror'));
    await this.mirrorInstance.start();
    const bootstrapOf = (alias: string): string => c.mirror.clusters.get(alias)?.bootstrapServers as string;
    this.traffic = new SampleTraffic(
      c.producerClusters.map((alias) => ({ alias, bootstrap: bootstrapOf(alias) })),
      c.producerTopic,
      c.recordsPerSecond,
      c.consumerGroup,
    );
    await this.traffic.start();
    this.logger.log(`flows: ${c.mirror.flows.map((f) => f.name).join(', ')}; redis ${redisUrl}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.traffic?.stop();
    await this.mirrorInstance?.stop();
    for (const b of this.brokers) await b.stop();
    await this.redis.stop();
  }
}

@Module({})
export class DemoModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: DemoModule,
      providers: [{ provide: DEMO_CONFIG, useValue: config }, DemoService],
      exports: [DemoService],
    };
  }
}
