import type { ChainableCommander, Redis } from 'ioredis';
import type { BrokerLogger, PartitionState, RedisEndpoint } from '@tributary/broker';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { connectRedis } from './connect';
import { CLUSTER_KEYS, type ClusterKeyParts } from './cluster-keys';
import {
  checkResult,
  loadScripts,
  SCRIPTS,
  ScriptError,
  ScriptRefusal,
  type ClusterScript,
  type LoadedScript,
} from './scripts';

/** A broker as it registered: where clients reach it, its rack, whether it is shutting down, its failed log dirs. */
export interface BrokerRegistration {
  readonly id: number;
  /** The inter-broker listener's address (replica fetchers connect there). */
  readonly host: string;
  readonly port: number;
  /** Every listener's advertised address by listener name: Metadata answers with the one a client came through. */
  readonly endpoints: ReadonlyMap<string, { host: string; port: number }>;
  readonly rack: string | null;
  readonly incarnation: string;
  readonly shuttingDown: boolean;
  /** Log dirs an I/O error took offline: the replicas in them are offline (none lead or stay in an ISR). */
  readonly offlineLogDirs: readonly string[];
}

export interface TopicRecord {
  readonly name: string;
  readonly topicId: string;
  readonly configs: Readonly<Record<string, string>>;
  readonly configVersion: number;
  /** Index = partition; its length is the partition count. */
  readonly partitions: readonly PartitionState[];
}

export interface ControllerLease {
  readonly id: number;
  readonly epoch: number;
}

/** The change notifications brokers subscribe to (one channel per cluster). */
export type Change =
  | { readonly kind: 'brokers' }
  | { readonly kind: 'controller' }
  | { readonly kind: 'topic'; readonly topic: string }
  | { readonly kind: 'partition'; readonly topic: string; readonly partition: number }
  | { readonly kind: 'acls' }
  | { readonly kind: 'credentials' }
  | { readonly kind: 'broker-configs' }
  | { readonly kind: 'quotas' };

/** A partition state as stored: Kafka's ZooKeeper-era JSON, snake_case. */
interface StoredState {
  leader: number;
  leader_epoch: number;
  partition_epoch: number;
  replicas: number[];
  isr: number[];
  adding: number[];
  removing: number[];
  controller_epoch?: number;
}

export function encodeState(s: PartitionState, controllerEpoch = -1): string {
  const stored: StoredState = {
    leader: s.leaderId,
    leader_epoch: s.leaderEpoch,
    partition_epoch: s.partitionEpoch,
    replicas: [...s.replicas],
    isr: [...s.isr],
    adding: [...s.addingReplicas],
    removing: [...s.removingReplicas],
  };
  if (controllerEpoch >= 0) stored.controller_epoch = controllerEpoch;
  return JSON.stringify(stored);
}

export function decodeState(json: string): PartitionState {
  const s = JSON.parse(json) as StoredState;
  return {
    leaderId: s.leader,
    leaderEpoch: s.leader_epoch,
    partitionEpoch: s.partition_epoch,
    replicas: s.replicas ?? [],
    isr: s.isr ?? [],
    addingReplicas: s.adding ?? [],
    removingReplicas: s.removing ?? [],
  };
}

export interface ClusterStoreOptions {
  readonly endpoint: RedisEndpoint;
  readonly clusterId: string;
  readonly logger: BrokerLogger;
  /** Commands fail after this long (a broker must not hang on a Redis that does not answer). */
  readonly commandTimeoutMs?: number;
  /** Replicas a fencing write must reach (WAIT) before it counts; 0: no WAIT. */
  readonly waitReplicas?: number;
  readonly waitTimeoutMs?: number;
}

/**
 * A fencing write (or the state a read saw) that did not reach redis.wait.replicas replicas in
 * time: Redis may still lose it in a failover, so it counts as failed and nobody acts on it.
 */
export class NotReplicatedError extends KafkaProtocolError {
  constructor(detail: string, replicas: number, wanted: number) {
    super(
      ErrorCode.REQUEST_TIMED_OUT,
      `${detail}: Redis confirmed ${replicas} of ${wanted} replica(s) in time, so a failover could lose it`,
    );
    this.name = 'NotReplicatedError';
  }
}

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;
type ScriptKeys<K extends string> = Readonly<Record<K, ClusterKeyParts>>;

/**
 * The cluster's state in Redis, the way classic Kafka kept it in ZooKeeper: the keys of
 * CLUSTER_KEYS under the cluster's prefix.
 *
 * Every change of shared state is one Lua script: a compare-and-set on a version, fenced by
 * the controller lease or the leader epoch. Commands fail fast while Redis is unreachable
 * (no offline queue); callers keep their last known state and retry. With
 * redis.wait.replicas (a primary whose replicas Sentinel promotes), writes and the partition
 * states brokers act on count only once WAIT confirms the replicas have them, so that a
 * failover, which loses what the dead primary had not replicated, loses nothing acted on.
 * The marker tells a Redis that lost its data (restarted without persistence) from a new
 * cluster: until the state is restored, no controller is elected and no topic created.
 */
export class ClusterStore {
  readonly prefix: string;
  readonly channel: string;
  private readonly redis: Redis;
  private subscriber: Redis | null = null;
  private readonly scripts: ReadonlyMap<string, LoadedScript> = loadScripts();
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private readonly logger: BrokerLogger;
  private wasReady = false;
  private closing = false;
  /** The last connection error logged, so that an outage is reported once, not at every retry. */
  private lastError: string | null = null;
  private readonly readyListeners: (() => void)[] = [];

  constructor(options: ClusterStoreOptions) {
    this.prefix = `tributary:{${options.clusterId}}:`;
    this.channel = this.key(CLUSTER_KEYS.changes());
    this.logger = options.logger;
    this.waitReplicas = options.waitReplicas ?? 0;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 2000;
    this.redis = connectRedis(options.endpoint, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A WAIT must be able to run out its own timeout.
      commandTimeout: Math.max(options.commandTimeoutMs ?? 5000, this.waitTimeoutMs + 1000),
      connectTimeout: 5000,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    });
    this.redis.on('error', (err: Error) => this.reportError('redis', err));
    this.keepConnected(this.redis);
    this.redis.on('ready', () => {
      if (this.wasReady) this.logger.log('redis: connected again');
      this.wasReady = true;
      this.lastError = null;
      for (const l of this.readyListeners) l();
    });
    for (const s of this.scripts.values())
      this.redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  }

  /**
   * ioredis gives up for good on some failures while it looks for a primary (status "end");
   * a broker never does: it connects again after a second, until it closes.
   */
  private keepConnected(r: Redis): void {
    r.on('end', () => {
      if (this.closing) return;
      setTimeout(() => {
        if (!this.closing && r.status === 'end') r.connect().catch(() => undefined);
      }, 1000).unref();
    });
  }

  private reportError(what: string, err: Error): void {
    if (this.closing || err.message === this.lastError) return;
    this.lastError = err.message;
    this.logger.warn(`${what}: ${err.message}`);
  }

  /** The full name of one of the cluster's keys (CLUSTER_KEYS). */
  key(parts: ClusterKeyParts): string {
    return this.prefix + parts.join(':');
  }

  /** Called after every (re)connection: whatever was missed meanwhile must be read again. */
  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
  }

  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Connects, retrying until Redis answers or `deadline` (ms since epoch) passes. */
  async connect(deadline: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
        else await this.waitReady(1000);
        if (this.redis.status === 'ready') return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        if (attempt === 1 || attempt % 10 === 0)
          this.logger.warn(`waiting for redis: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private waitReady(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis is not ready')), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Subscribes to change notifications (re-subscribed after reconnects). */
  async subscribe(onChange: (change: Change) => void): Promise<void> {
    const sub = this.redis.duplicate({ enableOfflineQueue: true, commandTimeout: undefined });
    sub.on('error', (err: Error) => this.reportError('redis subscriber', err));
    this.keepConnected(sub);
    sub.on('message', (_channel: string, message: string) => {
      const change = parseChange(message);
      if (change !== null) onChange(change);
    });
    this.subscriber = sub;
    await sub.connect();
    await sub.subscribe(this.channel);
  }

  /** A script's KEYS in its declared order, named as its declaration names them. */
  private keysOf<K extends string>(
    spec: ClusterScript<K, readonly (string | number)[]>,
    keys: ScriptKeys<K>,
  ) {
    return spec.keys.map((k) => this.key(keys[k]));
  }

  private async script<K extends string, A extends readonly (string | number)[]>(
    spec: ClusterScript<K, A>,
    detail: string,
    keys: ScriptKeys<K>,
    args: A,
  ): Promise<number> {
    // defineCommand made each declared script a method of the connection (EVALSHA).
    const run = (this.redis as unknown as Record<string, ScriptCommand>)[spec.name];
    return checkResult(spec.name, detail, await run.call(this.redis, ...this.keysOf(spec, keys), ...args));
  }

  /**
   * A write that fences (lease, epochs, partition states) or that an admin was told succeeded:
   * the script, then WAIT for redis.wait.replicas, in one pipeline so both go
   * over one connection (a reconnect in between aborts the WAIT rather than asking a new
   * primary about a write it never had). EVAL, not EVALSHA: a NOSCRIPT retry would run the
   * script after the WAIT. Fewer replicas in time is a NotReplicatedError: the write may
   * stand on this primary, but nobody may act on it (a retry reads it back, confirmed).
   */
  private async replicatedScript<K extends string, A extends readonly (string | number)[]>(
    spec: ClusterScript<K, A>,
    detail: string,
    keys: ScriptKeys<K>,
    args: A,
  ): Promise<number> {
    if (this.waitReplicas === 0) return this.script(spec, detail, keys, args);
    const def = this.scripts.get(spec.name)!;
    const [result] = await this.confirmed(detail, (p) =>
      p.eval(def.lua, def.numberOfKeys, ...this.keysOf(spec, keys), ...args),
    );
    return checkResult(spec.name, detail, result);
  }

  /**
   * Runs the pipeline's commands, then (with redis.wait.replicas) INCR of a barrier key and
   * WAIT on the same connection: a state those commands read or wrote precedes the barrier in
   * the replication stream, so once WAIT counts enough replicas a failover keeps it. Returns
   * the commands' results; a command's error, or too few replicas, throws.
   */
  private async confirmed(detail: string, build: (p: ChainableCommander) => void): Promise<unknown[]> {
    const p = this.redis.pipeline();
    build(p);
    const count = p.length;
    if (this.waitReplicas > 0)
      p.incr(this.key(CLUSTER_KEYS.barrier())).wait(this.waitReplicas, this.waitTimeoutMs);
    const results = (await p.exec()) ?? [];
    for (const [err] of results) if (err !== null) throw err;
    if (this.waitReplicas > 0) {
      const acked = Number(results[count + 1][1]);
      if (acked < this.waitReplicas) throw new NotReplicatedError(detail, acked, this.waitReplicas);
    }
    return results.slice(0, count).map(([, value]) => value);
  }

  // ---- brokers ---------------------------------------------------------------------------

  registerBroker(reg: BrokerRegistration, sessionTimeoutMs: number): Promise<number> {
    return this.script(
      SCRIPTS.registerBroker,
      `registering broker ${reg.id}`,
      { broker: CLUSTER_KEYS.broker(reg.id), brokers: CLUSTER_KEYS.brokers() },
      [
        reg.id,
        reg.incarnation,
        sessionTimeoutMs,
        reg.host,
        reg.port,
        reg.rack ?? '',
        this.channel,
        encodeEndpoints(reg.endpoints),
        JSON.stringify(reg.offlineLogDirs),
      ],
    );
  }

  heartbeat(
    id: number,
    incarnation: string,
    sessionTimeoutMs: number,
    shuttingDown: boolean,
    offlineLogDirs: readonly string[],
  ): Promise<number> {
    return this.script(
      SCRIPTS.heartbeatBroker,
      `heartbeat of broker ${id}`,
      { broker: CLUSTER_KEYS.broker(id) },
      [incarnation, sessionTimeoutMs, shuttingDown ? '1' : '0', this.channel, JSON.stringify(offlineLogDirs)],
    );
  }

  unregisterBroker(id: number, incarnation: string): Promise<number> {
    return this.script(
      SCRIPTS.unregisterBroker,
      `unregistering broker ${id}`,
      { broker: CLUSTER_KEYS.broker(id) },
      [incarnation, this.channel],
    );
  }

  /** Every live registration (expired ones are gone with their key). */
  async readBrokers(): Promise<BrokerRegistration[]> {
    const ids = await this.redis.smembers(this.key(CLUSTER_KEYS.brokers()));
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key(CLUSTER_KEYS.broker(id)));
    const results = (await pipeline.exec()) ?? [];
    const out: BrokerRegistration[] = [];
    for (const [err, value] of results) {
      if (err !== null) throw err;
      const h = value as Record<string, string>;
      if (h.id === undefined) continue;
      out.push({
        id: Number(h.id),
        host: h.host,
        port: Number(h.port),
        endpoints: decodeEndpoints(h.endpoints ?? ''),
        rack: h.rack === '' || h.rack === undefined ? null : h.rack,
        incarnation: h.incarnation,
        shuttingDown: h.shutting_down === '1',
        offlineLogDirs: decodeLogDirs(h.offline_log_dirs),
      });
    }
    return out.sort((a, b) => a.id - b.id);
  }

  // ---- controller ------------------------------------------------------------------------

  /** Tells every broker that the set of registered brokers changed (a registration expired). */
  async announceBrokers(): Promise<void> {
    await this.redis.publish(this.channel, 'brokers');
  }

  /** The brokers' incarnations as the controllers last saw them: a new controller notices a bounce its predecessor missed. */
  async readSeenIncarnations(): Promise<Map<number, string>> {
    const h = await this.redis.hgetall(this.key(CLUSTER_KEYS.controllerIncarnations()));
    return new Map(Object.entries(h).map(([id, incarnation]) => [Number(id), incarnation]));
  }

  async saveSeenIncarnations(seen: ReadonlyMap<number, string>): Promise<void> {
    if (seen.size > 0)
      await this.redis.hset(this.key(CLUSTER_KEYS.controllerIncarnations()), Object.fromEntries(seen));
  }

  /**
   * The new controller epoch, or null when another broker holds the lease. `confirmed` is false
   * when the replicas did not confirm it in time: the lease is held, but the controller acts
   * only once a renewal is confirmed.
   */
  async acquireController(
    id: number,
    leaseMs: number,
  ): Promise<{ epoch: number; confirmed: boolean } | null> {
    const detail = `broker ${id} becoming controller`;
    const keys = {
      controller: CLUSTER_KEYS.controller(),
      controllerEpoch: CLUSTER_KEYS.controllerEpoch(),
      cluster: CLUSTER_KEYS.cluster(),
    };
    try {
      const epoch = await this.replicatedScript(SCRIPTS.acquireController, detail, keys, [
        id,
        leaseMs,
        this.channel,
      ]);
      return { epoch, confirmed: true };
    } catch (err) {
      if (err instanceof ScriptRefusal && err.result === ScriptError.ControllerTaken) return null;
      if (err instanceof ScriptRefusal && err.result === ScriptError.NoClusterState) return null;
      if (err instanceof NotReplicatedError) {
        const lease = await this.readController();
        if (lease?.id === id) return { epoch: lease.epoch, confirmed: false };
      }
      throw err;
    }
  }

  /** Extends the lease (a compare-and-set on "<id>:<epoch>"), confirmed by the replicas. */
  renewController(lease: ControllerLease, leaseMs: number): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.renewController,
      `controller ${lease.id} renewing its lease`,
      { controller: CLUSTER_KEYS.controller() },
      [`${lease.id}:${lease.epoch}`, leaseMs],
    );
  }

  resignController(lease: ControllerLease): Promise<number> {
    return this.script(
      SCRIPTS.resignController,
      `controller ${lease.id} resigning`,
      { controller: CLUSTER_KEYS.controller() },
      [`${lease.id}:${lease.epoch}`, this.channel],
    );
  }

  async readController(): Promise<ControllerLease | null> {
    const v = await this.redis.get(this.key(CLUSTER_KEYS.controller()));
    if (v === null) return null;
    const [id, epoch] = v.split(':').map(Number);
    return { id, epoch };
  }

  async readControllerEpoch(): Promise<number> {
    return Number((await this.redis.get(this.key(CLUSTER_KEYS.controllerEpoch()))) ?? 0);
  }

  // ---- the state's marker ------------------------------------------------------------------

  readMarker(): Promise<string | null> {
    return this.redis.get(this.key(CLUSTER_KEYS.cluster()));
  }

  /** Marks a new cluster's state; false when one exists. */
  async createMarker(marker: string): Promise<boolean> {
    return (await this.redis.set(this.key(CLUSTER_KEYS.cluster()), marker, 'NX')) === 'OK';
  }

  /**
   * Writes back a state Redis lost (from a broker's last view of it), all or nothing, unless
   * another broker restored it first (an optimistic transaction on the marker). The counters
   * only go up: the controller epoch and the producer ids past those this broker saw.
   */
  async restoreState(
    marker: string,
    topics: readonly TopicRecord[],
    controllerEpoch: number,
    producerIdsEnd: number,
    security: { acls: readonly string[]; credentials: Readonly<Record<string, string>> } | null = null,
    brokerConfigs: Readonly<Record<string, string>> | null = null,
    quotas: Readonly<Record<string, string>> | null = null,
  ): Promise<boolean> {
    const watcher = this.redis.duplicate({ enableOfflineQueue: true });
    watcher.on('error', () => undefined);
    try {
      await watcher.watch(this.key(CLUSTER_KEYS.cluster()));
      if ((await watcher.get(this.key(CLUSTER_KEYS.cluster()))) !== null) {
        await watcher.unwatch();
        return false;
      }
      const epoch = Number((await watcher.get(this.key(CLUSTER_KEYS.controllerEpoch()))) ?? 0);
      const ids = Number((await watcher.get(this.key(CLUSTER_KEYS.producerIds()))) ?? 0);
      const tx = watcher.multi();
      tx.set(this.key(CLUSTER_KEYS.cluster()), marker);
      tx.set(this.key(CLUSTER_KEYS.controllerEpoch()), Math.max(epoch, controllerEpoch));
      tx.set(this.key(CLUSTER_KEYS.producerIds()), Math.max(ids, producerIdsEnd));
      for (const t of topics) {
        tx.hset(this.key(CLUSTER_KEYS.topics()), t.name, t.topicId);
        tx.del(this.key(CLUSTER_KEYS.topic(t.name)), this.key(CLUSTER_KEYS.partitions(t.name)));
        tx.hset(this.key(CLUSTER_KEYS.topic(t.name)), {
          id: t.topicId,
          partitions: t.partitions.length,
          configs: JSON.stringify(t.configs),
          config_version: t.configVersion,
        });
        t.partitions.forEach((p, i) =>
          tx.hset(this.key(CLUSTER_KEYS.partitions(t.name)), String(i), encodeState(p)),
        );
      }
      if (security !== null) {
        if (security.acls.length > 0) tx.sadd(this.key(CLUSTER_KEYS.acls()), ...security.acls);
        if (Object.keys(security.credentials).length > 0)
          tx.hset(this.key(CLUSTER_KEYS.scramCredentials()), security.credentials);
      }
      if (brokerConfigs !== null && Object.keys(brokerConfigs).length > 0)
        tx.hset(this.key(CLUSTER_KEYS.brokerConfigs()), brokerConfigs);
      if (quotas !== null && Object.keys(quotas).length > 0) {
        tx.hset(this.key(CLUSTER_KEYS.clientQuotas()), quotas);
        tx.incr(this.key(CLUSTER_KEYS.clientQuotasVersion()));
      }
      const result = await tx.exec();
      if (result === null) return false;
      for (const t of topics) await this.redis.publish(this.channel, `topic ${t.name}`);
      if (security !== null) {
        await this.redis.publish(this.channel, 'acls');
        await this.redis.publish(this.channel, 'credentials');
      }
      if (brokerConfigs !== null) await this.redis.publish(this.channel, 'broker-configs');
      if (quotas !== null) await this.redis.publish(this.channel, 'quotas');
      return true;
    } finally {
      watcher.disconnect();
    }
  }

  // ---- ACLs and SCRAM credentials ------------------------------------------------------------

  /** The marker and every ACL and credential, read together. */
  async readSecurity(): Promise<{
    marker: string | null;
    acls: string[];
    credentials: Record<string, string>;
  }> {
    const [[e1, marker], [e2, acls], [e3, credentials]] = (await this.redis
      .pipeline()
      .get(this.key(CLUSTER_KEYS.cluster()))
      .smembers(this.key(CLUSTER_KEYS.acls()))
      .hgetall(this.key(CLUSTER_KEYS.scramCredentials()))
      .exec()) as [Error | null, unknown][];
    const err = e1 ?? e2 ?? e3;
    if (err !== null) throw err;
    return {
      marker: marker as string | null,
      acls: acls as string[],
      credentials: credentials as Record<string, string>,
    };
  }

  alterAcls(add: readonly string[], remove: readonly string[]): Promise<number> {
    return this.replicatedScript(SCRIPTS.alterAcls, 'altering ACLs', { acls: CLUSTER_KEYS.acls() }, [
      this.channel,
      add.length,
      ...add,
      ...remove,
    ]);
  }

  alterCredentials(set: ReadonlyMap<string, string>, remove: readonly string[]): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.alterScramCredentials,
      'altering SCRAM credentials',
      { scramCredentials: CLUSTER_KEYS.scramCredentials() },
      [this.channel, set.size, ...[...set].flat(), ...remove],
    );
  }

  // ---- dynamic broker configs ------------------------------------------------------------------

  /** Every stored entity's configs JSON and version ("<entity>:version"), with the state's marker. */
  async readBrokerConfigs(): Promise<{ marker: string | null; fields: Record<string, string> }> {
    const [[e1, marker], [e2, fields]] = (await this.redis
      .pipeline()
      .get(this.key(CLUSTER_KEYS.cluster()))
      .hgetall(this.key(CLUSTER_KEYS.brokerConfigs()))
      .exec()) as [Error | null, unknown][];
    const err = e1 ?? e2;
    if (err !== null) throw err;
    return { marker: marker as string | null, fields: fields as Record<string, string> };
  }

  alterBrokerConfigs(
    entity: string,
    expectedVersion: number,
    configs: Readonly<Record<string, string>>,
  ): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.alterBrokerConfigs,
      `altering the dynamic configs of ${entity}`,
      { brokerConfigs: CLUSTER_KEYS.brokerConfigs() },
      [entity, expectedVersion, JSON.stringify(configs), this.channel],
    );
  }

  // ---- client quotas -------------------------------------------------------------------------

  /** The marker, the quotas' version and every entity's quotas (JSON), read together. */
  async readClientQuotas(): Promise<{
    marker: string | null;
    version: number;
    quotas: Record<string, string>;
  }> {
    const [[e1, marker], [e2, version], [e3, quotas]] = (await this.redis
      .pipeline()
      .get(this.key(CLUSTER_KEYS.cluster()))
      .get(this.key(CLUSTER_KEYS.clientQuotasVersion()))
      .hgetall(this.key(CLUSTER_KEYS.clientQuotas()))
      .exec()) as [Error | null, unknown][];
    const err = e1 ?? e2 ?? e3;
    if (err !== null) throw err;
    return {
      marker: marker as string | null,
      version: Number((version as string | null) ?? 0),
      quotas: quotas as Record<string, string>,
    };
  }

  /** Sets and deletes entities if the quotas are still at `expectedVersion` (else a VersionMismatch refusal). */
  alterClientQuotas(
    expectedVersion: number,
    set: ReadonlyMap<string, string>,
    remove: readonly string[],
  ): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.alterClientQuotas,
      'altering client quotas',
      { clientQuotas: CLUSTER_KEYS.clientQuotas(), clientQuotasVersion: CLUSTER_KEYS.clientQuotasVersion() },
      [this.channel, expectedVersion, set.size, ...[...set].flat(), ...remove],
    );
  }

  // ---- topics ----------------------------------------------------------------------------

  async readTopicNames(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key(CLUSTER_KEYS.topics()))));
  }

  async readTopic(name: string): Promise<TopicRecord | null> {
    return (await this.readTopicsNamed([name]))[0] ?? null;
  }

  /** Every topic with its partition states, in one round trip after the names. */
  async readTopics(): Promise<TopicRecord[]> {
    return this.readTopicsNamed([...(await this.readTopicNames()).keys()]);
  }

  private async readTopicsNamed(names: readonly string[]): Promise<TopicRecord[]> {
    if (names.length === 0) return [];
    const results = await this.confirmed('reading the partition states', (pipeline) => {
      for (const name of names) {
        pipeline.hgetall(this.key(CLUSTER_KEYS.topic(name)));
        pipeline.hgetall(this.key(CLUSTER_KEYS.partitions(name)));
      }
    });
    const out: TopicRecord[] = [];
    names.forEach((name, i) => {
      const topic = results[2 * i];
      const parts = results[2 * i + 1];
      const t = topic as Record<string, string>;
      if (t.id === undefined) return;
      const p = parts as Record<string, string>;
      const count = Number(t.partitions);
      const partitions: PartitionState[] = [];
      for (let i = 0; i < count; i++) {
        const json = p[String(i)];
        if (json === undefined) return;
        partitions.push(decodeState(json));
      }
      out.push({
        name,
        topicId: t.id,
        configs: JSON.parse(t.configs ?? '{}') as Record<string, string>,
        configVersion: Number(t.config_version ?? 0),
        partitions,
      });
    });
    return out;
  }

  /** A partition's state, as the replicas have it (a broker acts on it). */
  async readPartition(topic: string, partition: number): Promise<PartitionState | null> {
    const [json] = await this.confirmed(`reading the state of ${topic}-${partition}`, (p) =>
      p.hget(this.key(CLUSTER_KEYS.partitions(topic)), String(partition)),
    );
    return json === null ? null : decodeState(json as string);
  }

  async readDeletedTopics(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key(CLUSTER_KEYS.deletedTopics()))));
  }

  createTopic(
    name: string,
    topicId: string,
    configs: Readonly<Record<string, string>>,
    states: readonly PartitionState[],
  ): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.createTopic,
      `creating topic ${name}`,
      {
        topics: CLUSTER_KEYS.topics(),
        topic: CLUSTER_KEYS.topic(name),
        partitions: CLUSTER_KEYS.partitions(name),
        cluster: CLUSTER_KEYS.cluster(),
      },
      [name, topicId, JSON.stringify(configs), this.channel, ...states.map((s) => encodeState(s))],
    );
  }

  deleteTopic(name: string): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.deleteTopic,
      `deleting topic ${name}`,
      {
        topics: CLUSTER_KEYS.topics(),
        topic: CLUSTER_KEYS.topic(name),
        partitions: CLUSTER_KEYS.partitions(name),
        deletedTopics: CLUSTER_KEYS.deletedTopics(),
      },
      [name, this.channel],
    );
  }

  addPartitions(name: string, expectedCount: number, states: readonly PartitionState[]): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.addPartitions,
      `adding partitions to ${name}`,
      { topic: CLUSTER_KEYS.topic(name), partitions: CLUSTER_KEYS.partitions(name) },
      [name, expectedCount, this.channel, ...states.map((s) => encodeState(s))],
    );
  }

  alterTopicConfigs(
    name: string,
    expectedVersion: number,
    configs: Readonly<Record<string, string>>,
  ): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.alterTopicConfigs,
      `altering configs of ${name}`,
      { topic: CLUSTER_KEYS.topic(name) },
      [name, expectedVersion, JSON.stringify(configs), this.channel],
    );
  }

  // ---- partition state -------------------------------------------------------------------

  /** The controller's compare-and-set of a partition state (`next.partitionEpoch` = expected + 1). */
  updatePartition(
    lease: ControllerLease,
    topic: string,
    partition: number,
    next: PartitionState,
  ): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.updatePartition,
      `controller changing ${topic}-${partition}`,
      {
        controller: CLUSTER_KEYS.controller(),
        topic: CLUSTER_KEYS.topic(topic),
        partitions: CLUSTER_KEYS.partitions(topic),
      },
      [
        `${lease.id}:${lease.epoch}`,
        topic,
        partition,
        next.partitionEpoch - 1,
        encodeState(next, lease.epoch),
        this.channel,
      ],
    );
  }

  /** A leader's ISR change (Kafka's AlterPartition), fenced by its leader epoch. */
  alterPartition(
    topic: string,
    partition: number,
    next: PartitionState,
    joining: readonly number[],
  ): Promise<number> {
    return this.replicatedScript(
      SCRIPTS.alterPartition,
      `ISR change of ${topic}-${partition}`,
      { partitions: CLUSTER_KEYS.partitions(topic) },
      [
        topic,
        partition,
        next.leaderId,
        next.leaderEpoch,
        next.partitionEpoch - 1,
        encodeState(next),
        this.key(CLUSTER_KEYS.broker('')),
        this.channel,
        ...joining,
      ],
    );
  }

  // ---- producer ids ----------------------------------------------------------------------

  /** Reserves the next block of producer ids; returns its last id. */
  async reserveProducerIds(blockSize: number): Promise<number> {
    const [end] = await this.confirmed('reserving producer ids', (p) =>
      p.incrby(this.key(CLUSTER_KEYS.producerIds()), blockSize),
    );
    return Number(end) - 1;
  }

  async close(): Promise<void> {
    this.closing = true;
    const quit = async (r: Redis | null): Promise<void> => {
      if (r === null) return;
      try {
        if (r.status === 'ready') await r.quit();
        else r.disconnect();
      } catch {
        r.disconnect();
      }
    };
    await Promise.all([quit(this.redis), quit(this.subscriber)]);
    this.subscriber = null;
  }
}

/** A registration's endpoints: NAME://HOST:PORT,... (IPv6 hosts in brackets). */
export function encodeEndpoints(endpoints: ReadonlyMap<string, { host: string; port: number }>): string {
  return [...endpoints]
    .map(([name, e]) => `${name}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`)
    .join(',');
}

export function decodeEndpoints(text: string): Map<string, { host: string; port: number }> {
  const out = new Map<string, { host: string; port: number }>();
  for (const entry of text.split(',')) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry.trim());
    if (m !== null) out.set(m[1], { host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) });
  }
  return out;
}

/** A registration's offline log dirs (a JSON array; absent in registrations of older versions). */
function decodeLogDirs(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  try {
    const dirs: unknown = JSON.parse(text);
    return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    return [];
  }
}

function parseChange(message: string): Change | null {
  const parts = message.split(' ');
  switch (parts[0]) {
    case 'brokers':
      return { kind: 'brokers' };
    case 'controller':
      return { kind: 'controller' };
    case 'acls':
      return { kind: 'acls' };
    case 'credentials':
      return { kind: 'credentials' };
    case 'broker-configs':
      return { kind: 'broker-configs' };
    case 'quotas':
      return { kind: 'quotas' };
    case 'topic':
      return parts.length >= 2 ? { kind: 'topic', topic: message.slice('topic '.length) } : null;
    case 'partition': {
      if (parts.length < 3) return null;
      const partition = Number(parts[parts.length - 1]);
      const topic = message.slice('partition '.length, message.length - parts[parts.length - 1].length - 1);
      return Number.isInteger(partition) ? { kind: 'partition', topic, partition } : null;
    }
    default:
      return null;
  }
}
