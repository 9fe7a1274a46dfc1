import {
  ErrorCode,
  FindCoordinator,
  KafkaProtocolError,
  Metadata,
  type ApiDefinition,
  type RequestInput,
  type ResponseOf,
} from '@tributary/protocol';
import { Connection, ConnectionError } from '../network/connection';
import { parseBootstrap, silentLogger, type ClientLogger, type ClientOptions } from '../options';

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionInfo {
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
  readonly errorCode: number;
}

export interface TopicInfo {
  readonly name: string;
  readonly topicId: string;
  readonly isInternal: boolean;
  readonly partitions: readonly PartitionInfo[];
}

/** Errors after which the cached metadata is stale: leadership moved or a topic changed. */
const STALE_METADATA = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);

export function isStaleMetadata(code: number): boolean {
  return STALE_METADATA.has(code);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What a client knows of a cluster: its brokers, topics and leaders (refreshed on demand and
 * when older than metadata.max.age.ms), and one connection per broker, opened lazily.
 */
export class Cluster {
  readonly logger: ClientLogger;
  private readonly bootstrap: { host: string; port: number }[];
  private readonly connections = new Map<string, Promise<Connection>>();
  private brokersById = new Map<number, BrokerInfo>();
  private topicsByName = new Map<string, TopicInfo>();
  /** Topics the last refresh was refused to describe (TOPIC_AUTHORIZATION_FAILED). */
  private readonly unauthorized = new Set<string>();
  private _controllerId = -1;
  private _clusterId: string | null = null;
  private lastRefresh = 0;
  private refreshing: Promise<void> | null = null;
  /** Topics this client uses; a refresh asks for these (null: every topic). */
  private readonly wanted = new Set<string>();
  private wantAll = false;
  private closed = false;

  constructor(readonly options: ClientOptions) {
    this.bootstrap = parseBootstrap(options.bootstrapServers);
    this.logger = options.logger ?? silentLogger;
  }

  get clusterId(): string | null {
    return this._clusterId;
  }

  get controllerId(): number {
    return this._controllerId;
  }

  brokers(): BrokerInfo[] {
    return [...this.brokersById.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  broker(nodeId: number): BrokerInfo | undefined {
    return this.brokersById.get(nodeId);
  }

  topic(name: string): TopicInfo | undefined {
    return this.topicsByName.get(name);
  }

  topics(): TopicInfo[] {
    return [...this.topicsByName.values()];
  }

  // ---- connections -----------------------------------------------------------------------

  private connect(host: string, port: number): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError('the client is closed'));
    const key = `${host}:${port}`;
    let conn = this.connections.get(key);
    if (conn === undefined) {
      const c = new Connection({
        host,
        port,
        clientId: this.options.clientId ?? 'tributary',
        connectTimeoutMs: this.options.connectTimeoutMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
        ssl: this.options.ssl,
        sasl: this.options.sasl,
      });
      conn = c.connect();
      this.connections.set(key, conn);
      c.onClose(() => {
        if (this.connections.get(key) === conn) this.connections.delete(key);
      });
      conn.catch(() => {
        if (this.connections.get(key) === conn) this.connections.delete(key);
      });
    }
    return conn;
  }

  /** The connection to a broker by id (from metadata). */
  async connection(nodeId: number): Promise<Connection> {
    let b = this.brokersById.get(nodeId);
    if (b === undefined) {
      await this.refreshMetadata();
      b = this.brokersById.get(nodeId);
    }
    if (b === undefined)
      throw new KafkaProtocolError(
        ErrorCode.BROKER_NOT_AVAILABLE,
        `broker ${nodeId} is not in the cluster's metadata`,
      );
    return this.connect(b.host, b.port);
  }

  /** A connection to any reachable broker: known brokers first, then the bootstrap list. */
  async anyConnection(): Promise<Connection> {
    const candidates = [...this.brokersById.values(), ...this.bootstrap];
    const start = Math.floor(Math.random() * candidates.length);
    let last: unknown = null;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[(start + i) % candidates.length];
      try {
        return await this.connect(c.host, c.port);
      } catch (err) {
        // Wrong credentials or an untrusted certificate: another broker would say the same.
        if (err instanceof KafkaProtocolError && !err.retriable) throw err;
        last = err;
      }
    }
    throw new ConnectionError(
      `no broker is reachable (tried ${candidates.map((c) => `${c.host}:${c.port}`).join(', ')})`,
      {
        cause: last,
      },
    );
  }

  /** The controller's connection (admin requests that Kafka sends there). */
  async controllerConnection(): Promise<Connection> {
    if (this._controllerId < 0) await this.refreshMetadata();
    return this._controllerId >= 0 ? this.connection(this._controllerId) : this.anyConnection();
  }

  // ---- metadata --------------------------------------------------------------------------

  /** Adds topics to those refreshes ask for. */
  want(topics: Iterable<string>): void {
    for (const t of topics) this.wanted.add(t);
  }

  /** Asks every refresh for every topic (regex subscriptions, admin listings). */
  wantAllTopics(): void {
    this.wantAll = true;
  }

  /**
   * Refreshes the metadata (concurrent callers share one request). Topics are created on the
   * way only when asked (a producer's first send): admin look-ups and retries never create one.
   */
  refreshMetadata(options: { allowAutoTopicCreation?: boolean } = {}): Promise<void> {
    if (this.refreshing === null) {
      this.refreshing = this.doRefresh(options.allowAutoTopicCreation ?? false).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  async refreshIfOlderThan(ms: number): Promise<void> {
    if (Date.now() - this.lastRefresh > ms) await this.refreshMetadata();
  }

  private async doRefresh(allowAutoTopicCreation: boolean): Promise<void> {
    const conn = await this.anyConnection();
    const topics = this.wantAll ? null : [...this.wanted].map((name) => ({ name }));
    const r = await conn.request(Metadata, {
      topics,
      allowAutoTopicCreation,
      includeTopicAuthorizedOperations: false,
    });
    this.brokersById = new Map(
      r.brokers.map((b) => [b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }]),
    );
    this._controllerId = r.controllerId;
    this._clusterId = r.clusterId;
    const next = this.wantAll ? new Map<string, TopicInfo>() : new Map(this.topicsByName);
    for (const t of r.topics) {
      if (t.name === null) continue;
      if (t.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED) this.unauthorized.add(t.name);
      else this.unauthorized.delete(t.name);
      if (t.errorCode !== ErrorCode.NONE && t.partitions.length === 0) {
        next.delete(t.name);
        continue;
      }
      next.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    this.topicsByName = next;
    this.lastRefresh = Date.now();
  }

  /** The topic's metadata, fetched when unknown; UNKNOWN_TOPIC_OR_PARTITION when it does not exist. */
  async topicMetadata(name: string, options: { allowAutoTopicCreation?: boolean } = {}): Promise<TopicInfo> {
    this.want([name]);
    let t = this.topicsByName.get(name);
    if (t === undefined) {
      await this.refreshMetadata(options);
      t = this.topicsByName.get(name);
    }
    if (t === undefined && this.unauthorized.has(name))
      throw new KafkaProtocolError(
        ErrorCode.TOPIC_AUTHORIZATION_FAILED,
        `not authorized to describe topic ${name}`,
      );
    if (t === undefined)
      throw new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name} does not exist`);
    return t;
  }

  /** The leader of a partition, or LEADER_NOT_AVAILABLE. */
  leaderFor(topic: string, partition: number): number {
    const p = this.topicsByName.get(topic)?.partitions[partition];
    if (p === undefined)
      throw new KafkaProtocolError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${topic}-${partition} is not known`,
      );
    if (p.leader < 0)
      throw new KafkaProtocolError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition} has no leader`);
    return p.leader;
  }

  /** FindCoordinator: the broker that coordinates a group (keyType 0) or transaction (1). */
  async findCoordinator(key: string, keyType = 0): Promise<number> {
    return this.retry(`FindCoordinator ${key}`, async () => {
      const conn = await this.anyConnection();
      const version = conn.versionFor(FindCoordinator);
      const r = await conn.request(FindCoordinator, { key, keyType, coordinatorKeys: [key] });
      const c = version >= 4 ? r.coordinators[0] : { ...r, key };
      if (c.errorCode !== ErrorCode.NONE) {
        throw new KafkaProtocolError(c.errorCode, `FindCoordinator for ${key}: ${c.errorMessage ?? ''}`);
      }
      if (!this.brokersById.has(c.nodeId)) {
        this.brokersById.set(c.nodeId, { nodeId: c.nodeId, host: c.host, port: c.port, rack: null });
      }
      return c.nodeId;
    });
  }

  // ---- requests with retries -------------------------------------------------------------

  /**
   * Runs fn, retrying retriable failures with exponential backoff (retry.backoff.ms doubling
   * to retry.backoff.max.ms), refreshing metadata first when it was stale.
   */
  async retry<T>(what: string, fn: (attempt: number) => Promise<T>): Promise<T> {
    const retries = this.options.retries ?? 10;
    let backoff = this.options.retryBackoffMs ?? 100;
    const maxBackoff = this.options.retryBackoffMaxMs ?? 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(attempt);
      } catch (err) {
        const retriable = err instanceof KafkaProtocolError && err.retriable;
        if (!retriable || attempt >= retries || this.closed) throw err;
        this.logger.debug?.(`${what}: ${(err as Error).message}; retry ${attempt + 1} in ${backoff} ms`);
        await sleep(backoff * (0.8 + Math.random() * 0.4));
        backoff = Math.min(backoff * 2, maxBackoff);
        if (isStaleMetadata(err.code) || err instanceof ConnectionError) {
          await this.refreshMetadata().catch(() => undefined);
        }
      }
    }
  }

  /** Sends a request to a broker by id, in the negotiated version. */
  async send<A extends ApiDefinition>(nodeId: number, api: A, body: RequestInput<A>): Promise<ResponseOf<A>> {
    const conn = await this.connection(nodeId);
    return conn.request(api, body);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.connections.values()];
    this.connections.clear();
    for (const c of all) {
      try {
        (await c).close();
      } catch {
        // a connection that never opened has nothing to close
      }
    }
  }
}
