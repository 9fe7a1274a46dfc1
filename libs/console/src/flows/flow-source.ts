import type { Checkpoint, GroupOffsetsView, PromotionReport } from '@tributary/mirror';

/**
 * What the console asks of the replicator (libs/mirror): the flows it runs and their state,
 * and the operator's controls. The mirror implements FlowStatusSource and hands it to
 * ConsoleModule.forRoot({ flows }); until then the console runs with NO_MIRROR, which has no
 * flows and says so in every answer.
 */

/** running: copying; paused: stopped by an operator; failing: retrying after errors; starting/stopped as named. */
export type FlowState = 'starting' | 'running' | 'paused' | 'failing' | 'stopped';

export interface FlowThrottle {
  /** Records per second across the flow's partitions; null: unlimited. */
  readonly recordsPerSecond: number | null;
  /** Bytes per second across the flow's partitions; null: unlimited. */
  readonly bytesPerSecond: number | null;
}

export interface FlowThroughput {
  /** Over the last few seconds. */
  readonly recordsPerSecond: number;
  readonly bytesPerSecond: number;
}

export interface FlowCheckpoint {
  /** When consumer group offsets were last checkpointed to the target (ms since the epoch). */
  readonly at: number;
  /** Groups whose offsets that checkpoint carried. */
  readonly groups: number;
}

export interface FlowError {
  readonly at: number;
  readonly message: string;
  readonly topic: string | null;
  readonly partition: number | null;
}

/** Why a partition cannot be copied until an operator acts. */
export interface FlowPartitionError {
  readonly message: string;
  /** The first offset not copied. */
  readonly offset: number;
  /** The target's limit that offset's batch exceeds, when that is the problem. */
  readonly limit: { readonly name: string; readonly value: number } | null;
}

/** One source partition of a flow. */
export interface FlowPartitionStatus {
  readonly sourceTopic: string;
  readonly targetTopic: string;
  readonly partition: number;
  /** copying, paused, error (stuck: see error), promoted (never copied again), waiting (no worker reported yet). */
  readonly state: 'copying' | 'paused' | 'error' | 'promoted' | 'waiting';
  /** forward: source -> target; reverse: a reversed topic copies target -> source. */
  readonly direction: 'forward' | 'reverse';
  /** The log end offset of the partition copied from (read when asked, else the last seen). */
  readonly sourceLogEndOffset: number;
  /** The next offset the flow will copy. */
  readonly position: number;
  /** sourceLogEndOffset - position. */
  readonly lagRecords: number;
  /** Age of the oldest record not yet copied (0 when caught up); null while unknown. */
  readonly lagSeconds: number | null;
  /** The worker running it (host-pid-id), null before any did. */
  readonly worker: string | null;
  /** When its worker last reported on it (ms since the epoch). */
  readonly updatedAt: number;
  readonly error: FlowPartitionError | null;
}

/** A topic an operator promoted or reversed; every other topic of the flow is mirroring. */
export interface FlowTopicState {
  readonly topic: string;
  readonly targetTopic: string;
  readonly state: 'promoted' | 'reversed';
  /** promote (planned), failover (unplanned), manual (tributary.mirror.of removed by hand). */
  readonly kind: 'promote' | 'failover' | 'manual';
  readonly at: number;
}

/** A mirror worker process and the units (flow|topic|partition) it runs. */
export interface MirrorWorkerView {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly units: readonly string[];
}

export interface PromotionRequest {
  readonly topics?: readonly string[];
  readonly groups?: readonly string[];
  readonly timeoutMs?: number;
  readonly recreateDiverged?: boolean;
}

export interface FlowSummary {
  /** Stable id, by convention "<source>-><target>" (e.g. "dc1-a->dc1-agg"). */
  readonly id: string;
  /** Cluster aliases, as in the console's configuration. */
  readonly source: string;
  readonly target: string;
  readonly state: FlowState;
  /** Topic include patterns (and excludes prefixed with "!"). */
  readonly topics: readonly string[];
  /** How target topics are named: prefix ("dc1-a.orders") or identity. */
  readonly replicationPolicy: 'prefix' | 'identity';
  readonly lagRecords: number;
  /** The largest partition lag in seconds; null while unknown. */
  readonly lagSeconds: number | null;
  /** Recent time from a record's append on the source to its append on the target. */
  readonly replicationLatencyMs: number | null;
  readonly throughput: FlowThroughput;
  readonly throttle: FlowThrottle;
  readonly lastCheckpoint: FlowCheckpoint | null;
  readonly errorCount: number;
  /** Partitions stuck in an error state. */
  readonly partitionsInError: number;
  readonly topicStates: readonly FlowTopicState[];
}

export interface FlowDetail extends FlowSummary {
  readonly partitions: readonly FlowPartitionStatus[];
  /** The most recent errors, newest first. */
  readonly errors: readonly FlowError[];
}

export interface FlowStatusSource {
  /** False when no replicator is attached: there are no flows to show or control. */
  readonly configured: boolean;
  /** Who answers ("none", "mirror", ...), shown in the API and on the dashboard. */
  readonly provider: string;
  listFlows(): Promise<FlowSummary[]>;
  /** null: no such flow. */
  describeFlow(id: string): Promise<FlowDetail | null>;
  /** Each returns the flow's new state, or null when there is no such flow. */
  pause(id: string): Promise<FlowSummary | null>;
  resume(id: string): Promise<FlowSummary | null>;
  throttle(id: string, throttle: FlowThrottle): Promise<FlowSummary | null>;
  workers(): Promise<MirrorWorkerView[]>;
  /** Each returns null when there is no such flow; a move the topics' state does not allow throws. */
  promote(id: string, request: PromotionRequest): Promise<PromotionReport | null>;
  failover(id: string, request: PromotionRequest): Promise<PromotionReport | null>;
  reverse(id: string, request: PromotionRequest): Promise<PromotionReport | null>;
  failback(id: string, request: PromotionRequest): Promise<PromotionReport | null>;
  checkpoints(id: string, group?: string): Promise<Checkpoint[] | null>;
  groupOffsets(id: string, group: string): Promise<GroupOffsetsView | null>;
}

/** The flow source of a console without a replicator: no flows, no data made up. */
export const NO_MIRROR: FlowStatusSource = {
  configured: false,
  provider: 'none',
  listFlows: async () => [],
  describeFlow: async () => null,
  pause: async () => null,
  resume: async () => null,
  throttle: async () => null,
  workers: async () => [],
  promote: async () => null,
  failover: async () => null,
  reverse: async () => null,
  failback: async () => null,
  checkpoints: async () => null,
  groupOffsets: async () => null,
};

export const NO_MIRROR_MESSAGE =
  'no mirror is configured: this console has no replicator attached, so there are no flows to show or control';
