import fs from 'node:fs';
import type { MetricsRegistry } from '@tributary/metrics';
import { LogManager } from '@tributary/storage';
import type { BrokerContext, BrokerLogger } from './broker-context';
import { BrokerMetrics } from './broker-metrics';
import type { BrokerConfig } from './config/broker-config';
import { apiVersionsHandler } from './handlers/api-versions.handler';
import { adminHandlers } from './handlers/admin-handlers';
import { describeClusterHandler } from './handlers/describe-cluster.handler';
import { fetchHandler } from './handlers/fetch.handler';
import { initProducerIdHandler } from './handlers/init-producer-id.handler';
import { GroupCoordinator } from './group/group-coordinator';
import { groupHandlers } from './group/group-handlers';
import { GroupStore, OFFSETS_TOPIC } from './group/group-store';
import { listOffsetsHandler } from './handlers/list-offsets.handler';
import { metadataHandler } from './handlers/metadata.handler';
import { produceHandler } from './handlers/produce.handler';
import { LocalCluster } from './local-cluster';
import { loadOrCreateMetaProperties } from './meta-properties';
import { LocalProducerIdManager } from './producer-id-manager';
import { KafkaServer, type ListenAddress } from './network/kafka-server';
import { RequestRouter } from './network/request-router';
import { FetchWaiters } from './replica/fetch-waiters';
import { TopicService } from './topic-service';

/** One broker: its logs, its Kafka listeners and the handlers behind them. */
export class Broker {
  private logs: LogManager | null = null;
  private readonly servers: KafkaServer[] = [];
  private readonly waiters = new FetchWaiters();
  private boundAddresses: ListenAddress[] = [];
  private context: BrokerContext | null = null;
  private coordinator: GroupCoordinator | null = null;
  private brokerMetrics: BrokerMetrics | null = null;

  /** With a registry, the broker registers its metrics there (labelled by cluster id and node id). */
  constructor(
    readonly config: BrokerConfig,
    private readonly logger: BrokerLogger,
    private readonly registry?: MetricsRegistry,
  ) {}

  get metrics(): BrokerMetrics | null {
    return this.brokerMetrics;
  }

  get addresses(): readonly ListenAddress[] {
    return this.boundAddresses;
  }

  get clusterId(): string {
    if (this.context === null) throw new Error('broker is not started');
    return this.context.cluster.clusterId;
  }

  async start(): Promise<readonly ListenAddress[]> {
    const config = this.config;
    fs.mkdirSync(config.logDirs, { recursive: true });
    const { clusterId } = loadOrCreateMetaProperties(config.logDirs, config.nodeId, config.clusterId);
    const logs = new LogManager({
      dataDir: config.logDirs,
      brokerConfig: config.values,
      retentionCheckIntervalMs: config.retentionCheckIntervalMs,
      logger: this.logger,
    });
    logs.open();
    this.logs = logs;
    const cluster = new LocalCluster(config, clusterId);
    if (this.registry !== undefined)
      this.brokerMetrics = new BrokerMetrics(this.registry, { cluster: clusterId, broker: config.nodeId });
    const ctx: BrokerContext = {
      config,
      logs,
      waiters: this.waiters,
      cluster,
      topics: new TopicService(config, logs, () => [config.nodeId]),
      logger: this.logger,
      metrics: this.brokerMetrics ?? undefined,
    };
    this.context = ctx;
    const store = new GroupStore({
      logs,
      config: config.group,
      logger: this.logger,
      leaderEpoch: (p) => ctx.cluster.leadership(OFFSETS_TOPIC, p).leaderEpoch,
      onAppend: (p) => this.waiters.notify(FetchWaiters.key(OFFSETS_TOPIC, p)),
    });
    const coordinator = new GroupCoordinator({ config: config.group, store, logger: this.logger });
    coordinator.startup();
    this.coordinator = coordinator;
    const router = new RequestRouter(this.logger, this.brokerMetrics ?? undefined);
    router
      .register(apiVersionsHandler(() => router.advertisedApis()))
      .register(metadataHandler(ctx))
      .register(produceHandler(ctx))
      .register(fetchHandler(ctx))
      .register(listOffsetsHandler(ctx))
      .register(describeClusterHandler(ctx))
      .register(initProducerIdHandler(ctx, new LocalProducerIdManager(config.logDirs, config.nodeId)));
    for (const handler of adminHandlers(ctx)) router.register(handler);
    for (const handler of groupHandlers(ctx, coordinator, store)) router.register(handler);
    for (const listener of config.listeners) {
      const server = new KafkaServer(router, config.socketRequestMaxBytes);
      this.boundAddresses.push(await server.listen({ host: listener.host, port: listener.port }));
      this.servers.push(server);
    }
    return this.boundAddresses;
  }

  /** Clean shutdown: stop accepting, answer in-flight requests, flush and close every segment. */
  async stop(): Promise<void> {
    this.waiters.close();
    this.coordinator?.shutdown();
    this.coordinator = null;
    await Promise.all(this.servers.map((s) => s.close()));
    this.servers.length = 0;
    this.logs?.close();
    this.logs = null;
  }
}
