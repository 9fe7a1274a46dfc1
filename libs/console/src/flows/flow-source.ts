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

/** One source partition of a flow. */
export interface FlowPartitionStatus {
  readonly sourceTopic: string;
  readonly targetTopic: string;
  readonly partition: number;
  /** The source partition's log end offset when last looked at. */
  readonly sourceLogEndOffset: number;
  /** The next source offset the flow will copy. */
  readonly position: number;
  /** sourceLogEndOffset - position. */
  readonly lagRecords: number;
  /** Age of the oldest record not yet copied (0 when caught up); null while unknown. */
  readonly lagSeconds: number | null;
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
};

export const NO_MIRROR_MESSAGE =
  'no mirror is configured: this console has no replicator attached, so there are no flows to show or control';
