import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';

export type FlowState = 'running' | 'paused';

/**
 * Where a mirrored topic stands (Confluent Cluster Linking's mirror topic states):
 * mirroring: the flow copies source -> target (no entry is kept for it);
 * promoted: the target topic is writable and the flow never writes it again;
 * reversed: the flow copies what was written to the promoted target back into the source
 *   topic, which is read-only (a mirror of the target) until it fails back.
 */
export type TopicMirrorState = 'promoted' | 'reversed';

export interface TopicPartitionMark {
  readonly partition: number;
  /** The target's log end when promoted: both topics share their offsets below it. */
  readonly targetEnd: number;
  /** The source's log end last known then (null: never seen). */
  readonly sourceEnd: number | null;
}

export interface TopicState {
  readonly state: TopicMirrorState;
  /** promote: planned; failover: unplanned (the source was gone); manual: tributary.mirror.of removed by hand. */
  readonly kind: 'promote' | 'failover' | 'manual';
  readonly at: number;
  readonly targetTopic: string;
  readonly partitions: readonly TopicPartitionMark[];
}

/** Why a unit cannot copy (the partition stays behind until someone acts). */
export interface UnitError {
  readonly message: string;
  /** The first offset it could not copy. */
  readonly offset: number;
  /** The target's limit that offset's batch exceeds, when that is the problem. */
  readonly limit: { readonly name: string; readonly value: number } | null;
}

/** One unit's progress, as its worker last reported it. */
export interface UnitStatus {
  readonly flow: string;
  readonly topic: string;
  readonly partition: number;
  readonly targetTopic: string;
  readonly mode: 'preserve' | 'translate';
  /** forward: source -> target; reverse: a reversed topic, target -> source. */
  readonly direction: 'forward' | 'reverse';
  readonly state: 'copying' | 'paused' | 'error' | 'promoted';
  /** Next offset to copy, in the partition read from. */
  readonly position: number;
  /** The high watermark of the partition read from, when last fetched. */
  readonly sourceEnd: number;
  /** Timestamp of the oldest record not yet copied; -1 when none was waiting at updatedAt. */
  readonly oldestPendingTimestamp: number;
  /** When the unit last had copied everything it saw. */
  readonly caughtUpAt: number;
  readonly worker: string;
  readonly updatedAt: number;
  readonly error: UnitError | null;
}

export interface FlowError {
  readonly at: number;
  readonly message: string;
  readonly topic: string | null;
  readonly partition: number | null;
}

export interface FlowThrottle {
  /** 0: unlimited. */
  readonly bytesPerSecond: number;
  readonly recordsPerSecond: number;
}

/** A mirror worker process, as it describes itself every second. */
export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly seenAt: number;
  /** The units it runs now, as "flow|topic|partition". */
  readonly units: readonly string[];
}

/** The flow's shared state, read in one go for status. */
export interface FlowRecord {
  readonly state: FlowState;
  readonly throttle: FlowThrottle;
  readonly units: UnitStatus[];
  readonly topics: Map<string, TopicState>;
  readonly lastCheckpoint: { at: number; groups: number } | null;
  /** Newest first. */
  readonly errors: FlowError[];
  /** Over the last five whole seconds, every worker counted. */
  readonly throughput: { recordsPerSecond: number; bytesPerSecond: number };
  /** End-to-end replication latency from heartbeats (ms). */
  readonly latencyMs: { p50: number; p99: number; samples: number } | null;
}

/** A translate-mode unit's last acknowledged write: a lower bound for where it resumes. */
export interface UnitProgress {
  readonly sourceOffset: number;
  readonly targetOffset: number;
}

/**
 * Every key of the replicator's state in Redis, under `<namespace>:mirror:`. The one table
 * of them: docs/architecture.md lists the same.
 */
export const MIRROR_KEYS = {
  /** hash: state (running|paused), throttleBytes, throttleRecords, lastCheckpointAt, lastCheckpointGroups */
  flow: (f: string) => ['flow', f],
  /** hash: source topic -> TopicState (promoted and reversed topics only) */
  topics: (f: string) => ['topics', f],
  /** int: bumped on every topic state change, so managers and units notice within a round */
  topicsVersion: (f: string) => ['topics-version', f],
  /** hash: "topic|partition" -> UnitStatus */
  status: (f: string) => ['status', f],
  /** list: FlowError, newest first, 20 kept */
  errors: (f: string) => ['errors', f],
  /** int: bytes or records copied in one second (expire after 10 s) */
  rate: (f: string, second: number, what: 'bytes' | 'records') => ['rate', f, second, what],
  /** hash: tatBytes, tatRecords: the throttle's theoretical arrival times (GCRA) */
  throttle: (f: string) => ['throttle', f],
  /** list: replication latencies from heartbeats (ms), 1000 kept */
  latency: (f: string) => ['latency', f],
  /** string: UnitProgress of a translate-mode unit */
  progress: (f: string, topic: string, partition: number) => ['progress', f, topic, partition],
  /** zset: worker id -> last heartbeat (ms) */
  workers: () => ['workers'],
  /** string: WorkerInfo JSON (expires after 10 s) */
  worker: (id: string) => ['worker', id],
  /** hash: flow -> its number of units */
  units: () => ['units'],
  /** string: a lease's token (PX) */
  lock: (name: string) => ['lock', name],
  /** string: someone waits for this lease (PX) */
  lockWait: (name: string) => ['lockwait', name],
} as const;

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * A flow's throttle as GCRA (virtual scheduling), shared by every worker: each write moves
 * the flow's theoretical arrival time on by cost / rate, and waits until that time is less
 * than BURST_MS ahead of now. Debt carries over from one second to the next, so the average
 * holds whatever the number of partitions and however the writes fall.
 * KEYS[1] throttle hash; ARGV: now (ms), bytes, records, bytes/s, records/s, burst (ms).
 * Returns the wait in ms (0: go now).
 */
const TAKE_THROTTLE = `
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[6])
local wait = 0
local function take(field, cost, rate)
  if rate <= 0 or cost <= 0 then return end
  local tat = tonumber(redis.call('HGET', KEYS[1], field) or '0')
  if tat < now then tat = now end
  tat = tat + cost * 1000 / rate
  redis.call('HSET', KEYS[1], field, string.format('%.3f', tat))
  if tat - now - burst > wait then wait = tat - now - burst end
end
take('tatBytes', tonumber(ARGV[2]), tonumber(ARGV[4]))
take('tatRecords', tonumber(ARGV[3]), tonumber(ARGV[5]))
redis.call('PEXPIRE', KEYS[1], 3600000)
return math.ceil(wait)
`;

/** How far ahead of its rate a throttled flow may write: one second's worth. */
export const THROTTLE_BURST_MS = 1000;

/**
 * The replicator's shared state in Redis: flow controls (pause, throttle), topic states
 * (promoted, reversed), unit status and progress, the live workers, leases and latency
 * samples. Every process that runs, watches or steers flows of one namespace reads and
 * writes it here; none keeps state of its own that another needs.
 */
export class MirrorStore {
  readonly workerId = `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly startedAt = Date.now();

  constructor(
    readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  private key(parts: readonly (string | number)[]): string {
    return [this.namespace, 'mirror', ...parts].join(':');
  }

  // ---- flow controls ---------------------------------------------------------------------

  async flowState(flow: string): Promise<FlowState> {
    return (
      ((await this.redis.hget(this.key(MIRROR_KEYS.flow(flow)), 'state')) as FlowState | null) ?? 'running'
    );
  }

  async setFlowState(flow: string, state: FlowState): Promise<void> {
    await this.redis.hset(this.key(MIRROR_KEYS.flow(flow)), 'state', state);
  }

  /** The throttle set at runtime, else the configured one (0: unlimited). */
  async throttle(flow: string, configured: FlowThrottle): Promise<FlowThrottle> {
    const [bytes, records] = await this.redis.hmget(
      this.key(MIRROR_KEYS.flow(flow)),
      'throttleBytes',
      'throttleRecords',
    );
    return {
      bytesPerSecond: bytes === null ? configured.bytesPerSecond : Number(bytes),
      recordsPerSecond: records === null ? configured.recordsPerSecond : Number(records),
    };
  }

  async setThrottle(flow: string, t: FlowThrottle): Promise<void> {
    await this.redis
      .multi()
      .hset(
        this.key(MIRROR_KEYS.flow(flow)),
        'throttleBytes',
        String(t.bytesPerSecond),
        'throttleRecords',
        String(t.recordsPerSecond),
      )
      // A new limit starts from now, not from the old one's debt.
      .del(this.key(MIRROR_KEYS.throttle(flow)))
      .exec();
  }

  /** Takes a write's cost from the flow's throttle; returns how many ms to wait before writing it. */
  async takeThrottle(flow: string, bytes: number, records: number, limit: FlowThrottle): Promise<number> {
    if (limit.bytesPerSecond <= 0 && limit.recordsPerSecond <= 0) return 0;
    const wait = await this.redis.eval(
      TAKE_THROTTLE,
      1,
      this.key(MIRROR_KEYS.throttle(flow)),
      String(Date.now()),
      String(bytes),
      String(records),
      String(limit.bytesPerSecond),
      String(limit.recordsPerSecond),
      String(THROTTLE_BURST_MS),
    );
    return Number(wait);
  }

  /** Counts copied bytes and records towards the flow's throughput (one window a second, every worker). */
  async countCopied(flow: string, bytes: number, records: number): Promise<void> {
    const second = Math.floor(Date.now() / 1000);
    const kb = this.key(MIRROR_KEYS.rate(flow, second, 'bytes'));
    const kr = this.key(MIRROR_KEYS.rate(flow, second, 'records'));
    await this.redis
      .multi()
      .incrby(kb, bytes)
      .pexpire(kb, 10_000)
      .incrby(kr, records)
      .pexpire(kr, 10_000)
      .exec();
  }

  private async throughput(flow: string): Promise<{ recordsPerSecond: number; bytesPerSecond: number }> {
    const now = Math.floor(Date.now() / 1000);
    const seconds = [1, 2, 3, 4, 5].map((d) => now - d);
    const values = await this.redis.mget(
      ...seconds.flatMap((s) => [
        this.key(MIRROR_KEYS.rate(flow, s, 'bytes')),
        this.key(MIRROR_KEYS.rate(flow, s, 'records')),
      ]),
    );
    let bytes = 0;
    let records = 0;
    values.forEach((v, i) => {
      if (i % 2 === 0) bytes += Number(v ?? 0);
      else records += Number(v ?? 0);
    });
    return { recordsPerSecond: records / 5, bytesPerSecond: bytes / 5 };
  }

  async noteCheckpoint(flow: string, groups: number): Promise<void> {
    await this.redis.hset(
      this.key(MIRROR_KEYS.flow(flow)),
      'lastCheckpointAt',
      String(Date.now()),
      'lastCheckpointGroups',
      String(groups),
    );
  }

  async recordError(
    flow: string,
    message: string,
    topic: string | null = null,
    partition: number | null = null,
  ): Promise<void> {
    const k = this.key(MIRROR_KEYS.errors(flow));
    const e: FlowError = { at: Date.now(), message, topic, partition };
    await this.redis.multi().lpush(k, JSON.stringify(e)).ltrim(k, 0, 19).exec();
  }

  // ---- topic states ----------------------------------------------------------------------

  async topicStates(flow: string): Promise<Map<string, TopicState>> {
    const all = await this.redis.hgetall(this.key(MIRROR_KEYS.topics(flow)));
    return new Map(Object.entries(all).map(([t, v]) => [t, JSON.parse(v) as TopicState]));
  }

  async topicState(flow: string, topic: string): Promise<TopicState | null> {
    const v = await this.redis.hget(this.key(MIRROR_KEYS.topics(flow)), topic);
    return v === null ? null : (JSON.parse(v) as TopicState);
  }

  /** Sets (or with null, clears: back to mirroring) a topic's state, and tells every worker. */
  async setTopicState(flow: string, topic: string, state: TopicState | null): Promise<void> {
    const m = this.redis.multi();
    if (state === null) m.hdel(this.key(MIRROR_KEYS.topics(flow)), topic);
    else m.hset(this.key(MIRROR_KEYS.topics(flow)), topic, JSON.stringify(state));
    await m.incr(this.key(MIRROR_KEYS.topicsVersion(flow))).exec();
  }

  async topicsVersion(flow: string): Promise<number> {
    return Number((await this.redis.get(this.key(MIRROR_KEYS.topicsVersion(flow)))) ?? 0);
  }

  // ---- units -----------------------------------------------------------------------------

  async setUnitStatus(s: UnitStatus): Promise<void> {
    await this.redis.hset(
      this.key(MIRROR_KEYS.status(s.flow)),
      `${s.topic}|${s.partition}`,
      JSON.stringify(s),
    );
  }

  async unitStatus(flow: string, topic: string, partition: number): Promise<UnitStatus | null> {
    const v = await this.redis.hget(this.key(MIRROR_KEYS.status(flow)), `${topic}|${partition}`);
    return v === null ? null : (JSON.parse(v) as UnitStatus);
  }

  async progress(flow: string, topic: string, partition: number): Promise<UnitProgress | null> {
    const v = await this.redis.get(this.key(MIRROR_KEYS.progress(flow, topic, partition)));
    return v === null ? null : (JSON.parse(v) as UnitProgress);
  }

  async setProgress(flow: string, topic: string, partition: number, p: UnitProgress): Promise<void> {
    await this.redis.set(this.key(MIRROR_KEYS.progress(flow, topic, partition)), JSON.stringify(p));
  }

  async recordLatency(flow: string, ms: readonly number[]): Promise<void> {
    if (ms.length === 0) return;
    const k = this.key(MIRROR_KEYS.latency(flow));
    await this.redis
      .multi()
      .lpush(k, ...ms.map((v) => String(Math.max(0, Math.round(v)))))
      .ltrim(k, 0, 999)
      .exec();
  }

  /** Everything status shows of a flow, in one round of reads. */
  async flowRecord(flow: string, configuredThrottle: FlowThrottle): Promise<FlowRecord> {
    const [throttle, flowHash, units, topics, errors, latencies, throughput] = await Promise.all([
      this.throttle(flow, configuredThrottle),
      this.redis.hgetall(this.key(MIRROR_KEYS.flow(flow))),
      this.redis.hgetall(this.key(MIRROR_KEYS.status(flow))),
      this.topicStates(flow),
      this.redis.lrange(this.key(MIRROR_KEYS.errors(flow)), 0, -1),
      this.redis.lrange(this.key(MIRROR_KEYS.latency(flow)), 0, -1),
      this.throughput(flow),
    ]);
    const sorted = latencies.map(Number).sort((a, b) => a - b);
    const pick = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
    return {
      state: (flowHash.state as FlowState | undefined) ?? 'running',
      throttle,
      throughput,
      topics,
      units: Object.values(units)
        .map((v) => JSON.parse(v) as UnitStatus)
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
      lastCheckpoint:
        flowHash.lastCheckpointAt === undefined
          ? null
          : { at: Number(flowHash.lastCheckpointAt), groups: Number(flowHash.lastCheckpointGroups ?? 0) },
      errors: errors.map((e) => JSON.parse(e) as FlowError),
      latencyMs: sorted.length === 0 ? null : { p50: pick(0.5), p99: pick(0.99), samples: sorted.length },
    };
  }

  // ---- workers ---------------------------------------------------------------------------

  /** This worker is alive and runs these units. */
  async heartbeatWorker(units: readonly string[]): Promise<void> {
    const now = Date.now();
    const info: WorkerInfo = {
      id: this.workerId,
      host: os.hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      seenAt: now,
      units,
    };
    await this.redis
      .multi()
      .zadd(this.key(MIRROR_KEYS.workers()), now, this.workerId)
      .set(this.key(MIRROR_KEYS.worker(this.workerId)), JSON.stringify(info), 'PX', 10_000)
      .exec();
  }

  async removeWorker(): Promise<void> {
    await this.redis
      .multi()
      .zrem(this.key(MIRROR_KEYS.workers()), this.workerId)
      .del(this.key(MIRROR_KEYS.worker(this.workerId)))
      .exec();
  }

  /** Workers seen within `withinMs` (at least 1: the caller). */
  async liveWorkers(withinMs: number): Promise<number> {
    const now = Date.now();
    await this.redis.zremrangebyscore(this.key(MIRROR_KEYS.workers()), 0, now - 10 * withinMs);
    return Math.max(1, await this.redis.zcount(this.key(MIRROR_KEYS.workers()), now - withinMs, '+inf'));
  }

  /** When a worker was last seen (ms), or null when it is long gone. */
  async workerSeenAt(id: string): Promise<number | null> {
    const score = await this.redis.zscore(this.key(MIRROR_KEYS.workers()), id);
    return score === null ? null : Number(score);
  }

  /** The workers seen recently, with what they run. */
  async workers(): Promise<WorkerInfo[]> {
    const ids = await this.redis.zrangebyscore(this.key(MIRROR_KEYS.workers()), Date.now() - 10_000, '+inf');
    if (ids.length === 0) return [];
    const infos = await this.redis.mget(...ids.map((id) => this.key(MIRROR_KEYS.worker(id))));
    return infos.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerInfo);
  }

  async setUnitCount(flow: string, count: number): Promise<void> {
    await this.redis.hset(this.key(MIRROR_KEYS.units()), flow, String(count));
  }

  /** Units of every flow: what the live workers share. */
  async unitCount(): Promise<number> {
    const perFlow = await this.redis.hvals(this.key(MIRROR_KEYS.units()));
    return perFlow.reduce((n, v) => n + Number(v), 0);
  }

  // ---- leases ----------------------------------------------------------------------------

  /** A lease held by one owner at a time (one writer per target partition, one manager per flow). */
  async acquire(name: string, ttlMs: number): Promise<string | null> {
    const token = `${this.workerId}-${randomUUID().slice(0, 8)}`;
    const ok = await this.redis.set(this.key(MIRROR_KEYS.lock(name)), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.redis.eval(RENEW_LOCK, 1, this.key(MIRROR_KEYS.lock(name)), token, String(ttlMs))) === 1
    );
  }

  /** Tells a lease's holder that someone waits for it (lasts `ttlMs`). */
  async wantLease(name: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(MIRROR_KEYS.lockWait(name)), '1', 'PX', ttlMs);
  }

  /** Whether someone waits for this lease (the holder then hands it on at its next step). */
  async leaseWanted(name: string): Promise<boolean> {
    return (await this.redis.exists(this.key(MIRROR_KEYS.lockWait(name)))) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE_LOCK, 1, this.key(MIRROR_KEYS.lock(name)), token);
  }
}
