import fs from 'node:fs';
import type { MetricsRegistry } from '@tributary/metrics';
import { LogManager } from '@tributary/storage';
import type { BrokerContext, BrokerLogger, ClusterMembership, MembershipFactory } from './broker-context';
import { BrokerMetrics } from './broker-metrics';
import type { BrokerConfig } from './config/broker-config';
import type { TlsServerSettings } from './config/security-config';
import { DynamicBrokerConfig, type ConfigChange } from './config/dynamic-broker-config';
import { alterReplicaLogDirsHandler } from './handlers/alter-replica-log-dirs.handler';
import { describeLogDirsHandler } from './handlers/describe-log-dirs.handler';
import { alterClientQuotasHandler } from './handlers/alter-client-quotas.handler';
import { alterConfigsHandler } from './handlers/alter-configs.handler';
import { alterPartitionReassignmentsHandler } from './handlers/alter-partition-reassignments.handler';
import { createPartitionsHandler } from './handlers/create-partitions.handler';
import { createTopicsHandler } from './handlers/create-topics.handler';
import { deleteRecordsHandler } from './handlers/delete-records.handler';
import { deleteTopicsHandler } from './handlers/delete-topics.handler';
import { describeClientQuotasHandler } from './handlers/describe-client-quotas.handler';
import { describeConfigsHandler } from './handlers/describe-configs.handler';
import { electLeadersHandler } from './handlers/elect-leaders.handler';
import { incrementalAlterConfigsHandler } from './handlers/incremental-alter-configs.handler';
import { listPartitionReassignmentsHandler } from './handlers/list-partition-reassignments.handler';
import { apiVersionsHandler } from './handlers/api-versions.handler';
import { describeClusterHandler } from './handlers/describe-cluster.handler';
import { fetchHandler } from './handlers/fetch.handler';
import { initProducerIdHandler } from './handlers/init-producer-id.handler';
import { mirrorProduceHandler } from './handlers/mirror-produce.handler';
import { GroupCoordinator } from './group/group-coordinator';
import { groupHandlers } from './group/group-handlers';
import { GroupStore, OFFSETS_TOPIC } from './group/group-store';
import { listOffsetsHandler } from './handlers/list-offsets.handler';
import { metadataHandler } from './handlers/metadata.handler';
import { offsetForLeaderEpochHandler } from './handlers/offset-for-leader-epoch.handler';
import { produceHandler } from './handlers/produce.handler';
import { localMembership } from './local-cluster';
import { loadOrCreateMetaProperties } from './meta-properties';
import { KafkaServer, type ListenAddress } from './network/kafka-server';
import { RequestRouter } from './network/request-router';
import { FetchWaiters } from './replica/fetch-waiters';
import { ReplicaManager } from './replica/replica-manager';
import { securityHandlers } from './security/security-handlers';
import { describeProducersHandler } from './handlers/describe-producers.handler';
import { updateFeaturesHandler } from './handlers/update-features.handler';
import { writeTxnMarkersHandler } from './handlers/write-txn-markers.handler';
import type { LoggerLevels } from './logger-levels';
import { SecurityManager } from './security/security-manager';
import { ClientQuotas } from './quota/client-quotas';
import { TRANSACTION_STATE_TOPIC } from './txn/transaction-log';
import { TransactionStateManager } from './txn/transaction-state-manager';
import { TransactionMarkerChannelManager } from './txn/transaction-marker-channel-manager';
import { TransactionCoordinator } from './txn/transaction-coordinator';
import { txnHandlers } from './txn/txn-handlers';
import { transactionVerifier } from './txn/transaction-verifier';
import type { TransactionVerifier } from './replica/replica-manager';

export interface BrokerOptions {
  /** Where the broker registers its metrics (labelled by cluster id and node id); none when left out. */
  readonly registry?: MetricsRegistry;
  /** How the broker joins a replicated cluster (libs/cluster); a lone broker when left out. */
  readonly membership?: MembershipFactory;
  /** The process' loggers, which BROKER_LOGGER resources show and change; none when left out. */
  readonly loggerLevels?: LoggerLevels;
}

/** One broker: its logs, its Kafka listeners and the handlers behind them. */
export class Broker {
  private logs: LogManager | null = null;
  private readonly servers = new Map<string, KafkaServer>();
  private readonly waiters = new FetchWaiters();
  private boundAddresses: ListenAddress[] = [];
  private context: BrokerContext | null = null;
  private coordinator: GroupCoordinator | null = null;
  private txnCoordinator: TransactionCoordinator | null = null;
  /** KIP-890's check of transactional produce, on while transaction.partition.verification.enable is. */
  private verifier: TransactionVerifier | null = null;
  private replicas: ReplicaManager | null = null;
  private membership: ClusterMembership | null = null;
  private brokerMetrics: BrokerMetrics | null = null;
  private quotas: ClientQuotas | null = null;

  /** With a registry, the broker registers its metrics there (labelled by cluster id and node id). */
  constructor(
    readonly config: BrokerConfig,
    private readonly logger: BrokerLogger,
    private readonly options: BrokerOptions = {},
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

  /** The handlers' shared context, once started (tests and tools look inside). */
  get ctx(): BrokerContext | null {
    return this.context;
  }

  async start(): Promise<readonly ListenAddress[]> {
    const config = this.config;
    fs.mkdirSync(config.logDirs, { recursive: true });
    const { clusterId } = loadOrCreateMetaProperties(config.logDirs, config.nodeId, config.clusterId);
    const factory = this.options.membership ?? localMembership;
    const logs = new LogManager({
      dataDir: config.logDirs,
      brokerConfig: config.values,
      retentionCheckIntervalMs: config.retentionCheckIntervalMs,
      logger: this.logger,
      highWatermarkFollowsLogEnd: this.options.membership === undefined,
    });
    logs.open();
    this.logs = logs;
    if (this.options.registry !== undefined)
      this.brokerMetrics = new BrokerMetrics(this.options.registry, {
        cluster: clusterId,
        broker: config.nodeId,
      });
    const metrics = this.brokerMetrics;
    const replicas = new ReplicaManager({
      localId: config.nodeId,
      logs,
      waiters: this.waiters,
      logger: this.logger,
      replicaLagTimeMaxMs: config.replication.replicaLagTimeMaxMs,
      onIsrChange:
        metrics === null
          ? undefined
          : (expanded, shrunk) => {
              if (expanded > 0) metrics.isrExpands.inc(expanded);
              if (shrunk > 0) metrics.isrShrinks.inc(shrunk);
            },
    });
    this.replicas = replicas;
    const membership = factory({ config, clusterId, logs, replicas, logger: this.logger });
    this.membership = membership;
    // ACLs, credentials and dynamic configs are loaded before any listener accepts a client.
    const security = new SecurityManager(config.security, membership.securityStore, this.logger);
    await security.start();
    const dynamicConfig = new DynamicBrokerConfig(config, membership.brokerConfigStore, this.logger);
    dynamicConfig.addReconfigurable((change) => this.reconfigure(dynamicConfig, change));
    await dynamicConfig.start();
    const quotas = new ClientQuotas(config.quotaWindow, membership.quotaStore, this.logger);
    await quotas.start();
    this.quotas = quotas;
    const ctx: BrokerContext = {
      config,
      dynamicConfig,
      loggerLevels: this.options.loggerLevels,
      logs,
      waiters: this.waiters,
      cluster: membership.view,
      replicas,
      topics: membership.topics,
      controller: membership.controller,
      logger: this.logger,
      security,
      quotas,
      metrics: this.brokerMetrics ?? undefined,
    };
    this.context = ctx;
    const store = new GroupStore({
      logs,
      config: config.group,
      logger: this.logger,
      numPartitions: () => ctx.cluster.topic(OFFSETS_TOPIC)?.numPartitions,
      ensureTopic: () =>
        ctx.topics.ensureInternalTopic(
          OFFSETS_TOPIC,
          config.group.offsetsTopicNumPartitions,
          config.group.offsetsTopicReplicationFactor,
          GroupStore.topicConfigs(config.group),
        ),
      leaderEpoch: (p) => replicas.get(OFFSETS_TOPIC, p)?.leaderEpoch ?? -1,
      onAppend: (p) => this.waiters.notify(FetchWaiters.key(OFFSETS_TOPIC, p)),
    });
    const coordinator = new GroupCoordinator({ config: config.group, store, logger: this.logger });
    // A lone broker coordinates every group; a cluster's broker those of the partitions it leads.
    coordinator.startup({ ownAllPartitions: !membership.replicated });
    replicas.onLeadershipChange((topic, partition, isLeader) => {
      if (topic !== OFFSETS_TOPIC) return;
      if (isLeader) coordinator.onElection(partition);
      else coordinator.onResignation(partition);
    });
    this.coordinator = coordinator;
    replicas.onTransactionMarker((m) =>
      coordinator.onTransactionMarker(m.topic, m.partition, m.producerId, m.committed),
    );
    const txnConfig = config.transaction;
    const txnState = new TransactionStateManager({
      config: txnConfig,
      logs,
      replicas,
      logger: this.logger,
      numPartitions: () => ctx.cluster.topic(TRANSACTION_STATE_TOPIC)?.numPartitions,
      ensureTopic: () => {
        // min.insync.replicas cannot exceed the replicas the topic gets (at most one per broker).
        const replicationFactor = Math.min(
          txnConfig.stateLogReplicationFactor,
          Math.max(1, ctx.cluster.brokers(null).length),
        );
        return ctx.topics.ensureInternalTopic(
          TRANSACTION_STATE_TOPIC,
          txnConfig.stateLogNumPartitions,
          replicationFactor,
          TransactionStateManager.topicConfigs(txnConfig, replicationFactor),
        );
      },
    });
    const txnCoordinator = new TransactionCoordinator({
      config: txnConfig,
      stateManager: txnState,
      markers: new TransactionMarkerChannelManager({
        localId: config.nodeId,
        cluster: ctx.cluster,
        stateManager: txnState,
        writeLocal: async (markers) =>
          (await replicas.writeTxnMarkers(markers)).map((m) => [...m.partitions]),
        sender: membership.txnChannel ?? null,
        logger: this.logger,
      }),
      producerIds: membership.producerIds,
      logger: this.logger,
    });
    txnCoordinator.startup(!membership.replicated);
    replicas.onLeadershipChange((topic, partition, isLeader) => {
      if (topic !== TRANSACTION_STATE_TOPIC) return;
      if (isLeader) txnCoordinator.onElection(partition);
      else txnCoordinator.onResignation(partition);
    });
    this.txnCoordinator = txnCoordinator;
    this.verifier = transactionVerifier({
      localId: config.nodeId,
      cluster: ctx.cluster,
      coordinator: txnCoordinator,
      channel: membership.txnChannel ?? null,
      logger: this.logger,
    });
    replicas.useTransactionVerifier(
      dynamicConfig.current.transaction.partitionVerificationEnable ? this.verifier : null,
    );
    const router = new RequestRouter(this.logger, this.brokerMetrics ?? undefined, quotas.request);
    // One handler per API (handlers/<api>.handler.ts); the group, transaction and security
    // subsystems register their APIs together.
    router
      .register(apiVersionsHandler(() => router.advertisedApis()))
      .register(metadataHandler(ctx))
      .register(produceHandler(ctx))
      .register(fetchHandler(ctx))
      .register(listOffsetsHandler(ctx))
      .register(offsetForLeaderEpochHandler(ctx))
      .register(describeClusterHandler(ctx))
      .register(mirrorProduceHandler(ctx))
      .register(initProducerIdHandler(ctx, membership.producerIds, txnCoordinator))
      .register(createTopicsHandler(ctx))
      .register(deleteTopicsHandler(ctx))
      .register(createPartitionsHandler(ctx))
      .register(describeConfigsHandler(ctx))
      .register(alterConfigsHandler(ctx))
      .register(incrementalAlterConfigsHandler(ctx))
      .register(deleteRecordsHandler(ctx))
      .register(electLeadersHandler(ctx))
      .register(alterPartitionReassignmentsHandler(ctx))
      .register(listPartitionReassignmentsHandler(ctx))
      .register(describeProducersHandler(ctx))
      .register(updateFeaturesHandler(ctx))
      .register(writeTxnMarkersHandler(ctx))
      .register(describeClientQuotasHandler(ctx))
      .register(alterClientQuotasHandler(ctx))
      .register(describeLogDirsHandler(ctx))
      .register(alterReplicaLogDirsHandler(ctx));
    for (const handler of groupHandlers(ctx, coordinator, store, txnCoordinator)) router.register(handler);
    for (const handler of txnHandlers(ctx, txnCoordinator, store)) router.register(handler);
    for (const handler of securityHandlers(ctx)) router.register(handler);
    for (const listener of config.listeners) {
      const server = new KafkaServer(router, config.socketRequestMaxBytes, {
        security: dynamicConfig.current.security.listeners.get(listener.name)!,
        manager: security,
        principalMapper: config.security.principalMapper,
        saslServerMaxReceiveSize: config.security.saslServerMaxReceiveSize,
        logger: this.logger,
      });
      this.boundAddresses.push(
        await server.listen({ host: listener.host, port: listener.port, name: listener.name }),
      );
      this.servers.set(listener.name, server);
    }
    await membership.start(this.boundAddresses);
    return this.boundAddresses;
  }

  /**
   * Applies new dynamic settings (Kafka's BrokerReconfigurables): topic defaults, the cleaner
   * and producer expiration in the logs; each TLS listener's certificate and settings, read
   * again when an update named them even if unchanged; the membership's replication throttle.
   */
  private reconfigure(dynamic: DynamicBrokerConfig, { previous, next, reloadListeners }: ConfigChange): void {
    if (JSON.stringify(previous.values) !== JSON.stringify(next.values))
      this.logs?.reconfigure(next.values, dynamic.layers);
    for (const [name, server] of this.servers) {
      const security = next.security.listeners.get(name);
      const before = previous.security.listeners.get(name);
      if (security?.tls === null || security === undefined) continue;
      if (reloadListeners.has(name) || !sameTls(before?.tls ?? null, security.tls)) {
        server.reconfigure(security);
        this.logger.log(`listener ${name}: TLS settings reloaded`);
      }
    }
    this.membership?.reconfigure?.(next);
    this.replicas?.useTransactionVerifier(
      next.transaction.partitionVerificationEnable ? this.verifier : null,
    );
  }

  /**
   * Clean shutdown: leadership moves away first (controlled shutdown, in a cluster), then the
   * listeners stop accepting, in-flight requests are answered, every segment is flushed and closed.
   */
  async stop(): Promise<void> {
    const membership = this.membership;
    this.membership = null;
    if (membership !== null) {
      try {
        await membership.shutdown();
      } catch (err) {
        this.logger.error(`leaving the cluster failed: ${(err as Error).stack ?? err}`);
      }
    }
    this.waiters.close();
    this.coordinator?.shutdown();
    this.txnCoordinator?.shutdown();
    this.txnCoordinator = null;
    this.quotas?.close();
    this.quotas = null;
    this.coordinator = null;
    this.replicas?.close();
    this.replicas = null;
    await Promise.all([...this.servers.values()].map((s) => s.close()));
    this.servers.clear();
    this.logs?.close();
    this.logs = null;
  }
}

function sameTls(a: TlsServerSettings | null, b: TlsServerSettings | null): boolean {
  if (a === null || b === null) return a === b;
  const bytes = (x: Buffer | null) => x?.toString('base64') ?? null;
  return (
    bytes(a.key) === bytes(b.key) &&
    bytes(a.cert) === bytes(b.cert) &&
    bytes(a.ca) === bytes(b.ca) &&
    a.passphrase === b.passphrase &&
    a.clientAuth === b.clientAuth &&
    a.minVersion === b.minVersion &&
    a.maxVersion === b.maxVersion &&
    a.ciphers === b.ciphers
  );
}
