import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { readCheckpoints } from './checkpoints';
import { ClusterClients } from './cluster-clients';
import type { FlowConfig, MirrorConfig } from './config';
import { HEARTBEATS_TOPIC, type Checkpoint } from './mm2-formats';
import {
  MirrorStore,
  type FlowError,
  type FlowThrottle,
  type TopicPartitionMark,
  type TopicState,
  type UnitError,
  type UnitStatus,
  type WorkerInfo,
} from './mirror-store';
import { connectRedis, keepConnected, type RedisEndpoint } from './redis-endpoint';
import { sleep } from './sleep';
import { targetTopic } from './policy';

const TOPIC_CONFIG = 2;
/** A status read never waits longer than this on a cluster (one that is down shows its last known end). */
const END_OFFSETS_TIMEOUT_MS = 2000;
/** End offsets read for status are reused this long (the dashboard, REST and metrics poll together). */
const END_OFFSETS_TTL_MS = 1000;

/**
 * An operation an operator asked for that cannot be done: bad input, a flow or cluster that
 * does not exist, or (by default) a state of the flow that does not allow it. The console
 * picks the HTTP status; the CLI prints the message.
 */
export class MirrorOperationError extends Error {
  constructor(
    message: string,
    readonly kind: 'invalid' | 'not-found' | 'conflict' = 'conflict',
  ) {
    super(message);
    this.name = 'MirrorOperationError';
  }
}

/** One source partition's lag, computed when asked from the unit's report and the source's end now. */
export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  readonly targetTopic: string;
  readonly mode: 'preserve' | 'translate';
  readonly direction: 'forward' | 'reverse';
  /** waiting: no worker has reported on it yet. */
  readonly state: UnitStatus['state'] | 'waiting';
  /** Next offset to copy. */
  readonly position: number;
  /** The log end of the partition read from: read now when reachable, else the last one seen. */
  readonly sourceEnd: number;
  readonly lagRecords: number;
  /** Age of the oldest record not yet copied (0 when caught up). */
  readonly lagSeconds: number;
  readonly worker: string | null;
  readonly updatedAt: number;
  readonly error: UnitError | null;
}

export interface MirroredTopicState {
  readonly topic: string;
  readonly targetTopic: string;
  readonly state: 'mirroring' | 'promoted' | 'reversed';
  readonly kind: TopicState['kind'] | null;
  readonly at: number | null;
}

export interface FlowStatus {
  readonly name: string;
  readonly source: string;
  readonly target: string;
  readonly state: 'running' | 'paused';
  readonly throttle: FlowThrottle;
  readonly partitions: PartitionLag[];
  /** Topics that are promoted or reversed; every other mirrored topic is mirroring. */
  readonly topics: MirroredTopicState[];
  readonly lastCheckpoint: { at: number; groups: number } | null;
  readonly errors: FlowError[];
  readonly throughput: { recordsPerSecond: number; bytesPerSecond: number };
  readonly latencyMs: { p50: number; p99: number; samples: number } | null;
}

export interface PromotionOptions {
  /** Source topic names; default every topic the flow mirrors. */
  readonly topics?: readonly string[];
  /** Consumer groups whose offsets move along; default every group the flow checkpoints that has offsets on them. */
  readonly groups?: readonly string[];
  /** How long a planned promote or failback waits for the other side to catch up. */
  readonly timeoutMs?: number;
}

export interface GroupMove {
  readonly group: string;
  /** What was committed on the side that became writable, per partition. */
  readonly offsets: readonly { topic: string; partition: number; offset: number; previous: number | null }[];
  /** Why nothing was committed (active members there, nothing to move). */
  readonly skipped: string | null;
}

export interface TopicPromotion {
  readonly topic: string;
  readonly targetTopic: string;
  readonly mode: 'preserve' | 'translate';
  /** Producers on the source topic are refused from now on (planned promote of a Tributary source). */
  readonly sourceFenced: boolean;
  readonly partitions: readonly (TopicPartitionMark & {
    /** Records the source had that the target does not (failover: what was not copied). */
    readonly behind: number | null;
    /** When the source's end was last seen (failover: how old that figure is). */
    readonly sourceSeenAt: number | null;
  })[];
  /**
   * failover, preserved offsets: transactions the mirror had copied open, whose markers the
   * lost source never sent; aborted on the promoted topic so its last stable offset moves on.
   */
  readonly abortedTransactions?: readonly { partition: number; producerId: number; firstOffset: number }[];
}

export interface PromotionReport {
  readonly flow: string;
  readonly action: 'promote' | 'failover' | 'reverse' | 'failback';
  readonly topics: readonly TopicPromotion[];
  readonly groups: readonly GroupMove[];
  readonly durationMs: number;
}

export interface GroupOffsetsView {
  readonly flow: string;
  readonly group: string;
  readonly partitions: readonly {
    readonly topic: string;
    readonly targetTopic: string;
    readonly partition: number;
    /** The group's committed offset on the source now (null: none, or the source is unreachable). */
    readonly sourceCommitted: number | null;
    /** The newest checkpoint: the source offset it was taken at and its translation for the target. */
    readonly checkpoint: { readonly upstreamOffset: number; readonly offset: number } | null;
    /** The group's committed offset on the target now. */
    readonly targetCommitted: number | null;
  }[];
}

interface ClusterClientsFactory {
  (alias: string): ClusterClients;
}

/**
 * Watches and steers a mirror deployment through its Redis state and the clusters of its
 * config: the same operations for a worker that also hosts the console (the demo), a
 * standalone console attached to `tributary mirror` workers, and the CLI through the
 * console's REST API. Workers act on what is written here within a second (their controls
 * are read every half second), so nothing has to reach them directly.
 *
 * Promote, failover, reverse and failback move a mirrored topic between Cluster Linking's
 * states: mirroring (source -> target, target read-only), promoted (target writable, the
 * flow never writes it again), reversed (what is written to the promoted target flows back
 * into the source topic, now read-only) and back. Both topics share their offsets below the
 * promotion point, so consumer groups move between them with their offsets as they are.
 */
export class MirrorControl {
  private readonly ends = new Map<string, { at: number; offset: number }>();
  private readonly endReads = new Map<string, Promise<void>>();

  constructor(
    readonly config: MirrorConfig,
    readonly store: MirrorStore,
    private readonly clientsFor: ClusterClientsFactory,
  ) {}

  /** A control of its own (a standalone console): its own Redis connection and cluster clients; close() closes them. */
  static connect(config: MirrorConfig, endpoint: RedisEndpoint): MirrorControl & { close(): Promise<void> } {
    const redis = connectRedis(endpoint, { maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    let closing = false;
    keepConnected(redis, () => closing);
    const clients = new Map<string, ClusterClients>();
    const factory = (alias: string): ClusterClients => {
      let c = clients.get(alias);
      if (c === undefined) {
        const cfg = config.clusters.get(alias);
        if (cfg === undefined) throw new MirrorOperationError(`unknown cluster ${alias}`, 'not-found');
        c = new ClusterClients(cfg);
        clients.set(alias, c);
      }
      return c;
    };
    const control = new MirrorControl(config, new MirrorStore(redis, config.namespace), factory);
    return Object.assign(control, {
      async close(): Promise<void> {
        closing = true;
        for (const c of clients.values()) await c.close();
        redis.disconnect();
      },
    });
  }

  get flows(): readonly FlowConfig[] {
    return this.config.flows;
  }

  flow(name: string): FlowConfig {
    const f = this.config.flows.find((x) => x.name === name);
    if (f === undefined) throw new MirrorOperationError(`flow "${name}" does not exist`, 'not-found');
    return f;
  }

  // ---- status ----------------------------------------------------------------------------

  async status(): Promise<FlowStatus[]> {
    return Promise.all(this.config.flows.map((f) => this.flowStatus(f.name)));
  }

  /**
   * A flow's state with true lag: records behind is the source's end now minus the next
   * offset to copy, seconds behind is the age of the oldest record not yet copied; both grow
   * while the flow is paused, throttled, failing or without a worker.
   */
  async flowStatus(name: string): Promise<FlowStatus> {
    const f = this.flow(name);
    const rec = await this.store.flowRecord(f.name, configuredThrottle(f));
    const reads = rec.units
      .filter((u) => u.state !== 'promoted' && rec.topics.get(u.topic)?.state !== 'promoted')
      .map((u) => this.readSide(f, u))
      .map((r) => ({ ...r, key: endKey(r.alias, r.topic, r.partition) }));
    await this.refreshEnds(reads);
    const now = Date.now();
    const partitions = rec.units.map((u): PartitionLag => {
      const read = this.readSide(f, u);
      const fresh = this.ends.get(endKey(read.alias, read.topic, read.partition));
      const sourceEnd = Math.max(u.sourceEnd, fresh?.offset ?? -1);
      // A promoted topic's units may never run again to say so: its state decides.
      const state = rec.topics.get(u.topic)?.state === 'promoted' ? 'promoted' : u.state;
      const lagRecords = state === 'promoted' ? 0 : Math.max(0, sourceEnd - u.position);
      const since = u.oldestPendingTimestamp > 0 ? u.oldestPendingTimestamp : u.caughtUpAt;
      return {
        topic: u.topic,
        partition: u.partition,
        targetTopic: u.targetTopic,
        mode: u.mode,
        direction: u.direction,
        state,
        position: u.position,
        sourceEnd,
        lagRecords,
        lagSeconds: lagRecords === 0 ? 0 : Math.max(0, (now - since) / 1000),
        worker: u.worker,
        updatedAt: u.updatedAt,
        error: u.error,
      };
    });
    return {
      name: f.name,
      source: f.source,
      target: f.target,
      state: rec.state,
      throttle: rec.throttle,
      partitions,
      topics: [...rec.topics].map(([topic, s]) => ({
        topic,
        targetTopic: s.targetTopic,
        state: s.state,
        kind: s.kind,
        at: s.at,
      })),
      lastCheckpoint: rec.lastCheckpoint,
      errors: rec.errors,
      throughput: rec.throughput,
      latencyMs: rec.latencyMs,
    };
  }

  private readSide(f: FlowConfig, u: UnitStatus): { alias: string; topic: string; partition: number } {
    return u.direction === 'forward'
      ? { alias: f.source, topic: u.topic, partition: u.partition }
      : { alias: f.target, topic: u.targetTopic, partition: u.partition };
  }

  /** Reads the log ends not read within END_OFFSETS_TTL_MS, one request per cluster, bounded in time. */
  private async refreshEnds(
    reads: { alias: string; topic: string; partition: number; key: string }[],
  ): Promise<void> {
    const now = Date.now();
    const stale = reads.filter((r) => (this.ends.get(r.key)?.at ?? 0) < now - END_OFFSETS_TTL_MS);
    const byAlias = new Map<string, typeof stale>();
    for (const r of stale) byAlias.set(r.alias, [...(byAlias.get(r.alias) ?? []), r]);
    await Promise.all(
      [...byAlias].map(([alias, list]) => {
        // One read per cluster at a time: a cluster that is down is not asked again by every poll.
        let reading = this.endReads.get(alias);
        if (reading === undefined) {
          reading = this.clientsFor(alias)
            .admin.listOffsets(
              list.map((r) => ({ topic: r.topic, partition: r.partition })),
              'latest',
            )
            .then((offsets) => {
              const at = Date.now();
              offsets.forEach((o, i) => {
                if (o.offset >= 0) this.ends.set(list[i].key, { at, offset: o.offset });
              });
            })
            .catch(() => undefined)
            .finally(() => this.endReads.delete(alias));
          this.endReads.set(alias, reading);
        }
        return Promise.race([reading, sleep(END_OFFSETS_TIMEOUT_MS)]);
      }),
    );
  }

  async workers(): Promise<WorkerInfo[]> {
    return this.store.workers();
  }

  // ---- controls --------------------------------------------------------------------------

  async pause(flow: string): Promise<void> {
    this.flow(flow);
    await this.store.setFlowState(flow, 'paused');
  }

  async resume(flow: string): Promise<void> {
    this.flow(flow);
    await this.store.setFlowState(flow, 'running');
  }

  /** Limits a flow across all its workers, in bytes and records per second (0: unlimited). */
  async throttle(flow: string, limit: FlowThrottle): Promise<void> {
    this.flow(flow);
    for (const [name, v] of Object.entries(limit)) {
      if (!Number.isSafeInteger(v) || v < 0)
        throw new MirrorOperationError(`${name} must be a whole number, 0 for unlimited`, 'invalid');
    }
    await this.store.setThrottle(flow, limit);
  }

  // ---- promote, failover, reverse, failback ----------------------------------------------

  /** The flow's topics an operation applies to, each with the state it is in. */
  private async chooseTopics(
    f: FlowConfig,
    topics: readonly string[] | undefined,
  ): Promise<{ topic: string; targetTopic: string; state: TopicState | null }[]> {
    const states = await this.store.topicStates(f.name);
    const rec = await this.store.flowRecord(f.name, configuredThrottle(f));
    const mirrored = new Set(rec.units.map((u) => u.topic));
    for (const t of states.keys()) mirrored.add(t);
    mirrored.delete(HEARTBEATS_TOPIC);
    const chosen = topics === undefined || topics.length === 0 ? [...mirrored].sort() : [...topics];
    if (chosen.length === 0) throw new MirrorOperationError(`flow ${f.name} mirrors no topic yet`);
    return chosen.map((topic) => {
      if (!mirrored.has(topic))
        throw new MirrorOperationError(
          `flow ${f.name} does not mirror topic "${topic}" (it mirrors: ${[...mirrored].sort().join(', ') || 'nothing yet'})`,
          'not-found',
        );
      return { topic, targetTopic: targetTopic(f, topic), state: states.get(topic) ?? null };
    });
  }

  private async topicConfig(alias: string, topic: string, name: string): Promise<string | null> {
    const [entry] = await this.clientsFor(alias).admin.describeConfigs({ type: TOPIC_CONFIG, name: topic }, [
      name,
    ]);
    return entry?.value ?? null;
  }

  private async setMirrorOf(alias: string, topic: string, value: string | null): Promise<void> {
    await this.clientsFor(alias).admin.alterConfigs({ type: TOPIC_CONFIG, name: topic }, [
      value === null ? { name: 'tributary.mirror.of', op: 'delete' } : { name: 'tributary.mirror.of', value },
    ]);
  }

  private async partitionsOf(alias: string, topic: string): Promise<number[]> {
    const [info] = await this.clientsFor(alias).admin.describeTopics([topic]);
    return info.partitions.map((p) => p.partition).sort((a, b) => a - b);
  }

  private async endsOf(
    alias: string,
    topic: string,
    partitions: readonly number[],
  ): Promise<Map<number, number>> {
    const offsets = await this.clientsFor(alias).admin.listOffsets(
      partitions.map((partition) => ({ topic, partition })),
      'latest',
    );
    return new Map(offsets.map((o) => [o.partition, o.offset]));
  }

  /**
   * Waits until no transaction is open on the source partitions (each one's last stable
   * offset equals its end); after the deadline, fails naming the partitions and the offset
   * where their oldest open transaction starts.
   */
  private async waitNoOpenTransactions(
    alias: string,
    topic: string,
    partitions: readonly number[],
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stable = await this.clientsFor(alias).lastStableOffsets(topic, partitions);
      const ends = await this.endsOf(alias, topic, partitions);
      const open = partitions.filter((p) => (stable.get(p) ?? 0) < (ends.get(p) ?? 0));
      if (open.length === 0) return;
      if (Date.now() > deadline) {
        throw new MirrorOperationError(
          `${alias}/${topic} still has open transactions after ${timeoutMs} ms: ` +
            open.map((p) => `partition ${p} from offset ${stable.get(p)} (end ${ends.get(p)})`).join(', ') +
            '; commit or abort them (or wait for transaction.timeout.ms) and promote again',
        );
      }
      await sleep(250);
    }
  }

  /**
   * Waits until `to` holds everything `from` has: every partition's end equal, and the
   * source's end unchanged for a second (appends in flight before a fence become visible).
   */
  private async waitCaughtUp(
    f: FlowConfig,
    from: { alias: string; topic: string },
    to: { alias: string; topic: string },
    partitions: readonly number[],
    timeoutMs: number,
  ): Promise<Map<number, number>> {
    const deadline = Date.now() + timeoutMs;
    let previous: Map<number, number> | null = null;
    let stableSince = Date.now();
    for (;;) {
      const [fromEnds, toEnds] = await Promise.all([
        this.endsOf(from.alias, from.topic, partitions),
        this.endsOf(to.alias, to.topic, partitions),
      ]);
      const same = previous !== null && partitions.every((p) => previous?.get(p) === fromEnds.get(p));
      if (!same) stableSince = Date.now();
      previous = fromEnds;
      const behind = partitions.reduce(
        (n, p) => n + Math.max(0, (fromEnds.get(p) ?? 0) - (toEnds.get(p) ?? 0)),
        0,
      );
      if (behind === 0 && Date.now() - stableSince >= 1000) return fromEnds;
      if (Date.now() > deadline) {
        const state = await this.store.flowState(f.name);
        throw new MirrorOperationError(
          `${to.alias}/${to.topic} is still ${behind} record(s) behind ${from.alias}/${from.topic} after ${timeoutMs} ms` +
            (state === 'paused' ? ` (flow ${f.name} is paused: resume it first)` : ''),
        );
      }
      await sleep(250);
    }
  }

  /** Waits (a little) for the units of a topic to report they stopped, so no write races the config change. */
  private async waitUnitsStopped(f: FlowConfig, topic: string, partitions: readonly number[]): Promise<void> {
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const states = await Promise.all(partitions.map((p) => this.store.unitStatus(f.name, topic, p)));
      if (states.every((s) => s === null || s.state === 'promoted' || Date.now() - s.updatedAt > 5000))
        return;
      await sleep(100);
    }
  }

  /**
   * Copies consumer groups' committed offsets from one side to the other for the topics
   * moved (their offsets are shared), for groups without active members on the receiving
   * side. Only what the group committed on the moved topics goes.
   */
  private async moveGroups(
    f: FlowConfig,
    groups: readonly string[] | undefined,
    from: { alias: string; name: (t: { topic: string; targetTopic: string }) => string },
    to: { alias: string; name: (t: { topic: string; targetTopic: string }) => string },
    topics: readonly { topic: string; targetTopic: string }[],
  ): Promise<GroupMove[]> {
    const source = this.clientsFor(from.alias).admin;
    const target = this.clientsFor(to.alias).admin;
    const names = new Map(topics.map((t) => [from.name(t), to.name(t)]));
    const candidates =
      groups !== undefined && groups.length > 0
        ? [...groups]
        : (await source.listGroups())
            .map((g) => g.groupId)
            .filter((g) => f.groups.some((p) => p.test(g)) && !f.groupsExclude.some((p) => p.test(g)));
    const moves: GroupMove[] = [];
    for (const group of candidates) {
      const committed = (await source.fetchOffsets(group)).filter((o) => o.offset >= 0 && names.has(o.topic));
      if (committed.length === 0) {
        if (groups !== undefined && groups.length > 0)
          moves.push({
            group,
            offsets: [],
            skipped: `no committed offsets on ${[...names.keys()].join(', ')}`,
          });
        continue;
      }
      const [described] = await target.describeGroups([group]);
      if (described.state !== 'Empty' && described.state !== 'Dead') {
        moves.push({
          group,
          offsets: [],
          skipped: `it has ${described.members.length} active member(s) on ${to.alias}: stop them, then move its offsets with reset-offsets --from-checkpoints`,
        });
        continue;
      }
      const before = new Map(
        (await target.fetchOffsets(group)).map((o) => [`${o.topic}|${o.partition}`, o.offset]),
      );
      const offsets = committed.map((o) => {
        const topic = names.get(o.topic) as string;
        const previous = before.get(`${topic}|${o.partition}`);
        return {
          topic,
          partition: o.partition,
          offset: o.offset,
          previous: previous === undefined || previous < 0 ? null : previous,
        };
      });
      await target.resetOffsets(group, [], { offsets });
      moves.push({ group, offsets, skipped: null });
    }
    return moves;
  }

  /**
   * Planned promotion (the source is reachable): producers on the source topic are fenced
   * (it becomes the read-only mirror of the promoted topic, so Produce is refused with
   * POLICY_VIOLATION), the target catches up with the source's last record, the flow stops
   * writing, consumer groups' offsets move over, and the target topic becomes writable.
   * Nothing acknowledged on the source is lost and nothing is copied twice.
   */
  async promote(flowName: string, options: PromotionOptions = {}): Promise<PromotionReport> {
    const started = Date.now();
    const f = this.flow(flowName);
    const chosen = await this.chooseTopics(f, options.topics);
    const promoted: TopicPromotion[] = [];
    const fenced: { topic: string }[] = [];
    try {
      for (const t of chosen) {
        if (t.state !== null)
          throw new MirrorOperationError(
            `${f.name}: ${t.topic} is already ${t.state.state} (${t.state.kind})`,
          );
        const marker = await this.topicConfig(f.target, t.targetTopic, 'tributary.mirror.of');
        const mode = marker === `${f.source}:${t.topic}` ? 'preserve' : 'translate';
        const partitions = await this.partitionsOf(f.source, t.topic);
        // Only a Tributary source knows tributary.mirror.of; a foreign one is not fenced (stop its producers first).
        const sourceFenced = mode === 'preserve' && (await this.clientsFor(f.source).supportsMirrorProduce());
        if (sourceFenced) {
          await this.setMirrorOf(f.source, t.topic, `${f.target}:${t.targetTopic}`);
          fenced.push(t);
        }
        // An open transaction would stay open on the promoted topic for good (its LSO stuck), or never reach it.
        await this.waitNoOpenTransactions(f.source, t.topic, partitions, options.timeoutMs ?? 60_000);
        const sourceEnds =
          mode === 'preserve'
            ? await this.waitCaughtUp(
                f,
                { alias: f.source, topic: t.topic },
                { alias: f.target, topic: t.targetTopic },
                partitions,
                options.timeoutMs ?? 60_000,
              )
            : await this.endsOf(f.source, t.topic, partitions);
        const targetEnds = await this.endsOf(f.target, t.targetTopic, partitions);
        const marks = partitions.map((p) => ({
          partition: p,
          targetEnd: targetEnds.get(p) ?? 0,
          sourceEnd: sourceEnds.get(p) ?? null,
        }));
        await this.store.setTopicState(f.name, t.topic, {
          state: 'promoted',
          kind: 'promote',
          at: Date.now(),
          targetTopic: t.targetTopic,
          partitions: marks,
        });
        await this.waitUnitsStopped(f, t.topic, partitions);
        promoted.push({
          topic: t.topic,
          targetTopic: t.targetTopic,
          mode,
          sourceFenced,
          partitions: marks.map((m) => ({
            ...m,
            behind: Math.max(0, (m.sourceEnd ?? 0) - m.targetEnd),
            sourceSeenAt: Date.now(),
          })),
        });
      }
    } catch (err) {
      // Not caught up in time (or the clusters failed): undo the fences, nothing else changed for those topics.
      for (const t of fenced.filter((x) => !promoted.some((p) => p.topic === x.topic)))
        await this.setMirrorOf(f.source, t.topic, null).catch(() => undefined);
      throw err;
    }
    const groups = await this.moveGroups(
      f,
      options.groups,
      { alias: f.source, name: (t) => t.topic },
      { alias: f.target, name: (t) => t.targetTopic },
      promoted,
    );
    for (const t of promoted)
      if (t.mode === 'preserve') await this.setMirrorOf(f.target, t.targetTopic, null);
    return { flow: f.name, action: 'promote', topics: promoted, groups, durationMs: Date.now() - started };
  }

  /**
   * Unplanned failover (the source is gone): the target topics become writable at once, the
   * chosen groups get their last checkpoints, and the report says per partition how far the
   * target was behind the source's last known end. The source is not contacted.
   */
  async failover(flowName: string, options: PromotionOptions = {}): Promise<PromotionReport> {
    const started = Date.now();
    const f = this.flow(flowName);
    const chosen = await this.chooseTopics(f, options.topics);
    const topics: TopicPromotion[] = [];
    for (const t of chosen) {
      if (t.state !== null)
        throw new MirrorOperationError(`${f.name}: ${t.topic} is already ${t.state.state} (${t.state.kind})`);
      const marker = await this.topicConfig(f.target, t.targetTopic, 'tributary.mirror.of');
      const mode = marker === `${f.source}:${t.topic}` ? 'preserve' : 'translate';
      const partitions = await this.partitionsOf(f.target, t.targetTopic);
      const targetEnds = await this.endsOf(f.target, t.targetTopic, partitions);
      const units = await Promise.all(partitions.map((p) => this.store.unitStatus(f.name, t.topic, p)));
      const marks = partitions.map((p, i) => {
        const u = units[i];
        const targetEnd = targetEnds.get(p) ?? 0;
        // The last end known of the source: the unit's, or the one this control read since.
        const seen = this.ends.get(endKey(f.source, t.topic, p));
        const known = Math.max(u === null ? -1 : u.sourceEnd, seen?.offset ?? -1);
        const sourceEnd = known < 0 ? null : known;
        return {
          partition: p,
          targetEnd,
          sourceEnd,
          behind:
            sourceEnd === null
              ? null
              : Math.max(0, sourceEnd - (mode === 'preserve' ? targetEnd : (u?.position ?? 0))),
          sourceSeenAt: Math.max(u?.updatedAt ?? 0, seen?.at ?? 0) || null,
        };
      });
      await this.store.setTopicState(f.name, t.topic, {
        state: 'promoted',
        kind: 'failover',
        at: Date.now(),
        targetTopic: t.targetTopic,
        partitions: marks.map(({ partition, targetEnd, sourceEnd }) => ({ partition, targetEnd, sourceEnd })),
      });
      let abortedTransactions: TopicPromotion['abortedTransactions'];
      if (mode === 'preserve') {
        await this.setMirrorOf(f.target, t.targetTopic, null);
        // No more mirror writes from here on (not a mirror topic): what is open stays open unless aborted.
        abortedTransactions = await this.clientsFor(f.target).abortOpenTransactions(
          t.targetTopic,
          partitions,
        );
      }
      topics.push({
        topic: t.topic,
        targetTopic: t.targetTopic,
        mode,
        sourceFenced: false,
        partitions: marks,
        ...(abortedTransactions === undefined ? {} : { abortedTransactions }),
      });
    }
    const groups = await this.applyCheckpoints(f, options.groups, topics);
    return { flow: f.name, action: 'failover', topics, groups, durationMs: Date.now() - started };
  }

  /**
   * Commits the last checkpoint of each chosen group on the promoted topics (never past the
   * target's end, never backwards), for groups with no active member on the target.
   */
  private async applyCheckpoints(
    f: FlowConfig,
    groups: readonly string[] | undefined,
    topics: readonly TopicPromotion[],
  ): Promise<GroupMove[]> {
    const target = this.clientsFor(f.target);
    const byTopic = new Map(topics.map((t) => [t.targetTopic, t]));
    const checkpoints = (await readCheckpoints(target.options(), f.source)).filter(
      (c) =>
        byTopic.has(c.topic) && (groups === undefined || groups.length === 0 || groups.includes(c.group)),
    );
    const byGroup = new Map<string, Checkpoint[]>();
    for (const c of checkpoints) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
    const moves: GroupMove[] = [];
    for (const group of groups ?? []) {
      if (!byGroup.has(group))
        moves.push({ group, offsets: [], skipped: `no checkpoint of it on ${f.target}` });
    }
    for (const [group, list] of byGroup) {
      const [described] = await target.admin.describeGroups([group]);
      if (described.state !== 'Empty' && described.state !== 'Dead') {
        moves.push({
          group,
          offsets: [],
          skipped: `it has ${described.members.length} active member(s) on ${f.target}`,
        });
        continue;
      }
      const before = new Map(
        (await target.admin.fetchOffsets(group)).map((o) => [`${o.topic}|${o.partition}`, o.offset]),
      );
      const offsets = list
        .map((c) => {
          const end =
            byTopic.get(c.topic)?.partitions.find((p) => p.partition === c.partition)?.targetEnd ?? c.offset;
          const previous = before.get(`${c.topic}|${c.partition}`);
          return {
            topic: c.topic,
            partition: c.partition,
            offset: Math.min(c.offset, end),
            previous: previous === undefined || previous < 0 ? null : previous,
          };
        })
        .filter((o) => o.previous === null || o.offset > o.previous);
      if (offsets.length > 0) await target.admin.resetOffsets(group, [], { offsets });
      moves.push({
        group,
        offsets,
        skipped: offsets.length === 0 ? 'its offsets on the target are already there or past' : null,
      });
    }
    return moves;
  }

  /**
   * Starts copying what is written to promoted target topics back into their source topics
   * (Cluster Linking's reverse): the source topic becomes the read-only mirror. It must not
   * hold records past the promotion point (after an unplanned failover it may: those were
   * never copied, and the report names them); with `recreateDiverged` such a source topic is
   * deleted and recreated empty, then filled from the target with the same offsets.
   */
  async reverse(
    flowName: string,
    options: { topics?: readonly string[]; recreateDiverged?: boolean } = {},
  ): Promise<PromotionReport> {
    const started = Date.now();
    const f = this.flow(flowName);
    const chosen = await this.chooseTopics(f, options.topics);
    if (!(await this.clientsFor(f.source).supportsMirrorProduce()))
      throw new MirrorOperationError(
        `${f.source} is not a Tributary cluster: a topic can be reversed only into one`,
        'invalid',
      );
    const topics: TopicPromotion[] = [];
    for (const t of chosen) {
      if (t.state?.state !== 'promoted')
        throw new MirrorOperationError(
          `${f.name}: ${t.topic} is ${t.state?.state ?? 'mirroring'}: only a promoted topic can be reversed`,
        );
      const promotedAt = t.state.partitions;
      const partitions = promotedAt.map((m) => m.partition);
      const sourceEnds = await this.endsOf(f.source, t.topic, partitions);
      const diverged = promotedAt.filter((m) => (sourceEnds.get(m.partition) ?? 0) > m.targetEnd);
      if (diverged.length > 0) {
        const lines = diverged.map(
          (m) =>
            `${t.topic}-${m.partition} holds offsets ${m.targetEnd}..${(sourceEnds.get(m.partition) ?? 0) - 1} that never reached ${f.target}`,
        );
        if (!options.recreateDiverged)
          throw new MirrorOperationError(
            `${f.source}/${t.topic} diverged from the promotion point: ${lines.join('; ')}. ` +
              `Save them if they matter (kcat -C -b <${f.source}> -t ${t.topic} -p <partition> -o <offset> -e), ` +
              `then reverse with recreateDiverged (CLI: --recreate-diverged): the topic is recreated from ${f.target}`,
          );
        await this.recreateAsMirror(f, t.topic, t.targetTopic, partitions.length);
      } else {
        await this.setMirrorOf(f.source, t.topic, `${f.target}:${t.targetTopic}`);
      }
      await this.store.setTopicState(f.name, t.topic, { ...t.state, state: 'reversed', at: Date.now() });
      topics.push({
        topic: t.topic,
        targetTopic: t.targetTopic,
        mode: 'preserve',
        sourceFenced: true,
        partitions: promotedAt.map((m) => ({
          ...m,
          behind: Math.max(0, (sourceEnds.get(m.partition) ?? 0) - m.targetEnd),
          sourceSeenAt: Date.now(),
        })),
      });
    }
    return { flow: f.name, action: 'reverse', topics, groups: [], durationMs: Date.now() - started };
  }

  private async recreateAsMirror(
    f: FlowConfig,
    topic: string,
    targetTopicName: string,
    partitions: number,
  ): Promise<void> {
    const admin = this.clientsFor(f.source).admin;
    const described = await admin.describeConfigs({ type: TOPIC_CONFIG, name: topic });
    const configs: Record<string, string> = Object.fromEntries(
      described.filter((c) => c.source === 1 && c.value !== null).map((c) => [c.name, c.value as string]),
    );
    configs['tributary.mirror.of'] = `${f.target}:${targetTopicName}`;
    await admin.deleteTopics([topic]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await admin.createTopics([{ name: topic, numPartitions: partitions, configs }]);
        return;
      } catch (err) {
        const stillThere = err instanceof KafkaProtocolError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS;
        if (!stillThere || Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }

  /**
   * Planned failback of reversed topics (the source topic caught up with what was written to
   * the promoted target): the target topic is fenced again as the source's mirror, the source
   * catches up, groups move back, and the source topic becomes writable; the flow then
   * mirrors source -> target as before, from where both topics end.
   */
  async failback(flowName: string, options: PromotionOptions = {}): Promise<PromotionReport> {
    const started = Date.now();
    const f = this.flow(flowName);
    const chosen = await this.chooseTopics(f, options.topics);
    const topics: TopicPromotion[] = [];
    for (const t of chosen) {
      if (t.state?.state !== 'reversed')
        throw new MirrorOperationError(
          `${f.name}: ${t.topic} is ${t.state?.state ?? 'mirroring'}: only a reversed topic fails back`,
        );
      const partitions = t.state.partitions.map((m) => m.partition);
      await this.setMirrorOf(f.target, t.targetTopic, `${f.source}:${t.topic}`);
      let ends: Map<number, number>;
      try {
        ends = await this.waitCaughtUp(
          f,
          { alias: f.target, topic: t.targetTopic },
          { alias: f.source, topic: t.topic },
          partitions,
          options.timeoutMs ?? 60_000,
        );
      } catch (err) {
        await this.setMirrorOf(f.target, t.targetTopic, null).catch(() => undefined);
        throw err;
      }
      await this.store.setTopicState(f.name, t.topic, null);
      topics.push({
        topic: t.topic,
        targetTopic: t.targetTopic,
        mode: 'preserve',
        sourceFenced: false,
        partitions: partitions.map((p) => ({
          partition: p,
          targetEnd: ends.get(p) ?? 0,
          sourceEnd: ends.get(p) ?? 0,
          behind: 0,
          sourceSeenAt: Date.now(),
        })),
      });
    }
    const groups = await this.moveGroups(
      f,
      options.groups,
      { alias: f.target, name: (t) => t.targetTopic },
      { alias: f.source, name: (t) => t.topic },
      topics,
    );
    for (const t of topics) await this.setMirrorOf(f.source, t.topic, null);
    return { flow: f.name, action: 'failback', topics, groups, durationMs: Date.now() - started };
  }

  // ---- checkpoints -----------------------------------------------------------------------

  /** The flow's newest checkpoints in the target (MM2's `<source>.checkpoints.internal`), of one group or all. */
  async checkpoints(flowName: string, group?: string): Promise<Checkpoint[]> {
    const f = this.flow(flowName);
    return readCheckpoints(this.clientsFor(f.target).options(), f.source, group);
  }

  /**
   * A group's offsets for a flow, side by side: committed on the source (when reachable),
   * the newest checkpoint (the source offset and its translation for the target), and
   * committed on the target.
   */
  async groupOffsets(flowName: string, group: string): Promise<GroupOffsetsView> {
    const f = this.flow(flowName);
    const checkpoints = await this.checkpoints(flowName, group);
    const source = await Promise.race([
      this.clientsFor(f.source)
        .admin.fetchOffsets(group)
        .catch(() => null),
      sleep(END_OFFSETS_TIMEOUT_MS).then(() => null),
    ]);
    const target = await this.clientsFor(f.target).admin.fetchOffsets(group);
    const key = (targetTopicName: string, p: number): string => `${targetTopicName}|${p}`;
    const sourceCommitted = new Map(
      (source ?? [])
        .filter((o) => o.offset >= 0)
        .map((o) => [key(targetTopic(f, o.topic), o.partition), o.offset]),
    );
    const checkpointOf = new Map(checkpoints.map((c) => [key(c.topic, c.partition), c]));
    const targetCommitted = new Map(
      target.filter((o) => o.offset >= 0).map((o) => [key(o.topic, o.partition), o.offset]),
    );
    const rows = new Map<string, { targetTopic: string; partition: number }>();
    for (const k of [...sourceCommitted.keys(), ...checkpointOf.keys()]) {
      const at = k.lastIndexOf('|');
      rows.set(k, { targetTopic: k.slice(0, at), partition: Number(k.slice(at + 1)) });
    }
    const partitions = [...rows.entries()]
      .sort(([, a], [, b]) =>
        a.targetTopic === b.targetTopic ? a.partition - b.partition : a.targetTopic < b.targetTopic ? -1 : 1,
      )
      .map(([k, r]) => {
        const c = checkpointOf.get(k);
        return {
          topic: sourceTopicOf(f, r.targetTopic),
          targetTopic: r.targetTopic,
          partition: r.partition,
          sourceCommitted: sourceCommitted.get(k) ?? null,
          checkpoint: c === undefined ? null : { upstreamOffset: c.upstreamOffset, offset: c.offset },
          targetCommitted: targetCommitted.get(k) ?? null,
        };
      });
    return { flow: f.name, group, partitions };
  }
}

function configuredThrottle(f: FlowConfig): FlowThrottle {
  return { bytesPerSecond: f.throttleBytesPerSecond, recordsPerSecond: 0 };
}

/** The source topic a target topic mirrors, by the flow's replication policy. */
function sourceTopicOf(f: FlowConfig, targetTopicName: string): string {
  const prefix = `${f.source}${f.separator}`;
  return f.policy === 'prefix' && targetTopicName.startsWith(prefix)
    ? targetTopicName.slice(prefix.length)
    : targetTopicName;
}

function endKey(alias: string, topic: string, partition: number): string {
  return `${alias}\u0000${topic}\u0000${partition}`;
}
