import {
  array,
  boolean,
  documented,
  integer,
  nullable,
  number,
  object,
  oneOf,
  optional,
  record,
  string,
  timestamp,
  type Infer,
} from '../http/schema';

/*
 * What the console answers, as schemas: the OpenAPI document is made from these and the
 * TypeScript types below are inferred from them, so the two cannot disagree.
 */

export const BrokerViewSchema = object({
  nodeId: integer(),
  host: nullable(string()),
  port: nullable(integer()),
  rack: nullable(string()),
  isController: boolean(),
  alive: boolean({ description: 'Listed in Metadata; false for a replica id that Metadata does not list' }),
});
export type BrokerView = Infer<typeof BrokerViewSchema>;

export const ClusterSummarySchema = object({
  alias: string(),
  bootstrapServers: array(string()),
  datacenter: nullable(string()),
  reachable: boolean(),
  error: nullable(string({ description: 'Why the cluster could not be reached' })),
  clusterId: nullable(string()),
  controllerId: nullable(integer()),
  brokers: array(BrokerViewSchema),
  topics: integer({ description: 'Topics other than internal ones' }),
  internalTopics: integer(),
  partitions: integer({ description: 'Partitions of every topic, internal ones included' }),
  underReplicatedPartitions: integer({
    description: 'Partitions whose ISR is smaller than their replica set',
  }),
  offlinePartitions: integer({ description: 'Partitions without a leader' }),
});
export type ClusterSummary = Infer<typeof ClusterSummarySchema>;

export const ClusterOverviewSchema = object({
  ...ClusterSummarySchema.shape,
  groups: integer(),
  consumerLag: integer({ description: 'Sum of every group’s lag' }),
  logEndOffsetSum: integer({
    description:
      'Sum of log end offsets of the non-internal topics; its rate of change is the records-in rate',
  }),
  sampledAt: integer({ description: 'When these figures were read (ms since the epoch)' }),
});
export type ClusterOverview = Infer<typeof ClusterOverviewSchema>;

export const TopicSummarySchema = object({
  name: string(),
  internal: boolean(),
  partitions: integer(),
  replicationFactor: integer(),
  underReplicatedPartitions: integer(),
  offlinePartitions: integer(),
});
export type TopicSummary = Infer<typeof TopicSummarySchema>;

export const PartitionViewSchema = object({
  partition: integer(),
  leader: integer({ description: '-1: offline' }),
  leaderEpoch: integer(),
  replicas: array(integer()),
  isr: array(integer()),
  offlineReplicas: array(integer()),
  underReplicated: boolean(),
  logStartOffset: nullable(integer({ description: 'null while the partition has no leader' })),
  logEndOffset: nullable(integer()),
  records: nullable(integer({ description: 'logEndOffset - logStartOffset (compaction may leave fewer)' })),
});
export type PartitionView = Infer<typeof PartitionViewSchema>;

export const TopicDetailSchema = object({
  ...TopicSummarySchema.shape,
  topicId: string(),
  partitions: array(PartitionViewSchema),
  records: integer({ description: 'Sum of the partitions’ records' }),
});
export type TopicDetail = Infer<typeof TopicDetailSchema>;

export const ConfigViewSchema = object({
  name: string(),
  value: nullable(string({ description: 'null for sensitive configs' })),
  source: string({
    description: 'DescribeConfigs’ source: DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG, ...',
  }),
  isDefault: boolean(),
  readOnly: boolean(),
  sensitive: boolean(),
});
export type ConfigView = Infer<typeof ConfigViewSchema>;

/** Kafka's client quota keys. */
export const QUOTA_KEYS = [
  'producer_byte_rate',
  'consumer_byte_rate',
  'request_percentage',
  'controller_mutation_rate',
] as const;

export const QuotaEntitySchema = object(
  {
    user: optional(
      nullable(
        string({
          minLength: 1,
          maxLength: 1024,
          description: 'A user (principal name); null: every user without a quota of its own',
        }),
      ),
    ),
    clientId: optional(
      nullable(
        string({
          minLength: 1,
          maxLength: 1024,
          description: 'A client.id; null: every client id without a quota of its own',
        }),
      ),
    ),
  },
  {
    description:
      "A quota entity: a user, a client id or both (left out: not part of the entity; null: that type's default)",
  },
);

export const QuotaViewSchema = object({
  entity: QuotaEntitySchema,
  description: string({
    description: "The entity in Kafka's tools' words, e.g. user 'alice', client-id <default>",
  }),
  values: record(number(), {
    description:
      'producer_byte_rate and consumer_byte_rate in bytes/s per broker, request_percentage in percent of the event loop, controller_mutation_rate in partitions/s',
    example: { producer_byte_rate: 1048576 },
  }),
});
export type QuotaView = Infer<typeof QuotaViewSchema>;

const EncodingSchema = nullable(oneOf(['utf8', 'base64'] as const));

export const RecordViewSchema = object({
  offset: integer(),
  timestamp: integer({ description: 'ms since the epoch' }),
  time: string({ description: 'The timestamp in ISO-8601' }),
  key: nullable(string()),
  keyEncoding: EncodingSchema,
  value: nullable(string()),
  valueEncoding: EncodingSchema,
  size: integer({ description: 'Bytes of key and value' }),
  headers: array(object({ key: string(), value: nullable(string()), valueEncoding: EncodingSchema })),
});
export type RecordView = Infer<typeof RecordViewSchema>;

export const RecordPageSchema = object({
  topic: string(),
  partition: integer(),
  requestedOffset: nullable(integer()),
  logStartOffset: integer(),
  logEndOffset: integer(),
  records: array(RecordViewSchema),
  nextOffset: integer({ description: 'Where the next page starts' }),
});
export type RecordPage = Infer<typeof RecordPageSchema>;

export const GroupSummarySchema = object({
  groupId: string(),
  protocolType: string(),
  state: nullable(string()),
});
export type GroupSummary = Infer<typeof GroupSummarySchema>;

export const GroupListItemSchema = object({
  ...GroupSummarySchema.shape,
  members: integer(),
  lag: integer(),
});

export const GroupPartitionLagSchema = object({
  topic: string(),
  partition: integer(),
  committedOffset: nullable(integer({ description: 'null: assigned but nothing committed' })),
  logEndOffset: nullable(integer()),
  lag: nullable(integer({ description: 'logEndOffset - committedOffset' })),
  memberId: nullable(string({ description: 'The member the partition is assigned to' })),
});
export type GroupPartitionLag = Infer<typeof GroupPartitionLagSchema>;

export const GroupDetailSchema = object({
  groupId: string(),
  state: string({ description: 'Empty, PreparingRebalance, CompletingRebalance, Stable or Dead' }),
  protocolType: string(),
  protocol: string({ description: 'The assignor the group chose' }),
  members: array(
    object({
      memberId: string(),
      groupInstanceId: nullable(string()),
      clientId: string(),
      clientHost: string(),
      assignment: array(object({ topic: string(), partition: integer() })),
    }),
  ),
  offsets: array(GroupPartitionLagSchema),
  totalLag: integer(),
});
export type GroupDetail = Infer<typeof GroupDetailSchema>;

export type ResetTarget =
  | { to: 'earliest' }
  | { to: 'latest' }
  | { to: 'timestamp'; timestamp: number }
  | { to: 'offset'; offset: number }
  /** Where the group's last checkpoint from a mirror flow out of `source` says it resumes here. */
  | { to: 'checkpoints'; source: string };

export const ResetOffsetsResultSchema = object({
  groupId: string(),
  dryRun: boolean(),
  offsets: array(
    object({
      topic: string(),
      partition: integer(),
      previousOffset: nullable(integer()),
      newOffset: integer(),
      logStartOffset: integer(),
      logEndOffset: integer(),
    }),
  ),
});
export type ResetOffsetsResult = Infer<typeof ResetOffsetsResultSchema>;

// ---- flows ---------------------------------------------------------------------------------

const ThrottleSchema = object({
  recordsPerSecond: nullable(number({ min: 0, exclusiveMin: true })),
  bytesPerSecond: nullable(number({ min: 0, exclusiveMin: true })),
});

export const FlowSummarySchema = object({
  id: string({ example: 'dc1-a->dc1-agg' }),
  source: string(),
  target: string(),
  state: oneOf(['starting', 'running', 'paused', 'failing', 'stopped'] as const),
  topics: array(string()),
  replicationPolicy: oneOf(['prefix', 'identity'] as const),
  lagRecords: integer({
    description: 'Records on the sources not yet copied (source log end now - next offset)',
  }),
  lagSeconds: nullable(
    number({ description: 'Age of the oldest record not yet copied; grows while paused' }),
  ),
  replicationLatencyMs: nullable(number()),
  throughput: object({ recordsPerSecond: number(), bytesPerSecond: number() }),
  throttle: ThrottleSchema,
  lastCheckpoint: nullable(object({ at: timestamp(), groups: integer() })),
  errorCount: integer(),
  partitionsInError: integer({ description: 'Partitions stuck until an operator acts (see their error)' }),
  topicStates: array(
    object({
      topic: string(),
      targetTopic: string(),
      state: oneOf(['promoted', 'reversed'] as const),
      kind: oneOf(['promote', 'failover', 'manual'] as const),
      at: timestamp(),
    }),
    { description: 'Promoted and reversed topics; every other topic of the flow is mirroring' },
  ),
});

export const FlowDetailSchema = object({
  ...FlowSummarySchema.shape,
  partitions: array(
    object({
      sourceTopic: string(),
      targetTopic: string(),
      partition: integer(),
      state: oneOf(['copying', 'paused', 'error', 'promoted', 'waiting'] as const),
      direction: oneOf(['forward', 'reverse'] as const),
      sourceLogEndOffset: integer(),
      position: integer({ description: 'The next offset to copy' }),
      lagRecords: integer(),
      lagSeconds: nullable(number()),
      worker: nullable(string()),
      updatedAt: timestamp({ description: 'When its worker last reported on it' }),
      error: nullable(
        object({
          message: string(),
          offset: integer(),
          limit: nullable(object({ name: string(), value: integer() })),
        }),
      ),
    }),
  ),
  errors: array(
    object({ at: integer(), message: string(), topic: nullable(string()), partition: nullable(integer()) }),
  ),
});

export const MirrorWorkerSchema = object({
  id: string(),
  host: string(),
  pid: integer(),
  uptimeSeconds: integer(),
  units: array(string({ description: 'flow|topic|partition' })),
});

const GroupMoveSchema = object({
  group: string(),
  offsets: array(
    object({ topic: string(), partition: integer(), offset: integer(), previous: nullable(integer()) }),
  ),
  skipped: nullable(string({ description: 'Why nothing was committed for this group' })),
});

export const PromotionReportSchema = object({
  flow: string(),
  action: oneOf(['promote', 'failover', 'reverse', 'failback'] as const),
  topics: array(
    object({
      topic: string(),
      targetTopic: string(),
      mode: oneOf(['preserve', 'translate'] as const),
      sourceFenced: boolean({ description: 'Producers on the source topic are refused from now on' }),
      partitions: array(
        object({
          partition: integer(),
          targetEnd: integer({
            description: 'The target log end at the move: both topics share offsets below it',
          }),
          sourceEnd: nullable(integer({ description: 'The source log end known then' })),
          behind: nullable(integer({ description: 'Records the source had that the target does not' })),
          sourceSeenAt: nullable(timestamp()),
        }),
      ),
    }),
  ),
  groups: array(GroupMoveSchema),
  durationMs: integer(),
});

export const CheckpointSchema = object({
  group: string(),
  topic: string({ description: 'The target topic' }),
  partition: integer(),
  upstreamOffset: integer({ description: 'The group’s committed offset on the source' }),
  offset: integer({ description: 'Where the group resumes on the target' }),
  metadata: string(),
});

export const GroupOffsetsSchema = object({
  flow: string(),
  group: string(),
  partitions: array(
    object({
      topic: string(),
      targetTopic: string(),
      partition: integer(),
      sourceCommitted: nullable(integer({ description: 'null: none, or the source is unreachable' })),
      checkpoint: nullable(object({ upstreamOffset: integer(), offset: integer() })),
      targetCommitted: nullable(integer()),
    }),
  ),
});

export const MirrorStatusSchema = object({
  configured: boolean(),
  provider: string({ description: '"none" when no replicator is attached' }),
  message: nullable(string()),
});

export const PageFields = {
  total: integer({ description: 'Items in the whole list' }),
  limit: integer(),
  offset: integer(),
  nextOffset: nullable(integer({ description: 'The offset of the next page; null on the last page' })),
};

export const TopologySchema = object({
  clusters: array(
    object({ alias: string(), datacenter: nullable(string()), bootstrapServers: array(string()) }),
  ),
  links: array(
    object({
      flowId: string(),
      source: string(),
      target: string(),
      state: string(),
      lagRecords: integer(),
    }),
  ),
  mirror: MirrorStatusSchema,
});

export const ErrorBodySchema = object({
  statusCode: integer(),
  error: string({ description: 'The HTTP reason phrase' }),
  message: string({ description: 'What went wrong, naming the field or the Kafka error' }),
  details: optional(
    documented<Record<string, unknown>>({
      type: 'object',
      additionalProperties: true,
      description:
        'issues: [{location, field, problem}] for validation errors; kafkaError and kafkaErrorCode for Kafka errors',
    }),
  ),
});
