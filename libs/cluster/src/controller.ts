import {
  ElectionType,
  type BrokerLogger,
  type ControllerAdmin,
  type OngoingReassignment,
  type PartitionResult,
  type PartitionState,
  type ReplicationConfig,
} from '@tributary/broker';
import { ErrorCode, errorCodeOf, KafkaProtocolError } from '@tributary/protocol';
import type { TopicConfig } from '@tributary/storage';
import type { ClusterMetadata } from './cluster-metadata';
import {
  cancelReassignment,
  electPreferred,
  electUnclean,
  preferredLeader,
  reconcilePartition,
  startReassignment,
  type BrokerLiveness,
} from './election';
import type { ClusterStore, ControllerLease, TopicRecord } from './redis/cluster-store';
import { ScriptError, ScriptRefusal } from './redis/scripts';

export interface ControllerOptions {
  readonly localId: number;
  readonly store: ClusterStore;
  readonly metadata: ClusterMetadata;
  readonly config: ReplicationConfig;
  /** Broker-level settings, for each topic's unclean.leader.election.enable. */
  /** A topic's configuration over the broker's current (static and dynamic) settings. */
  readonly resolveTopicConfig: (configs: Readonly<Record<string, string>>) => TopicConfig;
  readonly logger: BrokerLogger;
}

/**
 * The controller (Kafka's KafkaController, elected through a Redis lease instead of a
 * ZooKeeper node). Every broker tries to take the lease when nobody holds it; the winner's
 * controller epoch is one more than any before. The controller watches the registrations
 * and, level-triggered, brings every partition to the state the brokers' liveness calls
 * for (reconcilePartition): new leaders for partitions whose leader died or is shutting
 * down, dead followers out of the ISRs, completed reassignments. It also runs preferred
 * leader elections (auto.leader.rebalance.enable and ElectLeaders) and starts
 * reassignments. Every write is a compare-and-set fenced by its lease, so a controller that
 * lost the lease (a pause, a network split) cannot change anything.
 */
export class Controller implements ControllerAdmin {
  private lease: ControllerLease | null = null;
  /** When the lease was last renewed: past renewedAt + session timeout, this broker stops acting. */
  private renewedAt = 0;
  /** Missing registrations count as dead only after a session timeout as controller (brokers re-register after a Redis restart). */
  private actingSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private lastImbalanceCheck = 0;
  /** Each broker's incarnation when last seen, to notice restarts within a session timeout. */
  private readonly incarnations = new Map<number, string>();
  /** The brokers registered at the last look, to announce the ones whose registration expired. */
  private registered = new Set<number>();
  private stopped = false;

  constructor(private readonly options: ControllerOptions) {}

  isController(): boolean {
    return this.lease !== null && Date.now() - this.renewedAt < this.options.config.brokerSessionTimeoutMs;
  }

  get epoch(): number {
    return this.lease?.epoch ?? -1;
  }

  start(): void {
    const interval = this.options.config.brokerHeartbeatIntervalMs;
    this.timer = setInterval(() => this.tick(), interval);
    this.timer.unref();
    this.tick();
  }

  /** Something changed (a notification): reconcile soon, once. */
  poke(): void {
    if (this.lease !== null) this.schedule();
    else if (!this.stopped) void this.tryAcquire();
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.lease === null) void this.tryAcquire();
    else void this.renew();
  }

  private async tryAcquire(): Promise<void> {
    const { store, localId, config, logger } = this.options;
    try {
      const acquired = await store.acquireController(localId, config.brokerSessionTimeoutMs);
      if (acquired === null || this.stopped) return;
      const { epoch, confirmed } = acquired;
      // A broker that bounced while the controller was gone (perhaps the controller itself) is
      // noticed against what the previous controller saw.
      const seen = await store.readSeenIncarnations();
      this.incarnations.clear();
      for (const [id, incarnation] of seen) this.incarnations.set(id, incarnation);
      this.lease = { id: localId, epoch };
      // Unconfirmed by the Redis replicas, the lease is not acted on until a renewal is.
      this.renewedAt = confirmed ? Date.now() : 0;
      this.actingSince = Date.now();
      this.lastImbalanceCheck = Date.now();
      logger.log(
        `became the controller in epoch ${epoch}${confirmed ? '' : ' (acting once Redis replicas confirm the lease)'}`,
      );
      this.options.metadata.setController(this.lease);
      this.schedule();
    } catch (err) {
      if (store.connected) logger.warn(`controller election: ${(err as Error).message}`);
    }
  }

  private async renew(): Promise<void> {
    const lease = this.lease;
    if (lease === null) return;
    const { store, config, logger } = this.options;
    try {
      await store.renewController(lease, config.brokerSessionTimeoutMs);
      if (Date.now() - this.renewedAt > config.brokerSessionTimeoutMs) {
        // The lease lapsed while Redis was away and we got it back: give brokers time to re-register.
        this.actingSince = Date.now();
      }
      this.renewedAt = Date.now();
      this.schedule();
    } catch (err) {
      if (err instanceof ScriptRefusal && err.result === ScriptError.NotController) {
        logger.warn(`lost the controller lease of epoch ${lease.epoch}`);
        this.lease = null;
        return;
      }
      if (!this.isController()) logger.warn(`cannot renew the controller lease: ${(err as Error).message}`);
    }
  }

  /** Clean shutdown: the lease goes at once so that another broker takes over without waiting for it to expire. */
  async resign(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    const lease = this.lease;
    this.lease = null;
    if (lease === null) return;
    try {
      await this.options.store.resignController(lease);
      this.options.logger.log(`resigned as controller (epoch ${lease.epoch})`);
    } catch (err) {
      this.options.logger.warn(`resigning as controller: ${(err as Error).message}`);
    }
  }

  /** Stops acting without resigning (the broker is going away uncleanly, or leaving a test). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (err) {
          if (this.options.store.connected) this.options.logger.warn(`controller: ${(err as Error).message}`);
        }
      } while (this.again && this.isController() && !this.stopped);
    })().finally(() => {
      this.running = null;
    });
  }

  /**
   * The brokers' liveness. A broker that registered again with a new incarnation since the
   * last look restarted (bounced) and lost what it held in memory: for this pass it counts as
   * dead, so it loses its leaderships and ISR places and earns them back as any returning
   * broker does (Kafka's onBrokerFailure then onBrokerStartup).
   */
  private async liveness(topics: readonly TopicRecord[], detectBounces = false): Promise<BrokerLiveness> {
    const brokers = await this.options.store.readBrokers();
    this.options.metadata.setBrokers(brokers);
    const alive = new Set(brokers.map((b) => b.id));
    // An expiry publishes nothing by itself: announce it before any leadership moves, so no
    // broker answers Metadata with the dead leader after another has answered with the new one
    // (librdkafka 2.0 follows such a stale answer back and stays there).
    const expired = [...this.registered].some((id) => !alive.has(id));
    this.registered = new Set(alive);
    if (expired) await this.options.store.announceBrokers();
    if (Date.now() - this.actingSince < this.options.config.brokerSessionTimeoutMs) {
      // Still in the grace period: a replica that has not registered (yet) is not taken for dead.
      for (const t of topics) for (const p of t.partitions) for (const r of p.replicas) alive.add(r);
    }
    if (detectBounces) {
      const changed = new Map<number, string>();
      for (const b of brokers) {
        const before = this.incarnations.get(b.id);
        this.incarnations.set(b.id, b.incarnation);
        if (before === b.incarnation) continue;
        changed.set(b.id, b.incarnation);
        if (before !== undefined) {
          this.options.logger.log(`controller: broker ${b.id} restarted; it gives up what it led`);
          alive.delete(b.id);
        }
      }
      await this.options.store.saveSeenIncarnations(changed);
    }
    // A broker's replicas are in its one log dir: once that failed, they are offline (Kafka's
    // offline replicas), as good as dead for leadership and the ISR, though the broker lives.
    for (const b of brokers) if (b.offlineLogDirs.length > 0) alive.delete(b.id);
    return { alive, shuttingDown: new Set(brokers.filter((b) => b.shuttingDown).map((b) => b.id)) };
  }

  private unclean(topic: TopicRecord): boolean {
    try {
      return this.options.resolveTopicConfig(topic.configs).uncleanLeaderElectionEnable;
    } catch {
      return false;
    }
  }

  /** One pass over every partition, writing the states that must change. */
  private async reconcile(): Promise<void> {
    if (!this.isController()) return;
    const lease = this.lease as ControllerLease;
    const topics = await this.options.store.readTopics();
    const brokers = await this.liveness(topics, true);
    const rebalance =
      this.options.config.autoLeaderRebalanceEnable &&
      Date.now() - this.lastImbalanceCheck >= this.options.config.leaderImbalanceCheckIntervalMs;
    if (rebalance) this.lastImbalanceCheck = Date.now();
    const preferredMoves = rebalance ? this.imbalancedPartitions(topics, brokers) : new Set<string>();
    for (const topic of topics) {
      const unclean = this.unclean(topic);
      for (let p = 0; p < topic.partitions.length; p++) {
        if (!this.isController()) return;
        const current = topic.partitions[p];
        let next = reconcilePartition(current, brokers, unclean);
        if (next === null && preferredMoves.has(`${topic.name}\u0000${p}`))
          next = electPreferred(current, brokers);
        if (next === null) continue;
        try {
          await this.write(lease, topic.name, p, current, next);
        } catch (err) {
          if (err instanceof ScriptRefusal && err.result === ScriptError.NotController) return;
          if (err instanceof ScriptRefusal && err.result === ScriptError.VersionMismatch) continue;
          this.options.logger.warn(`controller: ${topic.name}-${p}: ${(err as Error).message}`);
        }
      }
    }
  }

  /**
   * Kafka's leader imbalance check: per broker, the share of the partitions it prefers to
   * lead that others lead; above leader.imbalance.per.broker.percentage, those partitions
   * go back to it.
   */
  private imbalancedPartitions(topics: readonly TopicRecord[], brokers: BrokerLiveness): Set<string> {
    const preferred = new Map<number, string[]>();
    const notLeading = new Map<number, number>();
    for (const t of topics) {
      t.partitions.forEach((s, p) => {
        const id = preferredLeader(s);
        if (id < 0) return;
        preferred.set(id, [...(preferred.get(id) ?? []), `${t.name}\u0000${p}`]);
        if (s.leaderId !== id) notLeading.set(id, (notLeading.get(id) ?? 0) + 1);
      });
    }
    const out = new Set<string>();
    for (const [id, keys] of preferred) {
      if (!brokers.alive.has(id) || brokers.shuttingDown.has(id)) continue;
      const ratio = ((notLeading.get(id) ?? 0) * 100) / keys.length;
      if (ratio > this.options.config.leaderImbalancePerBrokerPercentage) for (const k of keys) out.add(k);
    }
    return out;
  }

  private async write(
    lease: ControllerLease,
    topic: string,
    partition: number,
    current: PartitionState,
    next: PartitionState,
  ): Promise<boolean> {
    try {
      await this.options.store.updatePartition(lease, topic, partition, next);
    } catch (err) {
      if (err instanceof ScriptRefusal && err.result === ScriptError.NotController) {
        this.options.logger.warn(`lost the controller lease of epoch ${lease.epoch}`);
        if (this.lease === lease) this.lease = null;
      }
      if (err instanceof ScriptRefusal && err.result === ScriptError.VersionMismatch) this.again = true;
      throw err;
    }
    const what: string[] = [];
    if (next.leaderId !== current.leaderId) what.push(`leader ${current.leaderId} -> ${next.leaderId}`);
    if (next.leaderEpoch !== current.leaderEpoch) what.push(`epoch ${next.leaderEpoch}`);
    if (next.isr.join() !== current.isr.join()) what.push(`ISR [${current.isr}] -> [${next.isr}]`);
    if (next.replicas.join() !== current.replicas.join())
      what.push(`replicas [${current.replicas}] -> [${next.replicas}]`);
    if (next.addingReplicas.length > 0) what.push(`adding [${next.addingReplicas}]`);
    if (next.removingReplicas.length > 0) what.push(`removing [${next.removingReplicas}]`);
    this.options.logger.log(`controller: ${topic}-${partition}: ${what.join(', ')}`);
    return true;
  }

  private notController(): KafkaProtocolError {
    return new KafkaProtocolError(ErrorCode.NOT_CONTROLLER, 'this broker is not the controller');
  }

  private async partitionAt(
    topic: string,
    partition: number,
  ): Promise<{ record: TopicRecord; state: PartitionState } | null> {
    const record = await this.options.store.readTopic(topic);
    const state = record?.partitions[partition];
    return record === null || state === undefined ? null : { record, state };
  }

  // ---- admin (ControllerAdmin) ------------------------------------------------------------

  async electLeaders(
    electionType: number,
    partitions: readonly { topic: string; partition: number }[] | null,
  ): Promise<PartitionResult[]> {
    if (!this.isController()) throw this.notController();
    const lease = this.lease as ControllerLease;
    const topics = await this.options.store.readTopics();
    const brokers = await this.liveness(topics);
    const asked =
      partitions ?? topics.flatMap((t) => t.partitions.map((_, partition) => ({ topic: t.name, partition })));
    const results: PartitionResult[] = [];
    for (const { topic, partition } of asked) {
      const result = (errorCode: number, errorMessage: string | null): void => {
        results.push({ topic, partition, errorCode, errorMessage });
      };
      try {
        const found = await this.partitionAt(topic, partition);
        if (found === null) {
          result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} does not exist`);
          continue;
        }
        const s = found.state;
        if (electionType === ElectionType.PREFERRED) {
          if (preferredLeader(s) === s.leaderId) {
            result(
              ErrorCode.ELECTION_NOT_NEEDED,
              `the preferred replica ${s.leaderId} leads ${topic}-${partition}`,
            );
            continue;
          }
          const next = electPreferred(s, brokers);
          if (next === null) {
            result(
              ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
              `preferred replica ${preferredLeader(s)} of ${topic}-${partition} is not alive and in the ISR`,
            );
            continue;
          }
          await this.write(lease, topic, partition, s, next);
        } else {
          if (s.leaderId >= 0 && brokers.alive.has(s.leaderId)) {
            result(ErrorCode.ELECTION_NOT_NEEDED, `${topic}-${partition} has a leader (${s.leaderId})`);
            continue;
          }
          const next = electUnclean(s, brokers);
          if (next === null) {
            result(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, `no replica of ${topic}-${partition} is alive`);
            continue;
          }
          await this.write(lease, topic, partition, s, next);
        }
        result(ErrorCode.NONE, null);
      } catch (err) {
        result(errorCodeOf(err), (err as Error).message);
      }
    }
    return results;
  }

  async alterReassignments(
    requests: readonly { topic: string; partition: number; replicas: readonly number[] | null }[],
  ): Promise<PartitionResult[]> {
    if (!this.isController()) throw this.notController();
    const lease = this.lease as ControllerLease;
    const registered = new Set((await this.options.store.readBrokers()).map((b) => b.id));
    const results: PartitionResult[] = [];
    for (const { topic, partition, replicas } of requests) {
      const result = (errorCode: number, errorMessage: string | null): void => {
        results.push({ topic, partition, errorCode, errorMessage });
      };
      try {
        const found = await this.partitionAt(topic, partition);
        if (found === null) {
          result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} does not exist`);
          continue;
        }
        const s = found.state;
        let next: PartitionState;
        if (replicas === null) {
          if (s.addingReplicas.length === 0 && s.removingReplicas.length === 0) {
            result(
              ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
              `no reassignment of ${topic}-${partition} is in progress`,
            );
            continue;
          }
          next = cancelReassignment(s);
        } else {
          const problem =
            replicas.length === 0
              ? 'the replica list is empty'
              : new Set(replicas).size !== replicas.length
                ? `the replica list ${replicas} names a broker twice`
                : replicas.find((r) => !registered.has(r)) !== undefined
                  ? `broker ${replicas.find((r) => !registered.has(r))} is not registered`
                  : null;
          if (problem !== null) {
            result(ErrorCode.INVALID_REPLICA_ASSIGNMENT, problem);
            continue;
          }
          next = startReassignment(s, replicas);
        }
        await this.write(lease, topic, partition, s, next);
        result(ErrorCode.NONE, null);
      } catch (err) {
        result(errorCodeOf(err), (err as Error).message);
      }
    }
    this.schedule();
    return results;
  }

  listReassignments(
    partitions: readonly { topic: string; partition: number }[] | null,
  ): OngoingReassignment[] {
    const wanted =
      partitions === null ? null : new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    const out: OngoingReassignment[] = [];
    for (const t of this.options.metadata.records()) {
      t.partitions.forEach((s, partition) => {
        if (s.addingReplicas.length === 0 && s.removingReplicas.length === 0) return;
        if (wanted !== null && !wanted.has(`${t.name}\u0000${partition}`)) return;
        out.push({
          topic: t.name,
          partition,
          replicas: s.replicas,
          addingReplicas: s.addingReplicas,
          removingReplicas: s.removingReplicas,
        });
      });
    }
    return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }
}
