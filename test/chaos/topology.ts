import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Admin } from '@tributary/client';
import { startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { FAST_FAILOVER } from '../support/cluster-process';
import { startMirrorWorker, writeMirrorConfig } from '../support/mirror-process';
import { freePort, startRedis, type RedisProcess } from '../support/redis-process';
import { LinkProxy } from './link-proxy';
import { ManagedProcess, type Incarnation } from './processes';

export const SOURCE_ID = 'chaos-source';
export const TARGET_ID = 'chaos-target';
/** The workload's topic on the source and its mirror on the target (prefix policy). */
export const TOPIC = 'chaos';
export const MIRROR_TOPIC = `source.${TOPIC}`;
export const OFFSETS_TOPIC_PARTITIONS = 6;

/** How long a process may take to start: the nemesis' machine is loaded on purpose (and often by others). */
const START_TIMEOUT_MS = 60_000;

/** Settings of every broker: FAST_FAILOVER's quick failure detection, acks=all durability. */
const BROKER_SETTINGS = [
  ...FAST_FAILOVER,
  'default.replication.factor=3',
  'min.insync.replicas=2',
  'offsets.topic.replication.factor=3',
  `offsets.topic.num.partitions=${OFFSETS_TOPIC_PARTITIONS}`,
  'auto.leader.rebalance.enable=true',
  'leader.imbalance.check.interval.seconds=5',
  'group.initial.rebalance.delay.ms=0',
];

export interface TopologyOptions {
  readonly partitions: number;
  readonly targetBrokers: number;
  /** Where process logs go. */
  readonly dir: string;
}

/**
 * A source broker behind three proxies, which is how the nemesis partitions it: clients reach
 * it through `client`, the other brokers' replica fetchers through `replication` (its advertised
 * inter-broker listener), and it reaches Redis through `redis`.
 */
export interface SourceBroker {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly process: ManagedProcess;
  readonly client: LinkProxy;
  readonly replication: LinkProxy;
  readonly redis: LinkProxy;
}

export interface TargetBroker {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly process: ManagedProcess;
  readonly port: number;
}

/** A Redis as a managed process (SIGSTOP needs its pid; a restart keeps its port and data). */
function managedRedis(name: string, redis: RedisProcess, logDir: string): ManagedProcess {
  let first = true;
  return new ManagedProcess(
    name,
    async (): Promise<Incarnation> => {
      if (!first) await redis.restart();
      first = false;
      return {
        pid: redis.pid(),
        output: () => redis.output(),
        kill9: () => redis.kill9(),
        stop: () => redis.stop(),
      };
    },
    logDir,
  );
}

/**
 * The nemesis' playground, all real processes on 127.0.0.1: a source cluster of three brokers
 * on its own Redis, a target cluster on another, a Redis for the replicator and two
 * `tributary mirror` workers copying the source's topic to the target with its offsets.
 */
export class Topology {
  readonly sourceRedis: ManagedProcess;
  readonly targetRedis: ManagedProcess;
  readonly mirrorRedis: ManagedProcess;
  readonly source: SourceBroker[] = [];
  readonly target: TargetBroker[] = [];
  readonly workers: ManagedProcess[] = [];
  private readonly redisProcesses: RedisProcess[];
  private readonly logDir: string;

  private constructor(
    readonly options: TopologyOptions,
    redises: [RedisProcess, RedisProcess, RedisProcess],
  ) {
    this.logDir = path.join(options.dir, 'logs');
    fs.mkdirSync(this.logDir, { recursive: true });
    this.redisProcesses = redises;
    this.sourceRedis = managedRedis('source-redis', redises[0], this.logDir);
    this.targetRedis = managedRedis('target-redis', redises[1], this.logDir);
    this.mirrorRedis = managedRedis('mirror-redis', redises[2], this.logDir);
  }

  static async start(options: TopologyOptions): Promise<Topology> {
    const redises = await Promise.all([startRedis(), startRedis(), startRedis()]);
    const t = new Topology(options, redises);
    try {
      await t.startAll();
      return t;
    } catch (err) {
      await t.stop();
      throw err;
    }
  }

  get sourceBootstrap(): string {
    return this.source.map((b) => `127.0.0.1:${b.client.port}`).join(',');
  }

  get targetBootstrap(): string {
    return this.target.map((b) => `127.0.0.1:${b.port}`).join(',');
  }

  get sourceRedisUrl(): string {
    return this.redisProcesses[0].url;
  }

  /** Every process the nemesis may act on. */
  get processes(): ManagedProcess[] {
    return [
      this.sourceRedis,
      this.targetRedis,
      this.mirrorRedis,
      ...this.source.map((b) => b.process),
      ...this.target.map((b) => b.process),
      ...this.workers,
    ];
  }

  get proxies(): LinkProxy[] {
    return this.source.flatMap((b) => [b.client, b.replication, b.redis]);
  }

  private async startAll(): Promise<void> {
    for (const r of [this.sourceRedis, this.targetRedis, this.mirrorRedis]) await r.start();
    for (let nodeId = 1; nodeId <= 3; nodeId++) this.source.push(await this.sourceBroker(nodeId));
    for (let nodeId = 1; nodeId <= this.options.targetBrokers; nodeId++)
      this.target.push(await this.targetBroker(nodeId));
    await Promise.all([...this.source, ...this.target].map((b) => b.process.start()));
    const admin = new Admin({ bootstrapServers: this.sourceBootstrap });
    try {
      await admin.createTopics([
        { name: TOPIC, numPartitions: this.options.partitions, replicationFactor: 3 },
      ]);
    } finally {
      await admin.close();
    }
    const config = writeMirrorConfig({
      redis: this.redisProcesses[2].url,
      namespace: 'chaos',
      clusters: {
        source: { 'bootstrap.servers': this.sourceBootstrap },
        target: { 'bootstrap.servers': this.targetBootstrap },
      },
      flows: [
        {
          source: 'source',
          target: 'target',
          topics: TOPIC,
          offsets: 'preserve',
          'refresh.topics.interval.seconds': 1,
          'emit.heartbeats.enabled': false,
          'emit.checkpoints.enabled': false,
        },
      ],
      worker: { 'unit.slice.ms': 3000, 'lock.duration.ms': 2000 },
    });
    for (let i = 1; i <= 2; i++) {
      const w = new ManagedProcess(
        `worker-${i}`,
        async () => {
          const p = await startMirrorWorker(config, [], START_TIMEOUT_MS);
          return { pid: p.child.pid, output: () => p.output(), kill9: () => p.kill9(), stop: () => p.stop() };
        },
        this.logDir,
      );
      this.workers.push(w);
    }
    await Promise.all(this.workers.map((w) => w.start()));
  }

  private async sourceBroker(nodeId: number): Promise<SourceBroker> {
    const dataDir = tempDir(`chaos-source-${nodeId}`);
    let running: BrokerProcess | null = null;
    let ports: Record<string, number> = {};
    // The listeners' lines may come after the first one startBroker waited for.
    const live = (listener: string) => (): number | null => {
      if (broker.process.state === 'down' || running === null) return null;
      if (ports[listener] === undefined) ports = running.listenerPorts();
      return ports[listener] ?? null;
    };
    const sourceRedisPort = this.redisProcesses[0].port;
    const client = new LinkProxy(`client->${nodeId}`, () => live('CLIENT')(), true);
    const replication = new LinkProxy(`replication->${nodeId}`, () => live('REPL')(), true);
    const redis = new LinkProxy(`${nodeId}->redis`, () => sourceRedisPort, false);
    await Promise.all([client.listen(), replication.listen(), redis.listen()]);
    const args = [
      '--cluster-id',
      SOURCE_ID,
      '--redis',
      `redis://127.0.0.1:${redis.port}`,
      '--set',
      'listener.security.protocol.map=CLIENT:PLAINTEXT,REPL:PLAINTEXT',
      '--set',
      'inter.broker.listener.name=REPL',
      '--set',
      `advertised.listeners=CLIENT://127.0.0.1:${client.port},REPL://127.0.0.1:${replication.port}`,
      ...BROKER_SETTINGS.flatMap((s) => ['--set', s]),
    ];
    const broker: SourceBroker = {
      nodeId,
      dataDir,
      client,
      replication,
      redis,
      process: new ManagedProcess(
        `source-broker-${nodeId}`,
        async () => {
          const p = await startBroker({
            nodeId,
            dataDir,
            startTimeoutMs: START_TIMEOUT_MS,
            extraArgs: ['--set', 'listeners=CLIENT://127.0.0.1:0,REPL://127.0.0.1:0', ...args],
          });
          running = p;
          ports = {};
          return { pid: p.child.pid, output: () => p.output(), kill9: () => p.kill9(), stop: () => p.stop() };
        },
        this.logDir,
      ),
    };
    return broker;
  }

  private async targetBroker(nodeId: number): Promise<TargetBroker> {
    const dataDir = tempDir(`chaos-target-${nodeId}`);
    // A fixed port: the workers were given it, and a restart takes it again.
    const port = await freePort();
    const replicas = Math.min(3, this.options.targetBrokers);
    const args = [
      '--cluster-id',
      TARGET_ID,
      '--redis',
      this.redisProcesses[1].url,
      ...[
        ...BROKER_SETTINGS,
        `default.replication.factor=${replicas}`,
        `min.insync.replicas=${Math.min(2, replicas)}`,
        `offsets.topic.replication.factor=${replicas}`,
      ].flatMap((s) => ['--set', s]),
    ];
    return {
      nodeId,
      dataDir,
      port,
      process: new ManagedProcess(
        `target-broker-${nodeId}`,
        async () => {
          const p = await startBroker({
            nodeId,
            dataDir,
            port,
            extraArgs: args,
            startTimeoutMs: START_TIMEOUT_MS,
          });
          return { pid: p.child.pid, output: () => p.output(), kill9: () => p.kill9(), stop: () => p.stop() };
        },
        this.logDir,
      ),
    };
  }

  /** A short-lived connection to the source cluster's Redis (the runner's own, not through a proxy). */
  private async sourceRedisRead<T>(read: (redis: Redis) => Promise<T>): Promise<T | null> {
    const redis = new Redis(this.sourceRedisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: 1000,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await read(redis);
    } catch {
      return null;
    } finally {
      redis.disconnect();
    }
  }

  /** The source cluster's controller, from its lease in Redis; null when none holds it or Redis is away. */
  async sourceController(): Promise<number | null> {
    const v = await this.sourceRedisRead((r) => r.get(`tributary:{${SOURCE_ID}}:controller`));
    return v === null ? null : Number(v.split(':')[0]);
  }

  /** A source partition's leader and leader epoch as the controller last wrote them to Redis; null when unknown. */
  async sourceLeader(topic: string, partition: number): Promise<{ leader: number; epoch: number } | null> {
    const v = await this.sourceRedisRead((r) =>
      r.hget(`tributary:{${SOURCE_ID}}:topic:${topic}:partitions`, String(partition)),
    );
    if (v === null) return null;
    const state = JSON.parse(v) as { leader: number; leader_epoch: number };
    return { leader: state.leader, epoch: state.leader_epoch };
  }

  async stop(): Promise<void> {
    for (const p of this.proxies) p.healAll();
    for (const p of this.processes) p.resume();
    for (const w of this.workers) await w.stop().catch(() => undefined);
    await Promise.all([...this.source, ...this.target].map((b) => b.process.stop().catch(() => undefined)));
    for (const r of [this.sourceRedis, this.targetRedis, this.mirrorRedis])
      await r.stop().catch(() => undefined);
    for (const r of this.redisProcesses) await r.stop();
    await Promise.all(this.proxies.map((p) => p.close()));
  }
}
