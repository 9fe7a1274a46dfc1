import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export type FlowState = 'running' | 'paused';

/** One unit's progress as the console shows it. */
export interface UnitStatus {
  readonly flow: string;
  readonly topic: string;
  readonly partition: number;
  readonly targetTopic: string;
  readonly mode: 'preserve' | 'translate';
  /** Next source offset to copy. */
  readonly position: number;
  /** The source partition's high watermark when last fetched. */
  readonly sourceEnd: number;
  readonly lagRecords: number;
  /** Age of the newest record not yet copied, else 0. */
  readonly lagSeconds: number;
  readonly records: number;
  readonly bytes: number;
  readonly worker: string;
  readonly updatedAt: number;
  readonly error: string | null;
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

export interface FlowStatus {
  readonly name: string;
  readonly state: FlowState;
  readonly throttle: FlowThrottle;
  readonly units: UnitStatus[];
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

const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * The replicator's shared state in Redis: flow controls (pause, throttle), unit status and
 * progress, the live workers, per-target-partition writer locks and latency samples. Keys
 * live under `<namespace>:mirror:`.
 */
export class MirrorStore {
  readonly workerId = `${process.pid}-${randomUUID().slice(0, 8)}`;

  constructor(
    readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  private key(...parts: (string | number)[]): string {
    return [this.namespace, 'mirror', ...parts].join(':');
  }

  // ---- flow controls ---------------------------------------------------------------------

  async flowState(flow: string): Promise<FlowState> {
    return ((await this.redis.hget(this.key('flow', flow), 'state')) as FlowState | null) ?? 'running';
  }

  async setFlowState(flow: string, state: FlowState): Promise<void> {
    await this.redis.hset(this.key('flow', flow), 'state', state);
  }

  /** The throttle set at runtime, else the configured one (0: unlimited). */
  async throttle(flow: string, configured: FlowThrottle): Promise<FlowThrottle> {
    const [bytes, records] = await this.redis.hmget(
      this.key('flow', flow),
      'throttleBytes',
      'throttleRecords',
    );
    return {
      bytesPerSecond: bytes === null ? configured.bytesPerSecond : Number(bytes),
      recordsPerSecond: records === null ? configured.recordsPerSecond : Number(records),
    };
  }

  async setThrottle(flow: string, t: FlowThrottle): Promise<void> {
    await this.redis.hset(
      this.key('flow', flow),
      'throttleBytes',
      String(t.bytesPerSecond),
      'throttleRecords',
      String(t.recordsPerSecond),
    );
  }

  /**
   * Counts a copied chunk against the flow's throughput and its throttle, one window per
   * second shared by every worker; returns how many ms to wait before the next (0: none).
   */
  async account(flow: string, bytes: number, records: number, limit: FlowThrottle): Promise<number> {
    const second = Math.floor(Date.now() / 1000);
    const kb = this.key('rate', flow, second, 'bytes');
    const kr = this.key('rate', flow, second, 'records');
    const r = await this.redis
      .multi()
      .incrby(kb, bytes)
      .pexpire(kb, 10_000)
      .incrby(kr, records)
      .pexpire(kr, 10_000)
      .exec();
    const usedBytes = Number(r?.[0]?.[1] ?? 0);
    const usedRecords = Number(r?.[2]?.[1] ?? 0);
    const over = (used: number, max: number): number =>
      max > 0 && used > max ? Math.ceil((used - max) / max) : 0;
    const seconds = Math.max(
      over(usedBytes, limit.bytesPerSecond),
      over(usedRecords, limit.recordsPerSecond),
    );
    return seconds === 0 ? 0 : (second + seconds) * 1000 - Date.now();
  }

  private async throughput(flow: string): Promise<{ recordsPerSecond: number; bytesPerSecond: number }> {
    const now = Math.floor(Date.now() / 1000);
    const seconds = [1, 2, 3, 4, 5].map((d) => now - d);
    const values = await this.redis.mget(
      ...seconds.flatMap((s) => [this.key('rate', flow, s, 'bytes'), this.key('rate', flow, s, 'records')]),
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
      this.key('flow', flow),
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
    const k = this.key('errors', flow);
    const e: FlowError = { at: Date.now(), message, topic, partition };
    await this.redis.multi().lpush(k, JSON.stringify(e)).ltrim(k, 0, 19).exec();
  }

  async clearErrors(flow: string): Promise<void> {
    await this.redis.del(this.key('errors', flow));
  }

  // ---- units -----------------------------------------------------------------------------

  async setUnitStatus(s: UnitStatus): Promise<void> {
    await this.redis.hset(this.key('status', s.flow), `${s.topic}|${s.partition}`, JSON.stringify(s));
  }

  async removeUnitStatus(flow: string, topic: string, partition: number): Promise<void> {
    await this.redis.hdel(this.key('status', flow), `${topic}|${partition}`);
  }

  async progress(flow: string, topic: string, partition: number): Promise<UnitProgress | null> {
    const v = await this.redis.get(this.key('progress', flow, topic, partition));
    return v === null ? null : (JSON.parse(v) as UnitProgress);
  }

  async setProgress(flow: string, topic: string, partition: number, p: UnitProgress): Promise<void> {
    await this.redis.set(this.key('progress', flow, topic, partition), JSON.stringify(p));
  }

  async recordLatency(flow: string, ms: number): Promise<void> {
    const k = this.key('latency', flow);
    await this.redis
      .multi()
      .lpush(k, String(Math.max(0, Math.round(ms))))
      .ltrim(k, 0, 999)
      .exec();
  }

  async flowStatus(flow: string, configuredThrottle: FlowThrottle): Promise<FlowStatus> {
    const [state, throttle, flowHash, units, errors, latencies, throughput] = await Promise.all([
      this.flowState(flow),
      this.throttle(flow, configuredThrottle),
      this.redis.hgetall(this.key('flow', flow)),
      this.redis.hgetall(this.key('status', flow)),
      this.redis.lrange(this.key('errors', flow), 0, -1),
      this.redis.lrange(this.key('latency', flow), 0, -1),
      this.throughput(flow),
    ]);
    const sorted = latencies.map(Number).sort((a, b) => a - b);
    const pick = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
    return {
      name: flow,
      state,
      throttle,
      throughput,
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

  async heartbeatWorker(): Promise<void> {
    await this.redis.zadd(this.key('workers'), Date.now(), this.workerId);
  }

  async removeWorker(): Promise<void> {
    await this.redis.zrem(this.key('workers'), this.workerId);
  }

  /** Workers seen within `withinMs`. */
  async liveWorkers(withinMs: number): Promise<number> {
    const now = Date.now();
    await this.redis.zremrangebyscore(this.key('workers'), 0, now - 10 * withinMs);
    return Math.max(1, await this.redis.zcount(this.key('workers'), now - withinMs, '+inf'));
  }

  async setUnitCount(flow: string, count: number): Promise<void> {
    await this.redis.hset(this.key('units'), flow, String(count));
  }

  /** Units of every flow: what the live workers share. */
  async unitCount(): Promise<number> {
    const perFlow = await this.redis.hvals(this.key('units'));
    return perFlow.reduce((n, v) => n + Number(v), 0);
  }

  // ---- locks -----------------------------------------------------------------------------

  /** A lease held by one owner at a time (one writer per target partition, one manager per flow). */
  async acquire(name: string, ttlMs: number): Promise<string | null> {
    const token = `${this.workerId}-${randomUUID().slice(0, 8)}`;
    const ok = await this.redis.set(this.key('lock', name), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  async renew(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(RENEW_LOCK, 1, this.key('lock', name), token, String(ttlMs))) === 1;
  }

  /** Tells a lease's holder that someone waits for it (lasts `ttlMs`). */
  async wantLease(name: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key('lockwait', name), '1', 'PX', ttlMs);
  }

  /** Whether someone waits for this lease (the holder then hands it on at its next step). */
  async leaseWanted(name: string): Promise<boolean> {
    return (await this.redis.exists(this.key('lockwait', name))) === 1;
  }

  async release(name: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE_LOCK, 1, this.key('lock', name), token);
  }
}
