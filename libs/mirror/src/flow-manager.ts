import type { Queue } from 'bullmq';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { ClusterClients } from './cluster-clients';
import type { FlowConfig } from './config';
import {
  checkpointsTopic,
  encodeCheckpointKey,
  encodeCheckpointValue,
  encodeHeartbeatKey,
  encodeHeartbeatValue,
  HEARTBEATS_TOPIC,
  offsetSyncsTopic,
} from './mm2-formats';
import type { MirrorStore, TopicState } from './mirror-store';
import { OffsetTranslator } from './offset-translator';
import { mirrorPath, shouldMirror, targetTopic } from './policy';

export interface UnitJobData {
  readonly flow: string;
  readonly topic: string;
  readonly partition: number;
}

export const unitJobId = (u: UnitJobData): string => `${u.flow}|${u.topic}|${u.partition}`;

/**
 * A mirror topic whose tributary.mirror.of was removed by hand is promoted: recorded as such
 * (with where each partition ended), so the flow never copies into it again.
 */
export async function recordManualPromotion(
  store: MirrorStore,
  target: ClusterClients,
  flow: FlowConfig,
  topic: string,
  logger: { log(m: string): void },
): Promise<void> {
  if ((await store.topicState(flow.name, topic)) !== null) return;
  const name = targetTopic(flow, topic);
  const [info] = await target.admin.describeTopics([name]);
  const ends = await target.admin.listOffsets(
    info.partitions.map((p) => ({ topic: name, partition: p.partition })),
    'latest',
  );
  await store.setTopicState(flow.name, topic, {
    state: 'promoted',
    kind: 'manual',
    at: Date.now(),
    targetTopic: name,
    partitions: ends.map((e) => ({ partition: e.partition, targetEnd: e.offset, sourceEnd: null })),
  });
  logger.log(
    `flow ${flow.name}: ${flow.target}/${name} lost tributary.mirror.of: treated as promoted, never copied again`,
  );
}

const TOPIC_CONFIG = 2;
const DYNAMIC_TOPIC_CONFIG = 1;
const LEASE_MS = 10_000;

interface MirroredTopic {
  readonly topic: string;
  readonly target: string;
  readonly partitions: number;
  readonly mode: 'preserve' | 'translate';
  /** Promoted and reversed topics are the operators' now: no checkpoints, no config sync. */
  readonly state: TopicState['state'] | 'mirroring';
}

/**
 * Runs one flow's control plane (held by one mirror process at a time through a Redis lease):
 * finds source topics, creates and follows their mirrors on the target (partitions,
 * configs), keeps one BullMQ job per source partition, emits heartbeats into the source and
 * checkpoints into the target, and, when asked, writes translated offsets into the target's
 * idle consumer groups.
 */
export class FlowManager {
  private leaseToken: string | null = null;
  private stopped = false;
  private topics = new Map<string, MirroredTopic>();
  private lastRefresh = 0;
  private lastConfigSync = 0;
  private lastCheckpoint = 0;
  private lastGroupSync = 0;
  private lastHeartbeat = 0;
  private topicsVersion = -1;
  private readonly emitted = new Map<string, number>();
  private readonly translator: OffsetTranslator;
  private loopDone: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    readonly flow: FlowConfig,
    private readonly source: ClusterClients,
    private readonly target: ClusterClients,
    private readonly store: MirrorStore,
    private readonly queue: Queue<UnitJobData>,
    private readonly logger: { log(m: string): void; warn(m: string): void; error(m: string): void },
  ) {
    this.translator = new OffsetTranslator(flow, source, target);
  }

  get isLeader(): boolean {
    return this.leaseToken !== null;
  }

  start(): void {
    this.loopDone = this.loop();
  }

  /** Runs the next round now (tests and operators: "refresh topics"). */
  refreshNow(): void {
    this.lastRefresh = 0;
    this.wake?.();
  }

  /** Prefixes the cluster whose broker an error names, so operators know whose credentials or network to check. */
  private naming(message: string): string {
    for (const address of message.match(/[\w.-]+:\d+/g) ?? []) {
      if (this.source.owns(address)) return `source ${this.flow.source}: ${message}`;
      if (this.target.owns(address)) return `target ${this.flow.target}: ${message}`;
    }
    return message;
  }

  private async loop(): Promise<void> {
    const lease = `manager:${this.flow.name}`;
    while (!this.stopped) {
      try {
        if (this.leaseToken === null) this.leaseToken = await this.store.acquire(lease, LEASE_MS);
        else if (!(await this.store.renew(lease, this.leaseToken, LEASE_MS))) this.leaseToken = null;
        if (this.leaseToken !== null) await this.round();
      } catch (err) {
        const message = this.naming((err as Error).message);
        this.logger.warn(`flow ${this.flow.name}: ${message}`);
        await this.store.recordError(this.flow.name, message).catch(() => undefined);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(1000, this.flow.emitHeartbeatsIntervalMs));
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
    }
    if (this.leaseToken !== null) await this.store.release(lease, this.leaseToken).catch(() => undefined);
  }

  private async round(): Promise<void> {
    const now = Date.now();
    const f = this.flow;
    const version = await this.store.topicsVersion(f.name);
    // A topic promoted, reversed or failed back: its units follow at once, not at the next refresh.
    if (version !== this.topicsVersion) {
      this.topicsVersion = version;
      this.lastRefresh = 0;
    }
    if (now - this.lastRefresh >= f.refreshTopicsIntervalMs) {
      await this.refreshTopics(
        now - this.lastConfigSync >= f.syncTopicConfigsIntervalMs && f.syncTopicConfigs,
      );
      this.lastRefresh = now;
      if (f.syncTopicConfigs && now - this.lastConfigSync >= f.syncTopicConfigsIntervalMs)
        this.lastConfigSync = now;
    }
    if (f.emitHeartbeats && now - this.lastHeartbeat >= f.emitHeartbeatsIntervalMs) {
      this.lastHeartbeat = now;
      await this.emitHeartbeat();
    }
    if (f.emitCheckpoints && now - this.lastCheckpoint >= f.emitCheckpointsIntervalMs) {
      this.lastCheckpoint = now;
      await this.emitCheckpoints();
    }
    if (f.syncGroupOffsets && now - this.lastGroupSync >= f.syncGroupOffsetsIntervalMs) {
      this.lastGroupSync = now;
      await this.syncGroupOffsets();
    }
  }

  // ---- topics ----------------------------------------------------------------------------

  private async configsOf(clients: ClusterClients, topic: string): Promise<Map<string, string>> {
    const entries = await clients.admin.describeConfigs({ type: TOPIC_CONFIG, name: topic });
    return new Map(entries.filter((e) => e.value !== null).map((e) => [e.name, e.value as string]));
  }

  private async preserveWanted(): Promise<boolean> {
    if (this.flow.offsets === 'translate') return false;
    const supported = await this.target.supportsMirrorProduce();
    if (this.flow.offsets === 'preserve' && !supported) {
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_VERSION,
        `flow ${this.flow.name}: offsets: preserve needs a Tributary target, and ${this.flow.target} does not speak MirrorProduce`,
      );
    }
    return supported && (this.flow.offsets === 'preserve' || this.flow.policy === 'prefix');
  }

  private async refreshTopics(syncConfigs: boolean): Promise<void> {
    const f = this.flow;
    const sourceTopics = await this.source.admin.listTopics();
    if (f.emitHeartbeats && !sourceTopics.includes(HEARTBEATS_TOPIC)) sourceTopics.push(HEARTBEATS_TOPIC);
    await this.target.admin.listTopics();
    const preserve = await this.preserveWanted();
    const states = await this.store.topicStates(f.name);
    let units = 0;
    for (const topic of sourceTopics.sort()) {
      if (topic === HEARTBEATS_TOPIC && f.emitHeartbeats) await this.ensureHeartbeatsTopic();
      const sourceConfigs = await this.configsOf(this.source, topic).catch(() => null);
      if (sourceConfigs === null) continue;
      const path = (sourceConfigs.get('tributary.mirror.path') ?? '').split(',').filter((s) => s.length > 0);
      const skip = shouldMirror(f, topic, path);
      if (skip !== null) continue;
      const [info] = await this.source.admin.describeTopics([topic]);
      const partitions = info.partitions.length;
      const target = targetTopic(f, topic);
      const state = states.get(topic)?.state ?? 'mirroring';
      if (state === 'promoted') {
        await this.removeJobs(topic, partitions);
        this.topics.set(topic, { topic, target, partitions, mode: 'preserve', state });
        continue;
      }
      const mode =
        state === 'reversed'
          ? 'preserve'
          : await this.ensureTargetTopic(
              topic,
              target,
              partitions,
              sourceConfigs,
              path,
              preserve,
              syncConfigs,
            );
      if (mode === 'promoted') {
        this.topics.set(topic, { topic, target, partitions, mode: 'preserve', state: 'promoted' });
        continue;
      }
      this.topics.set(topic, { topic, target, partitions, mode, state });
      for (let p = 0; p < partitions; p++) {
        const data = { flow: f.name, topic, partition: p };
        await this.queue.add('unit', data, {
          jobId: unitJobId(data),
          attempts: 1_000_000,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: true,
          removeOnFail: true,
        });
      }
      units += partitions;
    }
    await this.store.setUnitCount(this.flow.name, units);
  }

  /** A promoted topic's units have nothing to do: the ones waiting go; a running one ends itself. */
  private async removeJobs(topic: string, partitions: number): Promise<void> {
    for (let p = 0; p < partitions; p++) {
      await this.queue.remove(unitJobId({ flow: this.flow.name, topic, partition: p })).catch(() => 0);
    }
  }

  /**
   * Creates the mirror topic, or follows the source's partitions and configs. Returns its
   * mode, or 'promoted' for a mirror whose tributary.mirror.of was removed by hand (the flow
   * then never writes it again).
   */
  private async ensureTargetTopic(
    topic: string,
    target: string,
    partitions: number,
    sourceConfigs: Map<string, string>,
    sourcePath: readonly string[],
    preserve: boolean,
    syncConfigs: boolean,
  ): Promise<'preserve' | 'translate' | 'promoted'> {
    const f = this.flow;
    const wanted = await this.wantedConfigs(topic, sourceConfigs);
    const marker = `${f.source}:${topic}`;
    const existing = this.target.cluster.topic(target);
    if (existing === undefined) {
      const configs: Record<string, string> = Object.fromEntries(wanted);
      if (preserve) {
        configs['tributary.mirror.of'] = marker;
        configs['tributary.mirror.path'] = mirrorPath(f, sourcePath).join(',');
      }
      try {
        await this.target.admin.createTopics([{ name: target, numPartitions: partitions, configs }]);
        this.logger.log(
          `flow ${f.name}: created ${f.target}/${target} (${partitions} partitions, ${preserve ? 'offsets preserved' : 'offsets translated'})`,
        );
      } catch (err) {
        if (!(err instanceof KafkaProtocolError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
      }
      if (!preserve) await this.ensureTranslateTopics();
      return preserve ? 'preserve' : 'translate';
    }
    const targetConfigs = await this.configsOf(this.target, target);
    const mode = targetConfigs.get('tributary.mirror.of') === marker ? 'preserve' : 'translate';
    const targetPath = (targetConfigs.get('tributary.mirror.path') ?? '').split(',');
    if (mode === 'translate' && targetPath[targetPath.length - 1] === f.source) {
      await recordManualPromotion(this.store, this.target, f, topic, this.logger);
      return 'promoted';
    }
    if (mode === 'translate') await this.ensureTranslateTopics();
    if (existing.partitions.length < partitions) {
      await this.target.admin.createPartitions([{ topic: target, count: partitions }]);
      this.logger.log(`flow ${f.name}: ${target} grew to ${partitions} partitions`);
    }
    if (syncConfigs) {
      const changes = [...wanted]
        .filter(([k, v]) => targetConfigs.get(k) !== v)
        .map(([name, value]) => ({ name, value }));
      if (changes.length > 0)
        await this.target.admin.alterConfigs({ type: TOPIC_CONFIG, name: target }, changes);
    }
    return mode;
  }

  /** The source topic's own settings (not defaults) that config sync copies. */
  private async wantedConfigs(
    topic: string,
    sourceConfigs: Map<string, string>,
  ): Promise<Map<string, string>> {
    if (!this.flow.syncTopicConfigs) return new Map();
    const described = await this.source.admin.describeConfigs({ type: TOPIC_CONFIG, name: topic });
    const own = described
      .filter((c) => c.source === DYNAMIC_TOPIC_CONFIG && c.value !== null)
      .map((c) => c.name);
    return new Map(
      own
        .filter((name) => !this.flow.configPropertiesExclude.some((p) => p.test(name)))
        .map((name) => [name, sourceConfigs.get(name) as string]),
    );
  }

  private async ensureInternalTopic(clients: ClusterClients, name: string): Promise<void> {
    if (clients.cluster.topic(name) !== undefined) return;
    try {
      await clients.admin.createTopics([
        { name, numPartitions: 1, configs: { 'cleanup.policy': 'compact' } },
      ]);
    } catch (err) {
      if (!(err instanceof KafkaProtocolError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS)) throw err;
    }
    await clients.cluster.topicMetadata(name, { allowAutoTopicCreation: false });
  }

  private async ensureTranslateTopics(): Promise<void> {
    await this.ensureInternalTopic(this.source, offsetSyncsTopic(this.flow.target));
  }

  private async ensureHeartbeatsTopic(): Promise<void> {
    await this.ensureInternalTopic(this.source, HEARTBEATS_TOPIC);
  }

  // ---- heartbeats and checkpoints --------------------------------------------------------

  /** A heartbeat into the source's `heartbeats`: its arrival downstream measures end-to-end latency. */
  private async emitHeartbeat(): Promise<void> {
    await this.ensureHeartbeatsTopic();
    await this.source.producer().send({
      topic: HEARTBEATS_TOPIC,
      messages: [
        {
          key: encodeHeartbeatKey({
            sourceClusterAlias: this.flow.source,
            targetClusterAlias: this.flow.target,
          }),
          value: encodeHeartbeatValue({ timestamp: Date.now() }),
          partition: 0,
        },
      ],
    });
  }

  /** Consumer groups of the source this flow checkpoints, with their committed offsets on mirrored topics. */
  private async groupOffsets(): Promise<
    { group: string; topic: MirroredTopic; partition: number; offset: number; metadata: string }[]
  > {
    const groups = (await this.source.admin.listGroups())
      .map((g) => g.groupId)
      .filter(
        (g) => this.flow.groups.some((p) => p.test(g)) && !this.flow.groupsExclude.some((p) => p.test(g)),
      );
    const out: {
      group: string;
      topic: MirroredTopic;
      partition: number;
      offset: number;
      metadata: string;
    }[] = [];
    for (const group of groups) {
      for (const o of await this.source.admin.fetchOffsets(group)) {
        const topic = this.topics.get(o.topic);
        if (topic === undefined || topic.state !== 'mirroring' || o.offset < 0) continue;
        out.push({ group, topic, partition: o.partition, offset: o.offset, metadata: o.metadata ?? '' });
      }
    }
    return out;
  }

  /** Translates a committed source offset for the target (identity when offsets are preserved). */
  private async translate(t: MirroredTopic, partition: number, offset: number): Promise<number | null> {
    if (t.mode === 'preserve') return offset;
    return this.translator.translate(t.topic, t.target, partition, offset);
  }

  private async emitCheckpoints(): Promise<void> {
    const offsets = await this.groupOffsets();
    if (offsets.length === 0) return;
    if ([...this.topics.values()].some((t) => t.mode === 'translate')) await this.translator.refresh();
    const topic = checkpointsTopic(this.flow.source);
    await this.ensureInternalTopic(this.target, topic);
    const messages = [];
    for (const o of offsets) {
      const downstream = await this.translate(o.topic, o.partition, o.offset);
      if (downstream === null) continue;
      const k = `${o.group}|${o.topic.target}|${o.partition}`;
      if (this.emitted.get(k) === o.offset) continue;
      this.emitted.set(k, o.offset);
      messages.push({
        key: encodeCheckpointKey({ group: o.group, topic: o.topic.target, partition: o.partition }),
        value: encodeCheckpointValue({ upstreamOffset: o.offset, offset: downstream, metadata: o.metadata }),
        partition: 0,
      });
    }
    if (messages.length > 0) await this.target.producer().send({ topic, messages });
    await this.store.noteCheckpoint(this.flow.name, new Set(offsets.map((o) => o.group)).size);
  }

  /**
   * Writes translated offsets into the target's consumer groups, only while a group has no
   * active member there and only forward (MM2's sync.group.offsets), so consumers that fail
   * over simply resume.
   */
  private async syncGroupOffsets(): Promise<void> {
    const offsets = await this.groupOffsets();
    if (offsets.length === 0) return;
    if ([...this.topics.values()].some((t) => t.mode === 'translate')) await this.translator.refresh();
    const byGroup = new Map<string, typeof offsets>();
    for (const o of offsets) byGroup.set(o.group, [...(byGroup.get(o.group) ?? []), o]);
    for (const [group, list] of byGroup) {
      const [described] = await this.target.admin.describeGroups([group]);
      if (described.state !== 'Empty' && described.state !== 'Dead') continue;
      const current = new Map(
        (await this.target.admin.fetchOffsets(group)).map((o) => [`${o.topic}|${o.partition}`, o.offset]),
      );
      const commits = [];
      for (const o of list) {
        const downstream = await this.translate(o.topic, o.partition, o.offset);
        if (downstream === null) continue;
        if ((current.get(`${o.topic.target}|${o.partition}`) ?? -1) >= downstream) continue;
        commits.push({ topic: o.topic.target, partition: o.partition, offset: downstream });
      }
      if (commits.length > 0) {
        await this.target.admin.resetOffsets(group, [], { offsets: commits });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loopDone;
    await this.translator.close();
  }
}
