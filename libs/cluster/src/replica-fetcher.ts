import { ErrorCode, Fetch, KafkaProtocolError, ListOffsets, type ResponseOf } from '@tributary/protocol';
import { Connection, type SecurityOptions } from '@tributary/client';
import type { BrokerLogger, Partition, ReplicationConfig } from '@tributary/broker';
import type { ClusterMetadata } from './cluster-metadata';

type FetchResponse = ResponseOf<typeof Fetch>;
type FetchedPartition = FetchResponse['responses'][number]['partitions'][number];

/** Errors after which a partition waits for the cluster's next state (leadership moved, the leader is behind). */
const RETRY_LATER = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.KAFKA_STORAGE_ERROR,
]);

/**
 * Bytes per second for replicas being added by a reassignment
 * (follower.replication.throttled.rate), shared by all of a broker's fetchers.
 */
export class ReplicationThrottle {
  private tokens: number;
  private last = Date.now();

  constructor(private rate: number) {
    this.tokens = Math.min(rate, 1 << 20);
  }

  get bytesPerSecond(): number {
    return this.rate;
  }

  /** A new rate (follower.replication.throttled.rate changed at runtime), from now on. */
  setRate(bytesPerSecond: number): void {
    this.rate = bytesPerSecond;
    this.tokens = Math.min(this.tokens, bytesPerSecond);
  }

  get unlimited(): boolean {
    return this.bytesPerSecond >= Number.MAX_SAFE_INTEGER;
  }

  /** Bytes that may be fetched now (at most `cap`), or 0 with the ms to wait. */
  available(cap: number, now = Date.now()): { bytes: number; waitMs: number } {
    if (this.unlimited) return { bytes: cap, waitMs: 0 };
    this.tokens = Math.min(
      this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000,
      this.bytesPerSecond,
    );
    this.last = now;
    if (this.tokens >= 1) return { bytes: Math.max(1, Math.min(cap, Math.floor(this.tokens))), waitMs: 0 };
    return { bytes: 0, waitMs: Math.ceil(((1 - this.tokens) * 1000) / this.bytesPerSecond) };
  }

  consume(bytes: number): void {
    if (!this.unlimited) this.tokens -= bytes;
  }
}

interface FetchEntry {
  readonly topic: string;
  readonly partition: number;
  readonly replica: Partition;
  leaderEpoch: number;
  /** Being added by a reassignment: fetched within the throttle. */
  throttled: boolean;
  retryAt: number;
}

export interface FetcherDeps {
  readonly localId: number;
  /** How to reach the leaders' inter-broker listener (TLS, SASL). */
  readonly security: SecurityOptions;
  readonly config: ReplicationConfig;
  readonly metadata: ClusterMetadata;
  readonly throttle: ReplicationThrottle;
  readonly logger: BrokerLogger;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Kafka's ReplicaFetcherThread: one per (this follower, a leader), fetching every partition
 * this broker follows on that leader with Kafka's follower Fetch (replicaId = this broker,
 * v12 with lastFetchedEpoch). The batches come back as the leader stored them and are
 * appended as they are; the leader's high watermark and log start follow. A log that
 * diverged from the leader (divergingEpoch) is truncated where the epochs part (KIP-101,
 * KIP-595); one outside the leader's range is truncated to the leader's end or restarted at
 * its log start.
 */
export class ReplicaFetcher {
  private readonly entries = new Map<string, FetchEntry>();
  private connection: Connection | null = null;
  private running = true;
  private wake: (() => void) | null = null;
  private readonly done: Promise<void>;
  private lastError = '';

  constructor(
    readonly leaderId: number,
    private readonly deps: FetcherDeps,
  ) {
    this.done = this.run();
  }

  get size(): number {
    return this.entries.size;
  }

  has(topic: string, partition: number): boolean {
    return this.entries.has(key(topic, partition));
  }

  /** Fetches `replica` from this leader in `leaderEpoch` (updating the epoch of a partition already fetched). */
  set(topic: string, partition: number, replica: Partition, leaderEpoch: number, throttled: boolean): void {
    const k = key(topic, partition);
    const e = this.entries.get(k);
    if (e !== undefined && e.replica === replica) {
      if (e.leaderEpoch !== leaderEpoch) e.retryAt = 0;
      e.leaderEpoch = leaderEpoch;
      e.throttled = throttled;
    } else {
      this.entries.set(k, { topic, partition, replica, leaderEpoch, throttled, retryAt: 0 });
    }
    this.wake?.();
  }

  remove(topic: string, partition: number): void {
    this.entries.delete(key(topic, partition));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.connection?.close();
    this.connection = null;
    await this.done;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private async connect(): Promise<Connection> {
    if (this.connection?.isOpen) return this.connection;
    this.connection?.close();
    this.connection = null;
    const leader = this.deps.metadata.registration(this.leaderId);
    if (leader === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.BROKER_NOT_AVAILABLE,
        `leader ${this.leaderId} is not registered`,
      );
    }
    const conn = new Connection({
      host: leader.host,
      port: leader.port,
      clientId: `broker-${this.deps.localId}-fetcher-${this.leaderId}`,
      requestTimeoutMs: this.deps.config.replicaSocketTimeoutMs,
      connectTimeoutMs: this.deps.config.replicaSocketTimeoutMs,
      ssl: this.deps.security.ssl,
      sasl: this.deps.security.sasl,
    });
    await conn.connect();
    this.connection = conn;
    return conn;
  }

  private async run(): Promise<void> {
    const config = this.deps.config;
    while (this.running) {
      const now = Date.now();
      const ready = [...this.entries.values()].filter((e) => e.retryAt <= now);
      if (ready.length === 0) {
        const next = Math.min(...[...this.entries.values()].map((e) => e.retryAt));
        await this.sleep(Number.isFinite(next) ? Math.max(1, next - now) : 60_000);
        continue;
      }
      try {
        const conn = await this.connect();
        const sent = this.request(ready, now);
        if (sent.length === 0) continue;
        const response = await conn.request(
          Fetch,
          {
            clusterId: null,
            replicaId: this.deps.localId,
            maxWaitMs: config.replicaFetchWaitMaxMs,
            minBytes: config.replicaFetchMinBytes,
            maxBytes: config.replicaFetchResponseMaxBytes,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [...groupByTopic(sent)].map(([topic, parts]) => ({
              topic,
              partitions: parts.map((p) => p.request),
            })),
            forgottenTopicsData: [],
            rackId: '',
          },
          { timeoutMs: config.replicaFetchWaitMaxMs + config.replicaSocketTimeoutMs },
        );
        if (response.errorCode !== ErrorCode.NONE) {
          throw new KafkaProtocolError(response.errorCode, `fetch from broker ${this.leaderId}`);
        }
        for (const t of response.responses) {
          for (const p of t.partitions) {
            const s = sent.find((x) => x.entry.topic === t.topic && x.entry.partition === p.partitionIndex);
            if (s !== undefined) await this.handle(conn, s.entry, s.request.fetchOffset, p);
          }
        }
        this.lastError = '';
      } catch (err) {
        if (!this.running) break;
        const message = (err as Error).message;
        if (message !== this.lastError)
          this.deps.logger.warn(`replica fetcher for broker ${this.leaderId}: ${message}`);
        this.lastError = message;
        this.connection?.close();
        this.connection = null;
        await this.sleep(config.replicaFetchBackoffMs);
      }
    }
  }

  private request(ready: FetchEntry[], now: number) {
    const out: {
      entry: FetchEntry;
      request: {
        partition: number;
        currentLeaderEpoch: number;
        fetchOffset: number;
        lastFetchedEpoch: number;
        logStartOffset: number;
        partitionMaxBytes: number;
      };
    }[] = [];
    for (const entry of ready) {
      const log = entry.replica.log;
      let maxBytes = this.deps.config.replicaFetchMaxBytes;
      if (entry.throttled) {
        const allowed = this.deps.throttle.available(maxBytes, now);
        if (allowed.bytes === 0) {
          entry.retryAt = now + allowed.waitMs;
          continue;
        }
        maxBytes = allowed.bytes;
      }
      out.push({
        entry,
        request: {
          partition: entry.partition,
          currentLeaderEpoch: entry.leaderEpoch,
          fetchOffset: log.logEndOffset,
          lastFetchedEpoch: log.latestEpoch,
          logStartOffset: log.logStartOffset,
          partitionMaxBytes: maxBytes,
        },
      });
    }
    return out;
  }

  /** One partition of a fetch response, if the partition is still fetched as it was when asked. */
  private async handle(
    conn: Connection,
    entry: FetchEntry,
    fetchOffset: number,
    p: FetchedPartition,
  ): Promise<void> {
    const current = this.entries.get(key(entry.topic, entry.partition));
    const log = entry.replica.log;
    if (current !== entry || log.logEndOffset !== fetchOffset || !log.isOnline) return;
    const name = `${entry.topic}-${entry.partition}`;
    try {
      if (p.errorCode === ErrorCode.NONE) {
        const d = p.divergingEpoch;
        if (d !== undefined && (d.epoch >= 0 || d.endOffset >= 0)) {
          this.truncateOnDivergence(entry, d.epoch, d.endOffset);
          return;
        }
        const records = p.records;
        if (records !== null && records.length > 0) {
          if (entry.throttled) this.deps.throttle.consume(records.length);
          entry.replica.appendFromLeader(records, p.highWatermark, p.logStartOffset);
        } else {
          entry.replica.followLeaderOffsets(p.highWatermark, p.logStartOffset);
        }
        return;
      }
      if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        await this.handleOutOfRange(conn, entry);
        return;
      }
      if (!RETRY_LATER.has(p.errorCode)) {
        this.deps.logger.warn(`fetching ${name} from broker ${this.leaderId}: error ${p.errorCode}`);
      }
      // The leader is only a moment behind in learning its new epoch: ask again soon.
      const backoff = this.deps.config.replicaFetchBackoffMs;
      entry.retryAt =
        Date.now() + (p.errorCode === ErrorCode.UNKNOWN_LEADER_EPOCH ? Math.min(backoff, 50) : backoff);
    } catch (err) {
      this.deps.logger.error(
        `replicating ${name} from broker ${this.leaderId} failed: ${(err as Error).message}`,
      );
      entry.retryAt = Date.now() + this.deps.config.replicaFetchBackoffMs;
    }
  }

  /**
   * Kafka's truncation by leader epoch: where the leader's epoch `leaderEpoch` ended
   * (`leaderEnd`), this log keeps what it has of that epoch and drops the rest; if this log
   * does not know that epoch, it drops back to where its own older epoch ended and asks again.
   */
  private truncateOnDivergence(entry: FetchEntry, leaderEpoch: number, leaderEnd: number): void {
    const log = entry.replica.log;
    const end = log.logEndOffset;
    let offset: number;
    if (leaderEpoch < 0) offset = Math.min(leaderEnd, end);
    else {
      const local = log.endOffsetForEpoch(leaderEpoch);
      if (local.leaderEpoch < 0) offset = Math.min(leaderEnd, end);
      else if (local.leaderEpoch !== leaderEpoch) offset = Math.min(local.endOffset, end);
      else offset = Math.min(leaderEnd, local.endOffset, end);
    }
    this.deps.logger.log(
      `${entry.topic}-${entry.partition} diverged from broker ${this.leaderId} (its epoch ${leaderEpoch} ends at ${leaderEnd}): truncating to ${offset}`,
    );
    log.truncateTo(Math.max(0, offset));
  }

  /** The fetch offset is outside the leader's log: behind its start (restart there) or past its end (truncate). */
  private async handleOutOfRange(conn: Connection, entry: FetchEntry): Promise<void> {
    const log = entry.replica.log;
    const before = log.logEndOffset;
    const leaderEnd = await this.listOffset(conn, entry, -1);
    const current = this.entries.get(key(entry.topic, entry.partition));
    if (current !== entry || log.logEndOffset !== before) return;
    const name = `${entry.topic}-${entry.partition}`;
    if (leaderEnd < before) {
      this.deps.logger.warn(
        `${name}: the leader's log ends at ${leaderEnd}, before this one (${before}); truncating`,
      );
      log.truncateTo(leaderEnd);
      return;
    }
    const leaderStart = await this.listOffset(conn, entry, -2);
    if (this.entries.get(key(entry.topic, entry.partition)) !== entry || log.logEndOffset !== before) return;
    if (before < leaderStart) {
      this.deps.logger.log(
        `${name}: the leader's log starts at ${leaderStart}, after this one's end; starting there`,
      );
      log.truncateFullyAndStartAt(leaderStart);
    }
  }

  private async listOffset(conn: Connection, entry: FetchEntry, timestamp: number): Promise<number> {
    const r = await conn.request(ListOffsets, {
      replicaId: this.deps.localId,
      isolationLevel: 0,
      topics: [
        {
          name: entry.topic,
          partitions: [
            {
              partitionIndex: entry.partition,
              currentLeaderEpoch: entry.leaderEpoch,
              timestamp,
              maxNumOffsets: 1,
            },
          ],
        },
      ],
    });
    const p = r.topics[0]?.partitions[0];
    if (p === undefined || p.errorCode !== ErrorCode.NONE) {
      throw new KafkaProtocolError(
        p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR,
        `ListOffsets from broker ${this.leaderId}`,
      );
    }
    return Number(p.offset);
  }
}

function groupByTopic<T extends { entry: FetchEntry }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.entry.topic) ?? [];
    list.push(item);
    out.set(item.entry.topic, list);
  }
  return out;
}

/** The fetchers of one broker, one per leader it follows. */
export class FetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();

  constructor(private readonly deps: FetcherDeps) {}

  /** Follows `leaderId` for the partition (moving it from another fetcher if its leader changed). */
  follow(
    topic: string,
    partition: number,
    replica: Partition,
    leaderId: number,
    leaderEpoch: number,
    throttled: boolean,
  ): void {
    for (const [id, f] of this.fetchers) if (id !== leaderId) this.removeFrom(id, f, topic, partition);
    let fetcher = this.fetchers.get(leaderId);
    if (fetcher === undefined) {
      fetcher = new ReplicaFetcher(leaderId, this.deps);
      this.fetchers.set(leaderId, fetcher);
    }
    fetcher.set(topic, partition, replica, leaderEpoch, throttled);
  }

  /** Stops fetching the partition (this broker leads it, or holds it no more). */
  unfollow(topic: string, partition: number): void {
    for (const [id, f] of this.fetchers) this.removeFrom(id, f, topic, partition);
  }

  private removeFrom(id: number, f: ReplicaFetcher, topic: string, partition: number): void {
    if (!f.has(topic, partition)) return;
    f.remove(topic, partition);
    if (f.size === 0) {
      this.fetchers.delete(id);
      void f.stop();
    }
  }

  async close(): Promise<void> {
    const all = [...this.fetchers.values()];
    this.fetchers.clear();
    await Promise.all(all.map((f) => f.stop()));
  }
}
