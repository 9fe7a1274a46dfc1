import type { FlowConfig } from './config';
import { checkpointsTopic, HEARTBEATS_TOPIC, offsetSyncsTopic } from './mm2-formats';

/**
 * Which source topics a flow mirrors, and under which name. The prefix policy (MM2's
 * DefaultReplicationPolicy) names a mirror "<source alias><separator><topic>"; the identity
 * policy keeps the name. Cycle prevention is by name under the prefix policy (a topic that
 * already carries the target's alias came from there) and, for either policy, by provenance:
 * the path of clusters a mirror topic's records passed through (tributary.mirror.path).
 */
export function targetTopic(flow: FlowConfig, topic: string): string {
  return flow.policy === 'identity' ? topic : `${flow.source}${flow.separator}${topic}`;
}

export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('__') || topic.endsWith('.internal') || topic.startsWith('mm2-');
}

export interface SkipReason {
  readonly topic: string;
  readonly reason: string;
}

/**
 * Whether a flow mirrors a source topic; `path` is the topic's provenance (the clusters it
 * was mirrored through, from tributary.mirror.path). Returns null to mirror, else why not.
 */
export function shouldMirror(flow: FlowConfig, topic: string, path: readonly string[]): string | null {
  if (topic === offsetSyncsTopic(flow.target) || topic === checkpointsTopic(flow.source))
    return 'an internal topic of this flow';
  if (topic !== HEARTBEATS_TOPIC) {
    if (!flow.topics.some((p) => p.test(topic))) return 'not matched by topics';
    if (flow.topicsExclude.some((p) => p.test(topic))) return 'matched by topics.exclude';
  }
  if (path.includes(flow.target)) return `its records already passed through ${flow.target}`;
  if (flow.policy === 'prefix' && topic.startsWith(`${flow.target}${flow.separator}`)) {
    return `it is a mirror of ${flow.target}'s own topic (cycle)`;
  }
  return null;
}

/** The provenance of a mirror topic written by this flow: the source's path, then the source. */
export function mirrorPath(flow: FlowConfig, sourcePath: readonly string[]): string[] {
  return [...sourcePath, flow.source];
}
