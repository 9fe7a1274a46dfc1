import {
  abortedTransactionFilter,
  BATCH,
  decodeRecordBatches,
  ErrorCode,
  Fetch,
  KafkaProtocolError,
  ListOffsets,
  type KafkaRecord,
} from '@tributary/protocol';
import { Cluster, isStaleMetadata, sleep } from '../cluster/cluster';
import { ConnectionError } from '../network/connection';
import type { ClientOptions } from '../options';
import { ASSIGNORS, type Assignor, type TopicPartitions } from './assignors';
import type { ConsumerGroupMetadata } from '../producer/transaction-manager';
import { GroupMember } from './group-member';
import { commitOffsets, fetchOffsets, type TopicPartitionOffset } from './group-offsets';

export interface ConsumerOptions extends ClientOptions {
  /** The consumer group (group.id); without one, partitions are assigned by hand with assign(). */
  readonly groupId?: string;
  /** Static membership (group.instance.id, KIP-345). */
  readonly groupInstanceId?: string;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** max.poll.interval.ms: the rebalance timeout the coordinator gives this member. */
  readonly rebalanceTimeoutMs?: number;
  /** Assignors by preference (partition.assignment.strategy): range, roundrobin, cooperative-sticky. */
  readonly assignors?: readonly (string | Assignor)[];
  readonly autoCommit?: boolean;
  readonly autoCommitIntervalMs?: number;
  /** Where to start without a committed offset (auto.offset.reset). */
  readonly autoOffsetReset?: 'earliest' | 'latest' | 'none';
  readonly fetchMinBytes?: number;
  readonly fetchMaxBytes?: number;
  readonly fetchMaxWaitMs?: number;
  readonly maxPartitionFetchBytes?: number;
  readonly isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** client.rack: the broker may point this consumer at a replica in its rack (KIP-392). */
  readonly rackId?: string;
}

export interface ConsumerMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: { key: string; value: Buffer | null }[];
  readonly leaderEpoch: number;
}

export interface ConsumerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly highWatermark: number;
  readonly messages: ConsumerMessage[];
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Called around rebalances, as the Java client's ConsumerRebalanceListener. */
export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Before partitions go to another member; offsets are committed right after (with auto commit). */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** The generation was lost (session expired): the partitions may already be elsewhere. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

export interface RunOptions {
  eachMessage?(message: ConsumerMessage): void | Promise<void>;
  eachBatch?(batch: ConsumerBatch): void | Promise<void>;
}

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to fetch; -1 until known. */
  fetchOffset: number;
  /** Next offset after the last record handed to the application: what a commit stores. */
  position: number;
  paused: boolean;
  /** Bumped on seek, so fetches in flight from before are dropped. */
  epoch: number;
  leaderEpoch: number;
  preferredReplica: number;
  highWatermark: number;
}

interface FetchedPartition {
  readonly state: PartitionState;
  readonly epoch: number;
  readonly fetchOffset: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly records: Buffer | null;
  readonly preferredReadReplica: number;
  /** read_committed: the transactions aborted in the fetched range (producer id, first offset). */
  readonly abortedTransactions: readonly { producerId: number; firstOffset: number }[];
}

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

function toList(a: TopicPartitions): TopicPartition[] {
  return [...a].flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
}

/**
 * The consumer: subscribes (names or regexes) as a group member, or is assigned partitions by
 * hand; fetches from each partition's leader (or the replica the broker prefers for its
 * rack) with one fetch in flight per broker, prefetching the next while the application
 * handles the last; commits automatically or on demand. Records are handed over through
 * run({ eachMessage | eachBatch }) or `for await (const m of consumer)`.
 */
export class Consumer implements AsyncIterable<ConsumerMessage> {
  private readonly cluster: Cluster;
  private readonly ownsCluster: boolean;
  private readonly member: GroupMember | null;
  private readonly partitions = new Map<string, PartitionState>();
  private subscription: (string | RegExp)[] = [];
  private subscribedTopics: string[] = [];
  private listener: RebalanceListener = {};
  private running = false;
  private stopped: Promise<void> | null = null;
  private stopRequested = false;
  private lastCommit = Date.now();
  private readonly inflight = new Map<number, Promise<void>>();
  private readonly completed: { node: number; partitions: FetchedPartition[] }[] = [];
  private wake: (() => void) | null = null;
  private lastMetadataCheck = 0;
  private readonly autoCommit: boolean;
  private readonly isolationLevel: number;

  constructor(
    readonly options: ConsumerOptions,
    cluster?: Cluster,
  ) {
    this.cluster = cluster ?? new Cluster(options);
    this.ownsCluster = cluster === undefined;
    this.autoCommit = options.autoCommit ?? options.groupId !== undefined;
    this.isolationLevel = options.isolationLevel === 'read_committed' ? 1 : 0;
    if (options.groupId !== undefined) {
      const assignors = (options.assignors ?? ['range', 'cooperative-sticky']).map((a) => {
        if (typeof a !== 'string') return a;
        const found = ASSIGNORS[a];
        if (found === undefined)
          throw new Error(`unknown assignor "${a}" (range, roundrobin, cooperative-sticky)`);
        return found;
      });
      const protocols = new Set(assignors.map((a) => a.rebalanceProtocol));
      if (protocols.size > 1 && assignors[0].rebalanceProtocol === 'COOPERATIVE') {
        throw new Error(
          'list an eager assignor first when mixing eager and cooperative ones (as the Java client requires)',
        );
      }
      this.member = new GroupMember(this.cluster, {
        groupId: options.groupId,
        groupInstanceId: options.groupInstanceId ?? null,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 45000,
        rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 300000,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 3000,
        assignors,
        rackId: options.rackId ?? null,
      });
    } else {
      this.member = null;
    }
  }

  /** Subscribes to topics by name or pattern; the group divides their partitions among its members. */
  subscribe(topics: readonly (string | RegExp)[], listener: RebalanceListener = {}): void {
    if (this.member === null) throw new Error('subscribe needs a groupId; use assign() without one');
    this.subscription = [...topics];
    this.listener = listener;
    if (topics.some((t) => t instanceof RegExp)) this.cluster.wantAllTopics();
    this.cluster.want(topics.filter((t): t is string => typeof t === 'string'));
    this.member.needsRejoin = true;
  }

  /** Takes these partitions directly (no group membership). Positions come from seek, commits, or the reset policy. */
  assign(partitions: readonly TopicPartition[]): void {
    if (this.member !== null && this.subscription.length > 0)
      throw new Error('assign() cannot be mixed with subscribe()');
    const keep = new Set(partitions.map((p) => tpKey(p.topic, p.partition)));
    for (const k of [...this.partitions.keys()]) if (!keep.has(k)) this.partitions.delete(k);
    for (const p of partitions) this.addPartition(p.topic, p.partition);
    this.cluster.want(partitions.map((p) => p.topic));
  }

  assignment(): TopicPartition[] {
    return [...this.partitions.values()].map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  private addPartition(topic: string, partition: number): PartitionState {
    const k = tpKey(topic, partition);
    let s = this.partitions.get(k);
    if (s === undefined) {
      s = {
        topic,
        partition,
        fetchOffset: -1,
        position: -1,
        paused: false,
        epoch: 0,
        leaderEpoch: -1,
        preferredReplica: -1,
        highWatermark: -1,
      };
      this.partitions.set(k, s);
    }
    return s;
  }

  /** Moves a partition's position: the next record handed over is the one at `offset`. */
  seek(tp: TopicPartition & { offset: number }): void {
    const s = this.partitions.get(tpKey(tp.topic, tp.partition));
    if (s === undefined) throw new Error(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    s.fetchOffset = tp.offset;
    s.position = tp.offset;
    s.epoch++;
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const s = this.partitions.get(tpKey(p.topic, p.partition));
      if (s !== undefined) {
        s.paused = true;
        s.epoch++;
        s.fetchOffset = s.position;
      }
    }
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) {
      const s = this.partitions.get(tpKey(p.topic, p.partition));
      if (s !== undefined) s.paused = false;
    }
    this.wake?.();
  }

  paused(): TopicPartition[] {
    return [...this.partitions.values()]
      .filter((s) => s.paused)
      .map((s) => ({ topic: s.topic, partition: s.partition }));
  }

  /** The next offset this consumer will hand over for a partition, or -1 while unknown. */
  /** Where this member stands in its group, for a transactional producer's sendOffsetsToTransaction. */
  groupMetadata(): ConsumerGroupMetadata {
    if (this.member === null || this.options.groupId === undefined)
      throw new Error('groupMetadata() needs a consumer with a groupId');
    return {
      groupId: this.options.groupId,
      generationId: this.member.generationId,
      memberId: this.member.memberId,
      groupInstanceId: this.options.groupInstanceId ?? null,
    };
  }

  position(tp: TopicPartition): number {
    return this.partitions.get(tpKey(tp.topic, tp.partition))?.position ?? -1;
  }

  // ---- commits ---------------------------------------------------------------------------

  /** Commits the given offsets, or every assigned partition's position. */
  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    const member = this.member;
    if (member === null) throw new Error('commit needs a groupId');
    const list =
      offsets ??
      [...this.partitions.values()]
        .filter((s) => s.position >= 0)
        .map((s) => ({
          topic: s.topic,
          partition: s.partition,
          offset: s.position,
          leaderEpoch: s.leaderEpoch,
        }));
    if (list.length === 0) return;
    await this.cluster.retry('OffsetCommit', async () => {
      try {
        await commitOffsets(
          this.cluster,
          await member.ensureCoordinator(),
          member.options.groupId,
          {
            generationId: member.generationId,
            memberId: member.memberId,
            groupInstanceId: member.options.groupInstanceId,
          },
          list,
        );
      } catch (err) {
        if (
          err instanceof KafkaProtocolError &&
          (err.code === ErrorCode.NOT_COORDINATOR || err instanceof ConnectionError)
        ) {
          member.coordinator = -1;
        }
        throw err;
      }
    });
    this.lastCommit = Date.now();
  }

  /** The group's committed offsets for these partitions (-1 where none). */
  async committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    const member = this.member;
    if (member === null) throw new Error('committed needs a groupId');
    return this.cluster.retry('OffsetFetch', async () =>
      fetchOffsets(this.cluster, await member.ensureCoordinator(), member.options.groupId, partitions),
    );
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.autoCommit || this.member === null || this.member.needsRejoin) return;
    if (Date.now() - this.lastCommit < (this.options.autoCommitIntervalMs ?? 5000)) return;
    try {
      await this.commit();
    } catch (err) {
      this.cluster.logger.warn(`auto commit failed: ${(err as Error).message}`);
    }
  }

  // ---- group membership ------------------------------------------------------------------

  private matchTopics(): string[] {
    const names = new Set<string>();
    const known = this.cluster.topics().map((t) => t.name);
    for (const s of this.subscription) {
      if (typeof s === 'string') names.add(s);
      else for (const t of known) if (s.test(t) && !t.startsWith('__')) names.add(t);
    }
    return [...names].sort();
  }

  /** Rejoins when the group rebalances or the subscription matches other topics now. */
  private async ensureMembership(): Promise<void> {
    const member = this.member;
    if (member === null || this.subscription.length === 0) return;
    if (
      Date.now() - this.lastMetadataCheck > (this.options.metadataMaxAgeMs ?? 300000) ||
      this.subscribedTopics.length === 0
    ) {
      this.lastMetadataCheck = Date.now();
      await this.cluster.refreshMetadata({ allowAutoTopicCreation: false }).catch(() => undefined);
      const topics = this.matchTopics();
      if (topics.join(',') !== this.subscribedTopics.join(',')) {
        this.subscribedTopics = topics;
        member.needsRejoin = true;
      }
    }
    if (member.fatalError !== null) throw member.fatalError;
    if (!member.needsRejoin) return;
    const owned = this.ownedAssignment();
    if (member.lost) {
      await this.dropPartitions(toList(owned), 'lost');
    } else if (member.rebalanceProtocol === 'EAGER' && owned.size > 0) {
      await this.dropPartitions(toList(owned), 'revoked');
    }
    const assignment = await member.join(this.subscribedTopics, this.ownedAssignment());
    const before = this.ownedAssignment();
    const revoked = toList(before).filter((tp) => !(assignment.get(tp.topic) ?? []).includes(tp.partition));
    const added = toList(assignment).filter((tp) => !(before.get(tp.topic) ?? []).includes(tp.partition));
    if (revoked.length > 0) {
      await this.dropPartitions(revoked, 'revoked');
      // Cooperative: what was given up can now go to its new owner, in a rebalance of its own.
      member.needsRejoin = true;
    }
    for (const tp of added) this.addPartition(tp.topic, tp.partition);
    if (added.length > 0) await this.listener.onPartitionsAssigned?.(added);
  }

  private ownedAssignment(): TopicPartitions {
    const out: TopicPartitions = new Map();
    for (const s of this.partitions.values()) out.set(s.topic, [...(out.get(s.topic) ?? []), s.partition]);
    return out;
  }

  private async dropPartitions(list: TopicPartition[], why: 'revoked' | 'lost'): Promise<void> {
    if (list.length === 0) return;
    if (why === 'revoked') {
      await this.listener.onPartitionsRevoked?.(list);
      if (this.autoCommit) {
        const offsets = list
          .map((tp) => this.partitions.get(tpKey(tp.topic, tp.partition)))
          .filter((s): s is PartitionState => s !== undefined && s.position >= 0)
          .map((s) => ({
            topic: s.topic,
            partition: s.partition,
            offset: s.position,
            leaderEpoch: s.leaderEpoch,
          }));
        await this.commit(offsets).catch((err: unknown) =>
          this.cluster.logger.warn(`commit before revoking failed: ${(err as Error).message}`),
        );
      }
    } else {
      await this.listener.onPartitionsLost?.(list);
    }
    for (const tp of list) this.partitions.delete(tpKey(tp.topic, tp.partition));
  }

  // ---- positions -------------------------------------------------------------------------

  /** Committed offsets for partitions without a position, else the reset policy. */
  private async ensurePositions(): Promise<void> {
    const missing = [...this.partitions.values()].filter((s) => s.fetchOffset < 0);
    if (missing.length === 0) return;
    let committed = new Map<string, number>();
    if (this.member !== null) {
      const found = await this.committed(missing.map((s) => ({ topic: s.topic, partition: s.partition })));
      committed = new Map(
        found.filter((o) => o.offset >= 0).map((o) => [tpKey(o.topic, o.partition), o.offset]),
      );
    }
    const reset: PartitionState[] = [];
    for (const s of missing) {
      const c = committed.get(tpKey(s.topic, s.partition));
      if (c === undefined) reset.push(s);
      else {
        s.fetchOffset = c;
        s.position = c;
      }
    }
    await this.resetPositions(reset);
  }

  private async resetPositions(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    const policy = this.options.autoOffsetReset ?? 'latest';
    if (policy === 'none') {
      throw new KafkaProtocolError(
        ErrorCode.OFFSET_OUT_OF_RANGE,
        `no committed offset for ${states.map((s) => `${s.topic}-${s.partition}`).join(', ')} and auto.offset.reset=none`,
      );
    }
    const timestamp = policy === 'earliest' ? -2 : -1;
    const offsets = await listOffsets(this.cluster, states, timestamp, this.isolationLevel);
    for (const s of states) {
      const o = offsets.get(tpKey(s.topic, s.partition));
      if (o === undefined) continue;
      s.fetchOffset = o;
      s.position = o;
      s.epoch++;
    }
  }

  // ---- fetching --------------------------------------------------------------------------

  private fetchNode(s: PartitionState): number {
    if (s.preferredReplica >= 0 && this.cluster.broker(s.preferredReplica) !== undefined)
      return s.preferredReplica;
    return this.cluster.leaderFor(s.topic, s.partition);
  }

  /** Starts a fetch for every broker that has fetchable partitions and nothing in flight or unread. */
  private startFetches(): void {
    const byNode = new Map<number, PartitionState[]>();
    // One response per broker waits to be handled while the next is fetched.
    const waiting = new Map<number, number>();
    for (const c of this.completed) waiting.set(c.node, (waiting.get(c.node) ?? 0) + 1);
    for (const s of this.partitions.values()) {
      if (s.paused || s.fetchOffset < 0) continue;
      let node: number;
      try {
        node = this.fetchNode(s);
      } catch {
        this.cluster.refreshMetadata().catch(() => undefined);
        continue;
      }
      if (this.inflight.has(node) || (waiting.get(node) ?? 0) >= 1) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), s]);
    }
    for (const [node, states] of byNode) {
      const p = this.fetchFrom(node, states).finally(() => {
        this.inflight.delete(node);
        this.wake?.();
      });
      this.inflight.set(node, p);
    }
  }

  private async fetchFrom(node: number, states: PartitionState[]): Promise<void> {
    const asked = states.map((s) => ({ state: s, epoch: s.epoch, fetchOffset: s.fetchOffset }));
    // Topic -> partition -> what was asked: the response is matched by look-up, not by search.
    type Asked = (typeof asked)[number];
    const byTopic = new Map<string, Map<number, Asked>>();
    for (const a of asked) {
      let partitions = byTopic.get(a.state.topic);
      if (partitions === undefined) byTopic.set(a.state.topic, (partitions = new Map<number, Asked>()));
      partitions.set(a.state.partition, a);
    }
    const maxWaitMs = this.options.fetchMaxWaitMs ?? 500;
    try {
      const conn = await this.cluster.connection(node);
      const r = await conn.request(
        Fetch,
        {
          replicaId: -1,
          maxWaitMs,
          minBytes: this.options.fetchMinBytes ?? 1,
          maxBytes: this.options.fetchMaxBytes ?? 52428800,
          isolationLevel: this.isolationLevel,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...byTopic].map(([topic, partitions]) => ({
            topic,
            partitions: [...partitions.values()].map((a) => ({
              partition: a.state.partition,
              currentLeaderEpoch: -1,
              fetchOffset: a.fetchOffset,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: this.options.maxPartitionFetchBytes ?? 1048576,
            })),
          })),
          forgottenTopicsData: [],
          rackId: this.options.rackId ?? '',
        },
        { timeoutMs: (this.options.requestTimeoutMs ?? 30000) + maxWaitMs },
      );
      if (r.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(r.errorCode, `fetch from broker ${node}`);
      const out: FetchedPartition[] = [];
      for (const t of r.responses) {
        for (const p of t.partitions) {
          const a = byTopic.get(t.topic)?.get(p.partitionIndex);
          if (a === undefined) continue;
          out.push({
            state: a.state,
            epoch: a.epoch,
            fetchOffset: a.fetchOffset,
            errorCode: p.errorCode,
            highWatermark: p.highWatermark,
            records: p.records,
            preferredReadReplica: p.preferredReadReplica,
            abortedTransactions: p.abortedTransactions ?? [],
          });
          // Prefetch: the next fetch starts after the last complete batch, before these are handled.
          if (p.errorCode === ErrorCode.NONE && p.records !== null && a.epoch === a.state.epoch) {
            const next = nextOffsetAfter(p.records);
            if (next > a.state.fetchOffset) a.state.fetchOffset = next;
          }
        }
      }
      this.completed.push({ node, partitions: out });
    } catch (err) {
      this.cluster.logger.warn(`fetch from broker ${node} failed: ${(err as Error).message}`);
      for (const s of states) s.preferredReplica = -1;
      await this.cluster.refreshMetadata().catch(() => undefined);
      await sleep(this.options.retryBackoffMs ?? 100);
    }
  }

  /** Hands one fetch's records to the application, dropping what a seek or pause made stale. */
  private async handle(result: FetchedPartition[], run: RunOptions): Promise<void> {
    for (const f of result) {
      // stop() from a handler: what is not handed over yet stays unconsumed (and uncommitted).
      if (this.stopRequested) return;
      const s = f.state;
      if (this.partitions.get(tpKey(s.topic, s.partition)) !== s || f.epoch !== s.epoch) continue;
      if (f.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        this.cluster.logger.warn(
          `${s.topic}-${s.partition}: offset ${f.fetchOffset} is out of range; resetting`,
        );
        await this.resetPositions([s]);
        continue;
      }
      if (f.errorCode !== ErrorCode.NONE) {
        if (isStaleMetadata(f.errorCode)) {
          s.preferredReplica = -1;
          await this.cluster.refreshMetadata().catch(() => undefined);
        }
        s.fetchOffset = f.fetchOffset;
        continue;
      }
      s.highWatermark = f.highWatermark;
      if (f.preferredReadReplica >= 0 && f.preferredReadReplica !== s.preferredReplica) {
        s.preferredReplica = f.preferredReadReplica;
      }
      if (f.records === null || f.records.length === 0) continue;
      const messages: ConsumerMessage[] = [];
      const skip = this.isolationLevel === 1 ? abortedTransactionFilter(f.abortedTransactions) : null;
      for (const batch of decodeRecordBatches(f.records)) {
        if (skip?.(batch) === true || batch.header.isControl) continue;
        for (const r of batch.records) {
          if (r.offset < f.fetchOffset) continue;
          messages.push(toMessage(s, r, batch.header.partitionLeaderEpoch));
        }
      }
      const skippedTo = nextOffsetAfter(f.records);
      if (messages.length === 0) {
        if (skippedTo > s.position) s.position = skippedTo;
        continue;
      }
      if (run.eachBatch) {
        await run.eachBatch({
          topic: s.topic,
          partition: s.partition,
          highWatermark: f.highWatermark,
          messages,
        });
        if (f.epoch !== s.epoch) continue;
        s.position = Math.max(s.position, skippedTo);
      } else if (run.eachMessage) {
        for (const m of messages) {
          await run.eachMessage(m);
          // A seek or pause inside the handler: stop here, the rest is stale.
          if (f.epoch !== s.epoch || this.partitions.get(tpKey(s.topic, s.partition)) !== s) break;
          s.position = m.offset + 1;
          if (this.stopRequested) break;
        }
        if (f.epoch === s.epoch && s.position === messages[messages.length - 1].offset + 1) {
          s.position = Math.max(s.position, skippedTo);
        }
      }
    }
  }

  /**
   * Runs until stop() or close(): keeps the group membership, fetches and hands records to
   * the callbacks, committing on the way when autoCommit is on. A callback that throws stops
   * the consumer with that error (its record is not committed).
   */
  run(options: RunOptions): Promise<void> {
    if (this.running) throw new Error('the consumer is already running');
    this.running = true;
    this.stopRequested = false;
    this.stopped = this.loop(options).finally(() => {
      this.running = false;
    });
    return this.stopped;
  }

  private async loop(run: RunOptions): Promise<void> {
    while (!this.stopRequested) {
      await this.ensureMembership();
      if (this.stopRequested) break;
      await this.ensurePositions();
      this.startFetches();
      const next = this.completed.shift();
      if (next === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          this.wake = () => {
            clearTimeout(timer);
            this.wake = null;
            resolve();
          };
        });
        await this.maybeAutoCommit();
        continue;
      }
      await this.handle(next.partitions, run);
      await this.maybeAutoCommit();
    }
  }

  /** Stops run() after the record being handled; resolves when it has returned. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.wake?.();
    await this.stopped?.catch(() => undefined);
    await Promise.allSettled([...this.inflight.values()]);
    this.completed.length = 0;
    for (const s of this.partitions.values()) s.fetchOffset = s.position;
  }

  /** Async iteration over records: `for await (const m of consumer)`; breaking out stops the consumer. */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerMessage> {
    const queue: ConsumerMessage[] = [];
    let notify: (() => void) | null = null;
    let pull: (() => void) | null = null;
    let failed = false;
    let failure: unknown;
    let done = false;
    const running = this.run({
      eachMessage: async (m) => {
        queue.push(m);
        notify?.();
        // Hand over one record at a time: the loop waits until the iterator has taken it.
        await new Promise<void>((resolve) => (pull = resolve));
      },
    }).then(
      () => (done = true),
      (err: unknown) => {
        failed = true;
        failure = err;
        done = true;
        notify?.();
      },
    );
    try {
      for (;;) {
        if (queue.length === 0) {
          // A failure of the run ends the iteration with its error, also when it came while
          // records were still queued.
          if (failed) throw failure;
          if (done) break;
          await new Promise<void>((resolve) => (notify = resolve));
          notify = null;
          continue;
        }
        const m = queue.shift() as ConsumerMessage;
        yield m;
        const release = pull as (() => void) | null;
        pull = null;
        release?.();
      }
    } finally {
      this.stopRequested = true;
      const release = pull as (() => void) | null;
      release?.();
      await running;
      await this.stop();
    }
  }

  /**
   * Stops; as the Java client, the rebalance listener hears of the revocation and offsets are
   * committed (with auto commit); then leaves the group and closes its connections.
   */
  async close(): Promise<void> {
    await this.stop();
    if (this.member !== null) {
      const owned = toList(this.ownedAssignment());
      await this.dropPartitions(owned, this.member.lost ? 'lost' : 'revoked');
      await this.member.leave();
    }
    if (this.ownsCluster) await this.cluster.close();
  }
}

function toMessage(s: PartitionState, r: KafkaRecord, leaderEpoch: number): ConsumerMessage {
  return {
    topic: s.topic,
    partition: s.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    headers: r.headers,
    leaderEpoch,
  };
}

/** The offset after the last complete batch in a fetch's records (a batch cut by max bytes is not counted). */
function nextOffsetAfter(records: Buffer): number {
  let at = 0;
  let next = -1;
  while (records.length - at >= BATCH.HEADER_SIZE) {
    const size = records.readInt32BE(at + BATCH.BATCH_LENGTH) + BATCH.LOG_OVERHEAD;
    if (at + size > records.length) break;
    const base = records.readInt32BE(at) * 4294967296 + records.readUInt32BE(at + 4);
    next = base + records.readInt32BE(at + BATCH.LAST_OFFSET_DELTA) + 1;
    at += size;
  }
  return next;
}

/** ListOffsets for partitions grouped by leader: -2 earliest, -1 latest, or a timestamp. */
export async function listOffsets(
  cluster: Cluster,
  partitions: readonly TopicPartition[],
  timestamp: number,
  isolationLevel = 0,
): Promise<Map<string, number>> {
  return cluster.retry('ListOffsets', async () => {
    const out = new Map<string, number>();
    for (const tp of partitions)
      if (cluster.topic(tp.topic) === undefined) await cluster.topicMetadata(tp.topic);
    const byLeader = new Map<number, TopicPartition[]>();
    for (const tp of partitions) {
      const leader = cluster.leaderFor(tp.topic, tp.partition);
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), tp]);
    }
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const byTopic = new Map<string, number[]>();
        for (const tp of list) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
        const r = await cluster.send(leader, ListOffsets, {
          replicaId: -1,
          isolationLevel,
          topics: [...byTopic].map(([name, ps]) => ({
            name,
            partitions: ps.map((partitionIndex) => ({
              partitionIndex,
              currentLeaderEpoch: -1,
              timestamp,
              maxNumOffsets: 1,
            })),
          })),
        });
        for (const t of r.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE)
              throw new KafkaProtocolError(p.errorCode, `ListOffsets ${t.name}-${p.partitionIndex}`);
            out.set(tpKey(t.name, p.partitionIndex), p.offset);
          }
        }
      }),
    );
    return out;
  });
}
