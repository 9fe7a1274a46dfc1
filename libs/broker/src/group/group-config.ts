import type { ConfigKeyDef } from '../config/broker-config';
import { ConfigError } from '../config/config-error';

/** The group coordinator's settings, under Kafka's names and with Kafka's defaults. */
export interface GroupConfig {
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  readonly initialRebalanceDelayMs: number;
  readonly maxSize: number;
  readonly offsetsTopicNumPartitions: number;
  readonly offsetsTopicReplicationFactor: number;
  readonly offsetsTopicSegmentBytes: number;
  readonly offsetsRetentionMs: number;
  readonly offsetsRetentionCheckIntervalMs: number;
  readonly offsetMetadataMaxBytes: number;
}

const key = (name: string, type: ConfigKeyDef['type'], def: string, doc: string): ConfigKeyDef => ({
  name,
  type,
  default: def,
  doc,
});

export const GROUP_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  key('group.min.session.timeout.ms', 'int', '6000', 'Smallest session.timeout.ms a member may ask for.'),
  key('group.max.session.timeout.ms', 'int', '1800000', 'Largest session.timeout.ms a member may ask for.'),
  key(
    'group.initial.rebalance.delay.ms',
    'int',
    '3000',
    'How long the first rebalance of an empty group waits for more members to join.',
  ),
  key('group.max.size', 'int', '2147483647', 'Most members a group may have.'),
  key('offsets.topic.num.partitions', 'int', '50', 'Partitions of __consumer_offsets when it is created.'),
  key(
    'offsets.topic.replication.factor',
    'int',
    '3',
    'Replication factor of __consumer_offsets; a smaller cluster uses all its brokers.',
  ),
  key('offsets.topic.segment.bytes', 'int', '104857600', 'segment.bytes of __consumer_offsets.'),
  key(
    'offsets.retention.minutes',
    'int',
    '10080',
    "How long an empty group's committed offsets are kept after it became empty (or after a standalone consumer's last commit).",
  ),
  key('offsets.retention.check.interval.ms', 'long', '600000', 'How often expired offsets are removed.'),
  key('offset.metadata.max.bytes', 'int', '4096', 'Longest metadata string of a committed offset.'),
];

/** Reads and checks the group keys; `get` gives a key's value (set or default), `origin` where it was set. */
export function parseGroupConfig(
  get: (name: string) => string,
  origin: (name: string) => string,
): GroupConfig {
  const atLeast = (name: string, min: number): number => {
    const v = Number(get(name));
    if (v < min) throw new ConfigError(origin(name), name, `must be at least ${min}`);
    return v;
  };
  const config: GroupConfig = {
    minSessionTimeoutMs: atLeast('group.min.session.timeout.ms', 0),
    maxSessionTimeoutMs: atLeast('group.max.session.timeout.ms', 0),
    initialRebalanceDelayMs: atLeast('group.initial.rebalance.delay.ms', 0),
    maxSize: atLeast('group.max.size', 1),
    offsetsTopicNumPartitions: atLeast('offsets.topic.num.partitions', 1),
    offsetsTopicReplicationFactor: atLeast('offsets.topic.replication.factor', 1),
    offsetsTopicSegmentBytes: atLeast('offsets.topic.segment.bytes', 1),
    offsetsRetentionMs: atLeast('offsets.retention.minutes', 1) * 60_000,
    offsetsRetentionCheckIntervalMs: atLeast('offsets.retention.check.interval.ms', 1),
    offsetMetadataMaxBytes: atLeast('offset.metadata.max.bytes', 0),
  };
  if (config.maxSessionTimeoutMs < config.minSessionTimeoutMs) {
    throw new ConfigError(
      origin('group.max.session.timeout.ms'),
      'group.max.session.timeout.ms',
      `must not be below group.min.session.timeout.ms (${config.minSessionTimeoutMs})`,
    );
  }
  return config;
}
