import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import {
  producerIdBase,
  type BrokerConfig,
  type BrokerLogger,
  type ClusterMembership,
  type InterBrokerClientSecurity,
  type IsrProposal,
  type ListenAddress,
  type MembershipDeps,
  type PartitionState,
  type PartitionStateChannel,
  type RedisEndpoint,
  type ReplicaManager,
} from '@tributary/broker';
import type { SecurityOptions } from '@tributary/client';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { LogManager, PartitionLog } from '@tributary/storage';
import { ClusterMetadata } from './cluster-metadata';
import { ClusterTopics } from './cluster-topics';
import { Controller } from './controller';
import { RedisProducerIdManager } from './producer-ids';
import { describeRedis } from './redis/connect';
import { ClusterStore, type BrokerRegistration, type Change, type TopicRecord } from './redis/cluster-store';
import { ScriptError, ScriptRefusal } from './redis/scripts';
import { FetcherManager, ReplicationThrottle } from './replica-fetcher';
import { RedisQuotaStore } from './redis-quota-store';
import { RedisSecurityStore } from './redis-security-store';
import { RedisBrokerConfigStore } from './redis-broker-config-store';
import { InterBrokerTxnChannel } from './txn-broker-channel';

/** How long a broker waits for Redis at start before giving up. */
const REDIS_START_TIMEOUT_MS = 30_000;

/**
 * The addresses this broker registers, per listener: the advertised listener of that name,
 * else the bound one. host and port are the inter-broker listener's, where replica
 * fetchers connect; Metadata answers each client with the listener it came through.
 */
export function registeredAddress(
  config: BrokerConfig,
  addresses: readonly ListenAddress[],
): { host: string; port: number; endpoints: Map<string, { host: string; port: number }> } {
  const endpoints = new Map<string, { host: string; port: number }>();
  config.listeners.forEach((listener, i) => {
    const advertised = config.advertisedListeners?.find((a) => a.name === listener.name);
    const bound = addresses.find((a) => a.name === listener.name) ?? addresses[i];
    const host = advertised?.host ?? listener.host;
    const unspecified = host === '' || host === '0.0.0.0' || host === '::';
    endpoints.set(listener.name, {
      host: unspecified ? os.hostname() : host,
      port: advertised?.port ?? bound?.port ?? listener.port,
    });
  });
  const inter = endpoints.get(config.security.interBrokerListenerName) ?? [...endpoints.values()][0];
  return { host: inter.host, port: inter.port, endpoints };
}

/** The client side of the inter-broker listener: the CA, this broker's certificate, its SASL login. */
export function interBrokerSecurity(s: InterBrokerClientSecurity): SecurityOptions {
  const t = s.tls;
  return {
    ssl:
      t === null
        ? undefined
        : {
            ca: t.ca ?? undefined,
            cert: t.cert ?? undefined,
            key: t.key ?? undefined,
            passphrase: t.passphrase,
            ...(t.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
          },
    sasl: s.sasl ?? undefined,
  };
}

/**
 * A broker's membership of a replicated cluster coordinated through Redis: it registers
 * (renewed by heartbeats, re-registered after its registration expired or Redis lost it),
 * follows the cluster's state (change notifications, and a full read every
 * redis.reconcile.interval.ms and after every reconnect, so that a lost notification cannot
 * leave it stale), and gives each partition it holds the role that state says: leader, or
 * follower fetching from the leader. It may become the controller. On shutdown it asks for
 * leadership to move away first (controlled shutdown).
 */
export class ReplicatedCluster implements ClusterMembership, PartitionStateChannel {
  readonly replicated = true;
  readonly view: ClusterMetadata;
  readonly topics: ClusterTopics;
  readonly controller: Controller;
  readonly producerIds: RedisProducerIdManager;
  readonly securityStore: RedisSecurityStore;
  readonly brokerConfigStore: RedisBrokerConfigStore;
  readonly quotaStore: RedisQuotaStore;
  readonly txnChannel: InterBrokerTxnChannel;
  private readonly store: ClusterStore;
  private readonly throttle: ReplicationThrottle;
  private readonly fetchers: FetcherManager;
  private readonly config: BrokerConfig;
  private readonly logs: LogManager;
  private readonly replicas: ReplicaManager;
  private readonly logger: BrokerLogger;
  private readonly localId: number;
  private readonly incarnation = randomUUID();
  private registration: BrokerRegistration | null = null;
  private registered = false;
  private shuttingDown = false;
  private timers: NodeJS.Timeout[] = [];
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private closed = false;
  private readonly strays = new Set<string>();
  /** The marker of the cluster state this broker follows; null until it has read one. */
  private marker: string | null = null;
  /** Ids of deleted topics: the only topics whose local logs are deleted. */
  private readonly deletedIds = new Set<string>();
  private waitingForStateSince = 0;
  /** The log dirs an I/O error took offline (the one log dir, or none), as heartbeats report them. */
  private offlineLogDirs: readonly string[] = [];

  constructor(deps: MembershipDeps) {
    const { config, clusterId, logs, replicas, logger } = deps;
    const r = config.replication;
    if (r.redis === null) throw new Error('a replicated cluster needs redis.url or redis.sentinels');
    this.config = config;
    this.logs = logs;
    this.replicas = replicas;
    this.logger = logger;
    this.localId = config.nodeId;
    this.store = new ClusterStore({
      endpoint: r.redis,
      clusterId,
      logger,
      waitReplicas: r.redisWaitReplicas,
      waitTimeoutMs: r.redisWaitTimeoutMs,
    });
    this.view = new ClusterMetadata(clusterId);
    this.controller = new Controller({
      localId: this.localId,
      store: this.store,
      metadata: this.view,
      config: config.replication,
      resolveTopicConfig: (configs) => logs.resolveTopicConfig(configs),
      logger,
    });
    this.topics = new ClusterTopics({
      config,
      resolveTopicConfig: (configs) => logs.resolveTopicConfig(configs),
      store: this.store,
      metadata: this.view,
      logger,
      onTopicChanged: (record) => this.takeTopic(record),
      onTopicDeleted: (name, topicId) => {
        this.deletedIds.add(topicId);
        this.dropTopic(name);
      },
    });
    this.producerIds = new RedisProducerIdManager(this.store, producerIdBase(clusterId));
    this.securityStore = new RedisSecurityStore(this.store);
    this.brokerConfigStore = new RedisBrokerConfigStore(this.store);
    this.throttle = new ReplicationThrottle(config.replication.followerReplicationThrottledRate);
    this.quotaStore = new RedisQuotaStore(this.store);
    this.fetchers = new FetcherManager({
      localId: this.localId,
      security: interBrokerSecurity(config.security.interBroker),
      config: config.replication,
      metadata: this.view,
      throttle: this.throttle,
      logger,
    });
    this.txnChannel = new InterBrokerTxnChannel({
      localId: this.localId,
      security: interBrokerSecurity(config.security.interBroker),
      metadata: this.view,
      requestTimeoutMs: config.replication.replicaSocketTimeoutMs,
    });
    replicas.useStateChannel(this);
    logs.onLogDirFailure((dir) => this.onLogDirFailure(dir));
  }

  /**
   * The log dir failed (a full disk, one turned read-only): as Kafka's broker reports offline
   * dirs to the controller, the next heartbeat, sent now, records it in the registration; the
   * controller then treats every replica here as offline, moving leadership to the other
   * in-sync replicas and taking this broker out of the ISRs. The fetchers stop; the replicas
   * stay offline until the broker restarts with a working dir.
   */
  private onLogDirFailure(dir: string): void {
    this.offlineLogDirs = [path.resolve(dir)];
    for (const t of this.logs.topics()) {
      for (const [p] of this.logs.partitions(t.name)) this.fetchers.unfollow(t.name, p);
    }
    this.logger.error(`log dir ${dir} is offline: reporting it so that leadership moves to other replicas`);
    void this.heartbeat();
  }

  async start(addresses: readonly ListenAddress[]): Promise<void> {
    const { host, port, endpoints } = registeredAddress(this.config, addresses);
    this.registration = {
      id: this.localId,
      host,
      port,
      endpoints,
      rack: this.config.rack,
      incarnation: this.incarnation,
      shuttingDown: false,
      offlineLogDirs: [],
    };
    const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
    await this.store.connect(deadline);
    await this.store.subscribe((change) => this.onChange(change));
    this.store.onReady(() => {
      void this.heartbeat();
      this.refreshAll();
    });
    await this.register();
    await this.firstRefresh(deadline);
    const r = this.config.replication;
    this.every(r.brokerHeartbeatIntervalMs, () => void this.heartbeat());
    this.every(r.redisReconcileIntervalMs, () => this.refreshAll());
    this.controller.start();
    this.logger.log(
      `joined cluster ${this.view.clusterId} through redis (${describeRedis(r.redis as RedisEndpoint)}) as broker ${this.localId} at ${host}:${port}${this.config.rack === null ? '' : ` in rack ${this.config.rack}`}`,
    );
  }

  /**
   * The first full read, which on a new cluster also writes its state's marker: a Redis that
   * answers but cannot take writes yet (a primary whose replicas are still connecting, under
   * min-replicas-to-write) is waited for until the start deadline, not a reason to exit.
   */
  private async firstRefresh(deadline: number): Promise<void> {
    for (;;) {
      try {
        return await this.refresh();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.logger.warn(`reading the cluster state failed, retrying: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private every(ms: number, task: () => void): void {
    const t = setInterval(task, ms);
    t.unref();
    this.timers.push(t);
  }

  // ---- registration ------------------------------------------------------------------------

  private async register(): Promise<void> {
    const reg = this.registration;
    if (reg === null) return;
    try {
      await this.store.registerBroker(
        { ...reg, shuttingDown: false, offlineLogDirs: this.offlineLogDirs },
        this.config.replication.brokerSessionTimeoutMs,
      );
      const first = !this.registered;
      this.registered = true;
      if (first) {
        this.logger.log(`registered as broker ${this.localId}`);
        this.refreshAll();
      }
      if (this.shuttingDown) await this.heartbeat();
      await this.refreshBrokers();
    } catch (err) {
      this.registered = false;
      if (err instanceof ScriptRefusal && err.result === ScriptError.DuplicateRegistration) {
        this.logger.warn(
          `broker ${this.localId} is still registered by another process (or a previous run whose session has not expired); retrying`,
        );
      } else if (this.store.connected) {
        this.logger.warn(`registration failed: ${(err as Error).message}`);
      }
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.closed) return;
    if (!this.registered) {
      await this.register();
      return;
    }
    try {
      await this.store.heartbeat(
        this.localId,
        this.incarnation,
        this.config.replication.brokerSessionTimeoutMs,
        this.shuttingDown,
        this.offlineLogDirs,
      );
    } catch (err) {
      if (err instanceof ScriptRefusal) {
        this.logger.warn(`heartbeat refused (${(err as Error).message}); registering again`);
        this.registered = false;
        await this.register();
      }
    }
  }

  // ---- following the cluster's state ---------------------------------------------------------

  private onChange(change: Change): void {
    switch (change.kind) {
      case 'brokers':
        void this.refreshBrokers().catch(() => this.refreshAll());
        this.controller.poke();
        return;
      case 'controller':
        void this.store.readController().then(
          (lease) => this.view.setController(lease),
          () => this.refreshAll(),
        );
        this.controller.poke();
        return;
      case 'topic':
        void Promise.all([this.store.readTopic(change.topic), this.store.readDeletedTopics()]).then(
          ([record, deleted]) => {
            for (const id of deleted.keys()) this.deletedIds.add(id);
            if (record !== null) this.takeTopic(record);
            else this.topicGone(change.topic);
          },
          () => this.refreshAll(),
        );
        this.controller.poke();
        return;
      case 'acls':
      case 'credentials':
        this.securityStore.changed();
        return;
      case 'broker-configs':
        this.brokerConfigStore.changed();
        return;
      case 'quotas':
        this.quotaStore.changed();
        return;
      case 'partition':
        void this.store.readPartition(change.topic, change.partition).then(
          (state) => {
            if (state !== null && this.view.setPartition(change.topic, change.partition, state)) {
              this.applyPartition(change.topic, change.partition);
            }
          },
          () => this.refreshAll(),
        );
        return;
    }
  }

  private async refreshBrokers(): Promise<void> {
    this.view.setBrokers(await this.store.readBrokers());
  }

  /** A full read of the cluster's state, in the background. */
  private refreshAll(): void {
    if (this.closed) return;
    this.refresh().catch((err: unknown) => {
      if (this.store.connected)
        this.logger.warn(`reading the cluster state failed: ${(err as Error).message}`);
    });
  }

  /** A full read (coalesced: one at a time, once more if asked for meanwhile). */
  private refresh(): Promise<void> {
    if (this.refreshing !== null) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const [marker, brokers, controller, topics, deleted] = await Promise.all([
          this.store.readMarker(),
          this.store.readBrokers(),
          this.store.readController(),
          this.store.readTopics(),
          this.store.readDeletedTopics(),
        ]);
        if (this.closed) return;
        this.view.setBrokers(brokers);
        if (marker === null) {
          if (await this.stateMissing()) this.refreshAgain = true;
          continue;
        }
        if (this.marker !== null && marker !== this.marker) {
          this.logger.error(
            "the cluster's state in Redis was replaced by a new one (Redis lost it and it was not restored); topics not in it keep their local logs",
          );
        }
        this.marker = marker;
        this.view.setController(controller);
        for (const id of deleted.keys()) this.deletedIds.add(id);
        const names = new Set(topics.map((t) => t.name));
        for (const t of this.view.records()) {
          if (names.has(t.name)) continue;
          if (this.deletedIds.has(t.topicId)) this.dropTopic(t.name);
          else this.view.removeTopic(t.name);
        }
        for (const t of topics) this.takeTopic(t);
        this.securityStore.changed();
        this.brokerConfigStore.changed();
        this.quotaStore.changed();
        for (const local of this.logs.topics()) {
          if (names.has(local.name)) continue;
          if (this.deletedIds.has(local.topicId)) this.dropLocalTopic(local.name);
          else if (!this.strays.has(local.name)) {
            this.strays.add(local.name);
            this.logger.warn(
              `local topic ${local.name} is not in the cluster's state; its logs are left as they are`,
            );
          }
        }
      } while (this.refreshAgain && !this.closed);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /**
   * Redis has no state marker: a new cluster, or a Redis that lost its data (restarted
   * without persistence). A broker that followed the state writes back its last view of it;
   * a new broker with no logs starts a new state; a broker with logs but no view waits for
   * one that has it, for two session timeouts, then starts a new state (its logs are kept).
   * Returns whether the state should be read again.
   */
  private async stateMissing(): Promise<boolean> {
    if (this.marker !== null) {
      const restored = await this.store.restoreState(
        this.marker,
        this.view.records(),
        this.view.controllerEpoch,
        this.producerIds.reservedEnd,
        this.securityStore.lastView(),
        this.brokerConfigStore.lastView(),
        this.quotaStore.lastView(),
      );
      if (restored) {
        this.logger.warn(
          `Redis had lost the cluster's state: restored ${this.view.records().length} topic(s) from this broker's view`,
        );
      }
      return true;
    }
    const now = Date.now();
    if (this.waitingForStateSince === 0) this.waitingForStateSince = now;
    const patience = 2 * this.config.replication.brokerSessionTimeoutMs;
    if (this.logs.topics().length > 0 && now - this.waitingForStateSince < patience) {
      if (this.waitingForStateSince === now) {
        this.logger.warn('Redis has no cluster state; waiting for a broker that knows it to restore it');
      }
      return false;
    }
    if (await this.store.createMarker(randomUUID())) {
      this.logger.log(`started the state of cluster ${this.view.clusterId} in Redis`);
    }
    return true;
  }

  /** A topic's state from Redis: into the view, and every partition's role applied. */
  private takeTopic(record: TopicRecord): void {
    if (this.closed) return;
    const merged = this.view.setTopic(record);
    for (let p = 0; p < merged.partitions.length; p++) this.applyPartition(merged.name, p);
  }

  /** The topic is gone from the cluster's state: its local logs are deleted if it was deleted. */
  private topicGone(name: string): void {
    const id = this.view.topic(name)?.topicId ?? this.logs.topic(name)?.topicId;
    if (id !== undefined && this.deletedIds.has(id)) this.dropTopic(name);
    else this.view.removeTopic(name);
  }

  /** The topic was deleted: out of the view, and its local logs deleted. */
  private dropTopic(name: string): void {
    this.view.removeTopic(name);
    this.dropLocalTopic(name);
  }

  private dropLocalTopic(name: string): void {
    if (this.logs.topic(name) === undefined) return;
    for (const [p] of this.logs.partitions(name)) {
      this.fetchers.unfollow(name, p);
      this.replicas.stopReplica(name, p);
    }
    try {
      this.logs.deleteTopic(name);
    } catch (err) {
      this.logger.error(`deleting the logs of ${name} failed: ${(err as Error).message}`);
    }
  }

  /**
   * Gives the partition the role its state says (Kafka's LeaderAndIsr handling): a replica
   * not in the assignment is stopped and its log deleted; otherwise the log is created if
   * new, and the replica leads, or follows the leader with a fetcher.
   */
  private applyPartition(topic: string, partition: number): void {
    // Replicas in a failed log dir take no role until the broker restarts.
    if (this.closed || !this.logs.isOnline) return;
    const record = this.view.record(topic);
    const state = record?.partitions[partition];
    if (record === undefined || state === undefined) return;
    try {
      const self = this.localId;
      if (!state.replicas.includes(self)) {
        if (this.logs.partition(topic, partition) === undefined) return;
        this.fetchers.unfollow(topic, partition);
        this.replicas.stopReplica(topic, partition);
        this.logs.removePartition(topic, partition);
        return;
      }
      const log = this.ensureLog(record, partition);
      if (state.leaderId === self && !this.registered) {
        // Restarted before the previous run's registration expired: the controller has not
        // seen the restart yet. Lead nothing until registered (then the state is applied again).
        this.fetchers.unfollow(topic, partition);
        this.replicas.makeFollower(topic, partition, log, { ...state, leaderId: -1 });
        return;
      }
      if (state.leaderId === self) {
        this.fetchers.unfollow(topic, partition);
        this.replicas.makeLeader(topic, partition, log, state);
        return;
      }
      this.replicas.makeFollower(topic, partition, log, state);
      const replica = this.replicas.get(topic, partition);
      if (state.leaderId >= 0 && replica !== undefined && replica.leaderEpoch === state.leaderEpoch) {
        this.fetchers.follow(
          topic,
          partition,
          replica,
          state.leaderId,
          state.leaderEpoch,
          state.addingReplicas.includes(self),
        );
      } else if (state.leaderId < 0) {
        this.fetchers.unfollow(topic, partition);
      }
    } catch (err) {
      this.logger.error(`taking up ${topic}-${partition} failed: ${(err as Error).stack ?? err}`);
    }
  }

  /** The local log of a partition this broker holds a replica of, created (with its topic) when new. */
  private ensureLog(record: TopicRecord, partition: number): PartitionLog {
    const name = record.name;
    let local = this.logs.topic(name);
    if (local !== undefined && local.topicId !== record.topicId) {
      if (!this.deletedIds.has(local.topicId)) {
        throw new Error(
          `the local logs of ${name} belong to topic id ${local.topicId}, which was never deleted; leaving them, not taking up topic id ${record.topicId}`,
        );
      }
      this.logger.log(`topic ${name} was deleted and created again; replacing the local logs of the old one`);
      this.dropLocalTopic(name);
      local = undefined;
    }
    if (local === undefined) {
      this.logs.createTopic(name, record.partitions.length, record.configs, record.topicId, [partition]);
    } else {
      if (local.numPartitions < record.partitions.length) {
        this.logs.createPartitions(name, record.partitions.length, { hosted: [] });
      }
      if (JSON.stringify(sorted(local.configs)) !== JSON.stringify(sorted(record.configs))) {
        this.logs.alterTopicConfigs(
          name,
          Object.entries(record.configs).map(([k, value]) => ({ name: k, value })),
          { incremental: false },
        );
      }
    }
    return this.logs.partition(name, partition) ?? this.logs.addPartition(name, partition);
  }

  // ---- AlterPartition (PartitionStateChannel) ----------------------------------------------

  async alterPartition(topic: string, partition: number, proposal: IsrProposal): Promise<PartitionState> {
    const current = this.view.state(topic, partition);
    if (current === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${topic}-${partition} is not known`,
      );
    }
    if (current.partitionEpoch !== proposal.partitionEpoch || current.leaderEpoch !== proposal.leaderEpoch) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_UPDATE_VERSION,
        `${topic}-${partition} changed meanwhile`,
      );
    }
    const next: PartitionState = {
      ...current,
      isr: proposal.isr,
      partitionEpoch: current.partitionEpoch + 1,
    };
    try {
      await this.store.alterPartition(
        topic,
        partition,
        next,
        proposal.isr.filter((r) => !current.isr.includes(r)),
      );
    } catch (err) {
      if (err instanceof ScriptRefusal) {
        // Refused as stale: read the partition's state again so the replica catches up with it.
        void this.store.readPartition(topic, partition).then(
          (state) => {
            if (state !== null && this.view.setPartition(topic, partition, state))
              this.applyPartition(topic, partition);
          },
          () => undefined,
        );
      }
      throw err;
    }
    this.view.setPartition(topic, partition, next);
    return next;
  }

  /** Dynamic broker configs changed: the followers' replication throttle takes its new rate. */
  reconfigure(config: BrokerConfig): void {
    this.throttle.setRate(config.replication.followerReplicationThrottledRate);
  }

  // ---- shutdown ------------------------------------------------------------------------------

  /** Whether some partition this broker leads still has another live in-sync replica to move to. */
  private leadsMovablePartitions(): boolean {
    for (const t of this.view.records()) {
      for (const s of t.partitions) {
        if (s.leaderId !== this.localId) continue;
        const other = s.isr.some(
          (r) => r !== this.localId && this.view.registration(r)?.shuttingDown === false,
        );
        if (other) return true;
      }
    }
    return false;
  }

  /**
   * Kafka's controlled shutdown: marked as shutting down in its registration, the broker waits
   * for the controller to move the leadership of its partitions to other in-sync replicas and
   * take it out of the ISRs (asking again up to controlled.shutdown.max.retries times), then
   * stops its fetchers, gives up the controller lease and its registration.
   */
  async shutdown(): Promise<void> {
    const r = this.config.replication;
    if (r.controlledShutdownEnable && this.registered && this.store.connected) {
      this.shuttingDown = true;
      await this.heartbeat();
      for (
        let attempt = 0;
        attempt <= r.controlledShutdownMaxRetries && this.leadsMovablePartitions();
        attempt++
      ) {
        const until = Date.now() + r.controlledShutdownRetryBackoffMs;
        while (Date.now() < until && this.leadsMovablePartitions()) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        if (this.leadsMovablePartitions()) await this.heartbeat();
      }
      if (this.leadsMovablePartitions())
        this.logger.warn('controlled shutdown: some partitions still have this broker as leader');
      else this.logger.log('controlled shutdown: leadership moved to other replicas');
    }
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.fetchers.close();
    this.txnChannel.close();
    if (this.controller.isController()) await this.controller.resign();
    else this.controller.stop();
    if (this.registered) {
      try {
        await this.store.unregisterBroker(this.localId, this.incarnation);
      } catch (err) {
        this.logger.warn(`unregistering failed: ${(err as Error).message}`);
      }
    }
    await this.refreshing?.catch(() => undefined);
    await this.store.close();
  }
}

function sorted(o: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The membership factory the app passes to the broker when redis.url is set. */
export function replicatedMembership(deps: MembershipDeps): ClusterMembership {
  return new ReplicatedCluster(deps);
}
