import type { FlowConfig, FlowStatus, Mirror } from '@tributary/mirror';
import type { FlowDetail, FlowStatusSource, FlowSummary, FlowThrottle } from './flow-source';

/** A flow with an error in the last half minute is failing (its units retry). */
const FAILING_WITHIN_MS = 30_000;

function summary(flow: FlowConfig, s: FlowStatus): FlowSummary {
  const lagRecords = s.units.reduce((n, u) => n + u.lagRecords, 0);
  const lagSeconds = s.units.length === 0 ? null : Math.max(0, ...s.units.map((u) => u.lagSeconds));
  const failing = s.errors.some((e) => Date.now() - e.at < FAILING_WITHIN_MS);
  return {
    id: flow.name,
    source: flow.source,
    target: flow.target,
    state:
      s.state === 'paused' ? 'paused' : failing ? 'failing' : s.units.length === 0 ? 'starting' : 'running',
    topics: [
      ...flow.topics.map((p) => p.source.slice(4, -2)),
      ...flow.topicsExclude.map((p) => `!${p.source.slice(4, -2)}`),
    ],
    replicationPolicy: flow.policy,
    lagRecords,
    lagSeconds,
    replicationLatencyMs: s.latencyMs?.p50 ?? null,
    throughput: s.throughput,
    throttle: {
      bytesPerSecond: s.throttle.bytesPerSecond > 0 ? s.throttle.bytesPerSecond : null,
      recordsPerSecond: s.throttle.recordsPerSecond > 0 ? s.throttle.recordsPerSecond : null,
    },
    lastCheckpoint: s.lastCheckpoint,
    errorCount: s.errors.length,
  };
}

/** The console's view of a running replicator (libs/mirror): its flows, their state and controls. */
export function mirrorFlowSource(mirror: Mirror): FlowStatusSource {
  const flow = (id: string): FlowConfig | undefined => mirror.flows.find((f) => f.name === id);
  const status = async (id: string): Promise<FlowStatus | null> =>
    (await mirror.status()).find((s) => s.name === id) ?? null;
  const describe = async (id: string): Promise<FlowDetail | null> => {
    const f = flow(id);
    const s = await status(id);
    if (f === undefined || s === null) return null;
    return {
      ...summary(f, s),
      partitions: s.units.map((u) => ({
        sourceTopic: u.topic,
        targetTopic: u.targetTopic,
        partition: u.partition,
        sourceLogEndOffset: u.sourceEnd,
        position: u.position,
        lagRecords: u.lagRecords,
        lagSeconds: u.lagSeconds,
      })),
      errors: s.errors,
    };
  };
  return {
    configured: true,
    provider: 'mirror',
    async listFlows() {
      const all = await mirror.status();
      return mirror.flows.flatMap((f) => {
        const s = all.find((x) => x.name === f.name);
        return s === undefined ? [] : [summary(f, s)];
      });
    },
    describeFlow: describe,
    async pause(id) {
      if (flow(id) === undefined) return null;
      await mirror.pause(id);
      return describe(id);
    },
    async resume(id) {
      if (flow(id) === undefined) return null;
      await mirror.resume(id);
      return describe(id);
    },
    async throttle(id, t: FlowThrottle) {
      if (flow(id) === undefined) return null;
      await mirror.throttle(id, {
        bytesPerSecond: Math.round(t.bytesPerSecond ?? 0),
        recordsPerSecond: Math.round(t.recordsPerSecond ?? 0),
      });
      return describe(id);
    },
  };
}
