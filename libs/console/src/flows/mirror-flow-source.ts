import {
  MirrorOperationError,
  type FlowConfig,
  type FlowStatus,
  type MirrorControl,
} from '@tributary/mirror';
import { OperationError } from '../ops/operation-error';
import type { FlowDetail, FlowStatusSource, FlowSummary, FlowThrottle } from './flow-source';

/** A flow with an error in the last half minute, or a partition stuck, is failing. */
const FAILING_WITHIN_MS = 30_000;

function summary(flow: FlowConfig, s: FlowStatus): FlowSummary {
  const live = s.partitions.filter((p) => p.state !== 'promoted');
  const lagRecords = live.reduce((n, p) => n + p.lagRecords, 0);
  const lagSeconds = live.length === 0 ? null : Math.max(0, ...live.map((p) => p.lagSeconds));
  const partitionsInError = live.filter((p) => p.state === 'error').length;
  const failing = partitionsInError > 0 || s.errors.some((e) => Date.now() - e.at < FAILING_WITHIN_MS);
  return {
    id: flow.name,
    source: flow.source,
    target: flow.target,
    state:
      s.state === 'paused'
        ? 'paused'
        : failing
          ? 'failing'
          : s.partitions.length === 0
            ? 'starting'
            : 'running',
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
    partitionsInError,
    topicStates: s.topics.flatMap((t) =>
      t.state === 'mirroring' || t.kind === null || t.at === null
        ? []
        : [{ topic: t.topic, targetTopic: t.targetTopic, state: t.state, kind: t.kind, at: t.at }],
    ),
  };
}

function detail(flow: FlowConfig, s: FlowStatus): FlowDetail {
  return {
    ...summary(flow, s),
    partitions: s.partitions.map((p) => ({
      sourceTopic: p.topic,
      targetTopic: p.targetTopic,
      partition: p.partition,
      state: p.state,
      direction: p.direction,
      sourceLogEndOffset: p.sourceEnd,
      position: p.position,
      lagRecords: p.lagRecords,
      lagSeconds: p.lagSeconds,
      worker: p.worker,
      updatedAt: p.updatedAt,
      error: p.error,
    })),
    errors: s.errors,
  };
}

/** An operation the flows' state does not allow is the operator's to fix: a 4xx with the reason. */
async function operation<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof MirrorOperationError) throw new OperationError(err.kind, err.message);
    throw err;
  }
}

/**
 * The console's view of a replicator deployment (libs/mirror) through its MirrorControl:
 * flows, workers, lag and the operators' actions. The control reads and writes the
 * deployment's Redis, so this works the same inside a worker (the demo) and in a console
 * attached to workers elsewhere. `controlOf` is asked at each call: the demo's mirror makes
 * its control only when it starts, after the console module is built.
 */
export function mirrorFlowSource(controlOf: () => MirrorControl): FlowStatusSource {
  const flow = (id: string): FlowConfig | undefined => controlOf().flows.find((f) => f.name === id);
  const describe = async (id: string): Promise<FlowDetail | null> => {
    const f = flow(id);
    return f === undefined ? null : detail(f, await controlOf().flowStatus(id));
  };
  const act = async <T>(id: string, run: () => Promise<T>): Promise<T | null> =>
    flow(id) === undefined ? null : operation(run);
  return {
    configured: true,
    provider: 'mirror',
    async listFlows() {
      const control = controlOf();
      const all = await control.status();
      return control.flows.flatMap((f) => {
        const s = all.find((x) => x.name === f.name);
        return s === undefined ? [] : [summary(f, s)];
      });
    },
    describeFlow: describe,
    async pause(id) {
      if ((await act(id, () => controlOf().pause(id))) === null) return null;
      return describe(id);
    },
    async resume(id) {
      if ((await act(id, () => controlOf().resume(id))) === null) return null;
      return describe(id);
    },
    async throttle(id, t: FlowThrottle) {
      const limit = {
        bytesPerSecond: Math.round(t.bytesPerSecond ?? 0),
        recordsPerSecond: Math.round(t.recordsPerSecond ?? 0),
      };
      if ((await act(id, () => controlOf().throttle(id, limit))) === null) return null;
      return describe(id);
    },
    async workers() {
      const now = Date.now();
      return (await controlOf().workers()).map((w) => ({
        id: w.id,
        host: w.host,
        pid: w.pid,
        uptimeSeconds: Math.round((now - w.startedAt) / 1000),
        units: w.units,
      }));
    },
    promote: (id, r) => act(id, () => controlOf().promote(id, r)),
    failover: (id, r) => act(id, () => controlOf().failover(id, r)),
    reverse: (id, r) => act(id, () => controlOf().reverse(id, r)),
    failback: (id, r) => act(id, () => controlOf().failback(id, r)),
    checkpoints: (id, group) => act(id, () => controlOf().checkpoints(id, group)),
    groupOffsets: (id, group) => act(id, () => controlOf().groupOffsets(id, group)),
  };
}
