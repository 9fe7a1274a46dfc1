import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';

/**
 * Kafka's topic-level configs: names, types, defaults, validation, and the broker-level keys
 * (`log.*`, `message.max.bytes`, ...) that set each default for every topic of a broker. A
 * topic's effective value is its own override, else the broker's setting, else Kafka's default,
 * which is what DescribeConfigs reports as the source.
 */

/** DescribeConfigs' configSource. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource];

/** DescribeConfigs' configType (v3+). */
export const ConfigType = {
  UNKNOWN: 0,
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;
export type ConfigType = (typeof ConfigType)[keyof typeof ConfigType];

type Kind = 'boolean' | 'string' | 'int' | 'long' | 'double' | 'list';
type Parsed = number | boolean | string | string[];

const KIND_TYPE: Record<Kind, ConfigType> = {
  boolean: ConfigType.BOOLEAN,
  string: ConfigType.STRING,
  int: ConfigType.INT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  list: ConfigType.LIST,
};

/** Kafka's Long.MAX_VALUE, the "never" of flush.* and max.compaction.lag.ms. */
export const LONG_MAX = '9223372036854775807';

/** A broker key that sets a topic default; `scale` converts its unit to the topic key's (hours to ms). */
interface BrokerSynonym {
  readonly name: string;
  readonly scale?: number;
}

interface ConfigDef {
  readonly name: string;
  readonly kind: Kind;
  readonly default: string;
  /** In precedence order: log.retention.ms wins over log.retention.minutes over log.retention.hours. */
  readonly brokerKeys: readonly BrokerSynonym[];
  /** The broker key DescribeConfigs names for the default, with the default in its unit. */
  readonly defaultSynonym?: { readonly name: string; readonly value: string };
  /** Returns why a parsed value is refused, or null. */
  readonly check?: (v: Parsed) => string | null;
  readonly doc: string;
}

const atLeast =
  (min: number) =>
  (v: Parsed): string | null =>
    (v as number) < min ? `Value must be at least ${min}` : null;
const between =
  (min: number, max: number) =>
  (v: Parsed): string | null =>
    (v as number) < min
      ? `Value must be at least ${min}`
      : (v as number) > max
        ? `Value must be no more than ${max}`
        : null;
const oneOf =
  (...allowed: string[]) =>
  (v: Parsed): string | null =>
    allowed.includes(v as string) ? null : `String must be one of: ${allowed.join(', ')}`;
const allOf =
  (...allowed: string[]) =>
  (v: Parsed): string | null =>
    (v as string[]).every((s) => allowed.includes(s)) ? null : `String must be one of: ${allowed.join(', ')}`;

/** Kafka's GZIP level validator: 1 to 9, or -1 for zlib's default. */
const gzipLevel = (v: Parsed): string | null =>
  v === -1 || ((v as number) >= 1 && (v as number) <= 9)
    ? null
    : 'Value must be between 1 and 9 or equal to -1';

/** Kafka's ThrottledReplicaListValidator: "*" or partition:broker pairs. */
const throttledReplicas =
  (name: string) =>
  (v: Parsed): string | null => {
    const items = v as string[];
    return items.every((s) => /^(\d+:\d+)?$/.test(s)) || items.join('') === '*'
      ? null
      : `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`;
  };

/**
 * Kafka 3.9's MetadataVersion strings (message.format.version's valid values): each release's
 * internal versions, and the release itself for the newest of them.
 */
const METADATA_VERSIONS = [
  '0.8.0',
  '0.8.1',
  '0.8.2',
  '0.9.0',
  ...['0.10.0-IV0', '0.10.0-IV1', '0.10.1-IV0', '0.10.1-IV1', '0.10.1-IV2', '0.10.2-IV0'],
  ...['0.11.0-IV0', '0.11.0-IV1', '0.11.0-IV2', '1.0-IV0', '1.1-IV0', '2.0-IV0', '2.0-IV1'],
  ...['2.1-IV0', '2.1-IV1', '2.1-IV2', '2.2-IV0', '2.2-IV1', '2.3-IV0', '2.3-IV1', '2.4-IV0', '2.4-IV1'],
  ...['2.5-IV0', '2.6-IV0', '2.7-IV0', '2.7-IV1', '2.7-IV2', '2.8-IV0', '2.8-IV1', '3.0-IV0', '3.0-IV1'],
  ...['3.1-IV0', '3.2-IV0', '3.3-IV0', '3.3-IV1', '3.3-IV2', '3.3-IV3', '3.4-IV0', '3.5-IV0', '3.5-IV1'],
  ...['3.5-IV2', '3.6-IV0', '3.6-IV1', '3.6-IV2', '3.7-IV0', '3.7-IV1', '3.7-IV2', '3.7-IV3', '3.7-IV4'],
  ...['3.8-IV0', '3.9-IV0'],
];
const KNOWN_METADATA_VERSIONS = new Set([
  ...METADATA_VERSIONS,
  ...METADATA_VERSIONS.map((v) => v.split('-')[0]),
]);

/**
 * Kafka's MetadataVersion.fromVersionString: "0.10.0.1" and "2.8.1" name their release
 * ("0.10.0", "2.8"), as only the first three (0.x) or two segments count.
 */
const metadataVersion = (v: Parsed): string | null => {
  const s = v as string;
  const segments = s.split('.');
  const significant = s.startsWith('0.') ? 3 : 2;
  const key = segments.length <= significant ? s : segments.slice(0, significant).join('.');
  return KNOWN_METADATA_VERSIONS.has(key) ? null : `Version ${s} is not a valid version`;
};

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

const def = (d: ConfigDef): ConfigDef => d;

/** Every topic-level config this broker accepts, in Kafka's names with Kafka's defaults. */
export const TOPIC_CONFIGS: readonly ConfigDef[] = [
  def({
    name: 'cleanup.policy',
    kind: 'list',
    default: 'delete',
    brokerKeys: [{ name: 'log.cleanup.policy' }],
    check: allOf('compact', 'delete'),
    doc: 'delete: old segments are removed by retention.ms/retention.bytes; compact: the log cleaner keeps the newest record per key at its offset; compact,delete: both of these.',
  }),
  def({
    name: 'compression.gzip.level',
    kind: 'int',
    default: '-1',
    brokerKeys: [{ name: 'compression.gzip.level' }],
    check: gzipLevel,
    doc: 'Accepted for compatibility; batches are stored as produced, never recompressed.',
  }),
  def({
    name: 'compression.lz4.level',
    kind: 'int',
    default: '9',
    brokerKeys: [{ name: 'compression.lz4.level' }],
    check: between(1, 17),
    doc: 'Accepted for compatibility; batches are stored as produced, never recompressed.',
  }),
  def({
    name: 'compression.type',
    kind: 'string',
    default: 'producer',
    brokerKeys: [{ name: 'compression.type' }],
    check: oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
    doc: "Compression of stored batches; 'producer' keeps the producer's. Batches are stored as produced (no recompression).",
  }),
  def({
    name: 'compression.zstd.level',
    kind: 'int',
    default: '3',
    brokerKeys: [{ name: 'compression.zstd.level' }],
    check: between(-131072, 22),
    doc: 'Accepted for compatibility; batches are stored as produced, never recompressed.',
  }),
  def({
    name: 'delete.retention.ms',
    kind: 'long',
    default: '86400000',
    brokerKeys: [{ name: 'log.cleaner.delete.retention.ms' }],
    check: atLeast(0),
    doc: 'How long delete tombstones are kept in compacted topics.',
  }),
  def({
    name: 'file.delete.delay.ms',
    kind: 'long',
    default: '60000',
    brokerKeys: [{ name: 'log.segment.delete.delay.ms' }],
    check: atLeast(0),
    doc: 'Accepted for compatibility; segments are deleted at once.',
  }),
  def({
    name: 'flush.messages',
    kind: 'long',
    default: LONG_MAX,
    brokerKeys: [{ name: 'log.flush.interval.messages' }],
    check: atLeast(1),
    doc: 'fsync the log after this many records; the default leaves durability to replication and the OS.',
  }),
  def({
    name: 'flush.ms',
    kind: 'long',
    default: LONG_MAX,
    brokerKeys: [{ name: 'log.flush.interval.ms' }],
    check: atLeast(0),
    doc: 'fsync the log when this long has passed since the last fsync; the default never does.',
  }),
  def({
    name: 'follower.replication.throttled.replicas',
    kind: 'list',
    default: '',
    brokerKeys: [],
    check: throttledReplicas('follower.replication.throttled.replicas'),
    doc: 'Accepted for compatibility; replicas a reassignment adds are throttled by the broker setting follower.replication.throttled.rate.',
  }),
  def({
    name: 'index.interval.bytes',
    kind: 'int',
    default: '4096',
    brokerKeys: [{ name: 'log.index.interval.bytes' }],
    check: atLeast(0),
    doc: 'Bytes of log between offset index entries.',
  }),
  def({
    name: 'leader.replication.throttled.replicas',
    kind: 'list',
    default: '',
    brokerKeys: [],
    check: throttledReplicas('leader.replication.throttled.replicas'),
    doc: 'Accepted for compatibility; replicas a reassignment adds are throttled by the broker setting follower.replication.throttled.rate.',
  }),
  def({
    name: 'local.retention.bytes',
    kind: 'long',
    default: '-2',
    brokerKeys: [{ name: 'log.local.retention.bytes' }],
    check: atLeast(-2),
    doc: 'Accepted for compatibility (tiered storage); -2: retention.bytes applies.',
  }),
  def({
    name: 'local.retention.ms',
    kind: 'long',
    default: '-2',
    brokerKeys: [{ name: 'log.local.retention.ms' }],
    check: atLeast(-2),
    doc: 'Accepted for compatibility (tiered storage); -2: retention.ms applies.',
  }),
  def({
    name: 'max.compaction.lag.ms',
    kind: 'long',
    default: LONG_MAX,
    brokerKeys: [{ name: 'log.cleaner.max.compaction.lag.ms' }],
    check: atLeast(1),
    doc: 'Longest time a record stays ineligible for compaction.',
  }),
  def({
    name: 'max.message.bytes',
    kind: 'int',
    default: '1048588',
    brokerKeys: [{ name: 'message.max.bytes' }],
    check: atLeast(0),
    doc: 'Largest record batch the log accepts.',
  }),
  def({
    name: 'message.downconversion.enable',
    kind: 'boolean',
    default: 'true',
    brokerKeys: [{ name: 'log.message.downconversion.enable' }],
    doc: 'Accepted for compatibility; only record batch v2 is stored and served.',
  }),
  def({
    name: 'message.format.version',
    kind: 'string',
    default: '3.0-IV1',
    brokerKeys: [{ name: 'log.message.format.version' }],
    check: metadataVersion,
    doc: 'Accepted for compatibility (deprecated in Kafka 3.0, ignored there too); only record batch v2 is stored.',
  }),
  def({
    name: 'message.timestamp.after.max.ms',
    kind: 'long',
    default: LONG_MAX,
    brokerKeys: [{ name: 'log.message.timestamp.after.max.ms' }],
    check: atLeast(0),
    doc: 'Accepted for compatibility; not enforced (it needs every record decoded).',
  }),
  def({
    name: 'message.timestamp.before.max.ms',
    kind: 'long',
    default: LONG_MAX,
    brokerKeys: [{ name: 'log.message.timestamp.before.max.ms' }],
    check: atLeast(0),
    doc: 'Accepted for compatibility; not enforced (it needs every record decoded).',
  }),
  def({
    name: 'message.timestamp.difference.max.ms',
    kind: 'long',
    default: LONG_MAX,
    brokerKeys: [{ name: 'log.message.timestamp.difference.max.ms' }],
    check: atLeast(0),
    doc: 'Accepted for compatibility; not enforced (it needs every record decoded).',
  }),
  def({
    name: 'message.timestamp.type',
    kind: 'string',
    default: 'CreateTime',
    brokerKeys: [{ name: 'log.message.timestamp.type' }],
    check: oneOf('CreateTime', 'LogAppendTime'),
    doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps each batch with the broker's clock.",
  }),
  def({
    name: 'min.cleanable.dirty.ratio',
    kind: 'double',
    default: '0.5',
    brokerKeys: [{ name: 'log.cleaner.min.cleanable.ratio' }],
    check: between(0, 1),
    doc: 'Share of uncompacted log that makes a compacted log eligible for cleaning.',
  }),
  def({
    name: 'min.compaction.lag.ms',
    kind: 'long',
    default: '0',
    brokerKeys: [{ name: 'log.cleaner.min.compaction.lag.ms' }],
    check: atLeast(0),
    doc: 'Shortest time a record stays uncompacted.',
  }),
  def({
    name: 'min.insync.replicas',
    kind: 'int',
    default: '1',
    brokerKeys: [{ name: 'min.insync.replicas' }],
    check: atLeast(1),
    doc: 'Replicas that must acknowledge an acks=all produce.',
  }),
  def({
    name: 'preallocate',
    kind: 'boolean',
    default: 'false',
    brokerKeys: [{ name: 'log.preallocate' }],
    doc: 'Accepted for compatibility; segment files grow as written.',
  }),
  def({
    name: 'remote.log.copy.disable',
    kind: 'boolean',
    default: 'false',
    brokerKeys: [],
    doc: 'Accepted for compatibility (tiered storage); there is no remote storage to copy to.',
  }),
  def({
    name: 'remote.log.delete.on.disable',
    kind: 'boolean',
    default: 'false',
    brokerKeys: [],
    doc: 'Accepted for compatibility (tiered storage); there is no remote storage to delete from.',
  }),
  def({
    name: 'remote.storage.enable',
    kind: 'boolean',
    default: 'false',
    brokerKeys: [],
    doc: 'Tiered storage is not available: false is accepted, true refused as by a Kafka broker without remote.log.storage.system.enable.',
  }),
  def({
    name: 'retention.bytes',
    kind: 'long',
    default: '-1',
    brokerKeys: [{ name: 'log.retention.bytes' }],
    doc: 'Largest size of a partition before its oldest segments are deleted; -1: no limit.',
  }),
  def({
    name: 'retention.ms',
    kind: 'long',
    default: '604800000',
    brokerKeys: [
      { name: 'log.retention.ms' },
      { name: 'log.retention.minutes', scale: MINUTE_MS },
      { name: 'log.retention.hours', scale: HOUR_MS },
    ],
    defaultSynonym: { name: 'log.retention.hours', value: '168' },
    check: atLeast(-1),
    doc: 'How long a segment is kept after its newest record; -1: no limit.',
  }),
  def({
    name: 'segment.bytes',
    kind: 'int',
    default: '1073741824',
    brokerKeys: [{ name: 'log.segment.bytes' }],
    check: atLeast(14),
    doc: 'Size at which a new segment is rolled.',
  }),
  def({
    name: 'segment.index.bytes',
    kind: 'int',
    default: '10485760',
    brokerKeys: [{ name: 'log.index.size.max.bytes' }],
    check: atLeast(4),
    doc: 'Largest offset and time index of a segment; a full index rolls a new segment.',
  }),
  def({
    name: 'segment.jitter.ms',
    kind: 'long',
    default: '0',
    brokerKeys: [{ name: 'log.roll.jitter.ms' }, { name: 'log.roll.jitter.hours', scale: HOUR_MS }],
    defaultSynonym: { name: 'log.roll.jitter.hours', value: '0' },
    check: atLeast(0),
    doc: 'Random time subtracted from segment.ms per segment, so partitions do not roll together.',
  }),
  def({
    name: 'segment.ms',
    kind: 'long',
    default: '604800000',
    brokerKeys: [{ name: 'log.roll.ms' }, { name: 'log.roll.hours', scale: HOUR_MS }],
    defaultSynonym: { name: 'log.roll.hours', value: '168' },
    check: atLeast(1),
    doc: 'Age (by record timestamps) at which a new segment is rolled even if not full.',
  }),
  def({
    name: 'tributary.mirror.of',
    kind: 'string',
    default: '',
    brokerKeys: [],
    doc: 'Set on a mirror topic to "<source cluster alias>:<source topic>": the replicator writes it with the source\'s offsets and producers are refused until the config is removed (promotion for failover).',
  }),
  def({
    name: 'tributary.mirror.path',
    kind: 'list',
    default: '',
    brokerKeys: [],
    doc: "The cluster aliases a mirror topic's records passed through, oldest first: the replicator never writes them back into one of these.",
  }),
  def({
    name: 'unclean.leader.election.enable',
    kind: 'boolean',
    default: 'false',
    brokerKeys: [{ name: 'unclean.leader.election.enable' }],
    doc: 'Whether a replica outside the ISR may become leader, losing data.',
  }),
];

const DEFS = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/**
 * Broker-level settings of the log layer that are not topic defaults, read by LogManager.
 * Kafka's names and defaults, except that flush.ms is checked every second unless
 * log.flush.scheduler.interval.ms says otherwise.
 */
export const LOG_MANAGER_CONFIGS: readonly ConfigDef[] = [
  def({
    name: 'log.retention.check.interval.ms',
    kind: 'long',
    default: '300000',
    brokerKeys: [],
    check: atLeast(1),
    doc: 'How often retention deletes old segments.',
  }),
  def({
    name: 'log.cleaner.enable',
    kind: 'boolean',
    default: 'true',
    brokerKeys: [],
    doc: 'Run the log cleaner, which compacts topics with cleanup.policy=compact.',
  }),
  def({
    name: 'log.cleaner.backoff.ms',
    kind: 'long',
    default: '15000',
    brokerKeys: [],
    check: atLeast(1),
    doc: 'How long the log cleaner sleeps when no log needs cleaning.',
  }),
  def({
    name: 'log.cleaner.dedupe.buffer.size',
    kind: 'long',
    default: '134217728',
    brokerKeys: [],
    check: atLeast(1024 * 1024),
    doc: "Memory for one cleaning's map from key to latest offset; a log with more keys is cleaned in several passes.",
  }),
  def({
    name: 'log.cleaner.io.buffer.size',
    kind: 'int',
    default: '524288',
    brokerKeys: [],
    check: atLeast(512),
    doc: 'Bytes of log the cleaner reads per step; between steps the broker serves requests.',
  }),
  def({
    name: 'log.flush.scheduler.interval.ms',
    kind: 'long',
    default: '1000',
    brokerKeys: [],
    check: atLeast(1),
    doc: 'How often logs are checked against flush.ms.',
  }),
  def({
    name: 'producer.id.expiration.ms',
    kind: 'int',
    default: '86400000',
    brokerKeys: [],
    check: atLeast(1),
    doc: "How long a partition keeps an idempotent producer's state after its latest batch.",
  }),
  def({
    name: 'producer.id.expiration.check.interval.ms',
    kind: 'int',
    default: '600000',
    brokerKeys: [],
    check: atLeast(1),
    doc: 'How often expired producer ids are removed.',
  }),
  def({
    name: 'replica.high.watermark.checkpoint.interval.ms',
    kind: 'long',
    default: '5000',
    brokerKeys: [],
    check: atLeast(1),
    doc: 'How often high watermarks and recovery points are checkpointed.',
  }),
];

function invalid(key: string, value: string, reason: string): KafkaProtocolError {
  return new KafkaProtocolError(
    ErrorCode.INVALID_CONFIG,
    `Invalid value ${value} for configuration ${key}: ${reason}`,
  );
}

const INT_RE = /^[-+]?\d+$/;

/** Parses `value` as `kind`, with Kafka's messages for values of the wrong type. */
function parse(key: string, kind: Kind, value: string): Parsed {
  const v = value.trim();
  switch (kind) {
    case 'int': {
      const n = Number(v);
      if (!INT_RE.test(v) || n < -2147483648 || n > 2147483647) {
        throw invalid(key, value, 'Not a number of type INT');
      }
      return n;
    }
    case 'long': {
      if (!INT_RE.test(v)) throw invalid(key, value, 'Not a number of type LONG');
      const big = BigInt(v);
      if (big < -9223372036854775808n || big > 9223372036854775807n) {
        throw invalid(key, value, 'Not a number of type LONG');
      }
      // Beyond 2^53 only "never" values are used (Long.MAX_VALUE); a double keeps their order.
      return Number(big);
    }
    case 'double': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) throw invalid(key, value, 'Not a number of type DOUBLE');
      return n;
    }
    case 'boolean': {
      const lower = v.toLowerCase();
      if (lower !== 'true' && lower !== 'false') {
        throw invalid(key, value, 'Expected value to be either true or false');
      }
      return lower === 'true';
    }
    case 'list':
      return v === '' ? [] : v.split(',').map((s) => s.trim());
    case 'string':
      return v;
  }
}

function parseChecked(d: ConfigDef, key: string, value: string): Parsed {
  const parsed = parse(key, d.kind, value);
  const reason = d.check?.(parsed) ?? null;
  if (reason !== null) throw invalid(key, value, reason);
  return parsed;
}

/** Whether `name` is a topic-level config. */
export function isTopicConfig(name: string): boolean {
  return DEFS.has(name);
}

/** The type of a topic-level config, for IncrementalAlterConfigs' APPEND/SUBTRACT (lists only). */
export function topicConfigType(name: string): ConfigType | undefined {
  const d = DEFS.get(name);
  return d === undefined ? undefined : KIND_TYPE[d.kind];
}

/**
 * Validates a topic's overrides: every key known, every value of its type and in range, and
 * the pairs that must agree. Throws INVALID_CONFIG naming the key and the value.
 */
export function validateTopicConfigs(configs: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(configs)) {
    const d = DEFS.get(key);
    if (d === undefined) {
      throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${key}`);
    }
    if (value === null || value === undefined) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_CONFIG,
        `Null value not supported for topic configs: ${key}`,
      );
    }
    parseChecked(d, key, value);
  }
}

/** Scales a broker key's value to its topic key's unit; negative means unlimited (-1), as in Kafka. */
function scaled(syn: BrokerSynonym, raw: string): string {
  if (syn.scale === undefined) return raw;
  const n = Number(raw.trim());
  return n < 0 ? '-1' : String(n * syn.scale);
}

/**
 * The broker-level keys of the log layer, each with a validator that throws a message naming
 * the key and the value: the defaults of topic configs and LogManager's own settings.
 */
export function brokerLevelLogKeys(): ReadonlyMap<string, (value: string) => void> {
  const keys = new Map<string, (value: string) => void>();
  for (const d of TOPIC_CONFIGS) {
    for (const syn of d.brokerKeys) {
      const kind: Kind = syn.scale === undefined ? d.kind : 'int';
      keys.set(syn.name, (value) => {
        parse(syn.name, kind, value);
        const reason = d.check?.(parse(syn.name, d.kind, scaled(syn, value))) ?? null;
        if (reason !== null) throw invalid(syn.name, value, reason);
      });
    }
  }
  for (const d of LOG_MANAGER_CONFIGS) keys.set(d.name, (value) => void parseChecked(d, d.name, value));
  return keys;
}

/** A LogManager setting from the broker config, or its default. Throws INVALID_CONFIG. */
export function logManagerSetting(brokerConfig: Readonly<Record<string, string>>, name: string): number {
  return logManagerValue(brokerConfig, name) as number;
}

/** A boolean LogManager setting (log.cleaner.enable). */
export function logManagerFlag(brokerConfig: Readonly<Record<string, string>>, name: string): boolean {
  return logManagerValue(brokerConfig, name) as boolean;
}

function logManagerValue(brokerConfig: Readonly<Record<string, string>>, name: string): Parsed {
  const d = LOG_MANAGER_CONFIGS.find((c) => c.name === name);
  if (d === undefined) throw new Error(`no log manager setting ${name}`);
  const raw = brokerConfig[name];
  return parseChecked(d, name, raw ?? d.default);
}

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: ConfigSource;
}

/** One config as DescribeConfigs reports it; field names are the response's. */
export interface DescribedConfig {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  /** v0's flag: the value is Kafka's default. */
  readonly isDefault: boolean;
  readonly configSource: ConfigSource;
  readonly isSensitive: boolean;
  readonly synonyms: ConfigSynonym[];
  readonly configType: ConfigType;
  readonly documentation: string | null;
}

interface Resolved {
  readonly value: string;
  readonly parsed: Parsed;
  readonly source: ConfigSource;
}

/**
 * Broker-level settings by where they were set, highest precedence first: Kafka's
 * DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG. A topic default
 * reports the layer it came from as its source.
 */
export interface BrokerConfigLayer {
  readonly source: ConfigSource;
  readonly values: Readonly<Record<string, string>>;
}

/**
 * The effective configuration of one topic: overrides over broker settings over Kafka's
 * defaults, with the values the log reads on its hot paths already parsed.
 */
export class TopicConfig {
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly segmentJitterMs: number;
  readonly segmentIndexBytes: number;
  readonly indexIntervalBytes: number;
  readonly maxMessageBytes: number;
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly cleanupPolicy: readonly string[];
  readonly messageTimestampType: 'CreateTime' | 'LogAppendTime';
  readonly minInsyncReplicas: number;
  readonly compressionType: string;
  readonly uncleanLeaderElectionEnable: boolean;
  readonly deleteRetentionMs: number;
  readonly minCompactionLagMs: number;
  readonly maxCompactionLagMs: number;
  /** "<source alias>:<topic>" for a mirror topic written by the replicator, else "". */
  readonly mirrorOf: string;
  readonly minCleanableDirtyRatio: number;

  private constructor(
    /** The topic's explicit overrides. */
    readonly overrides: Readonly<Record<string, string>>,
    private readonly brokerConfig: Readonly<Record<string, string>>,
    private readonly brokerLayers: readonly BrokerConfigLayer[],
    private readonly resolved: ReadonlyMap<string, Resolved>,
  ) {
    const num = (k: string) => resolved.get(k)!.parsed as number;
    this.retentionMs = num('retention.ms');
    this.retentionBytes = num('retention.bytes');
    this.segmentBytes = num('segment.bytes');
    this.segmentMs = num('segment.ms');
    this.segmentJitterMs = num('segment.jitter.ms');
    this.segmentIndexBytes = num('segment.index.bytes');
    this.indexIntervalBytes = num('index.interval.bytes');
    this.maxMessageBytes = num('max.message.bytes');
    this.flushMessages = num('flush.messages');
    this.flushMs = num('flush.ms');
    this.cleanupPolicy = resolved.get('cleanup.policy')!.parsed as string[];
    this.messageTimestampType = resolved.get('message.timestamp.type')!
      .parsed as TopicConfig['messageTimestampType'];
    this.minInsyncReplicas = num('min.insync.replicas');
    this.compressionType = resolved.get('compression.type')!.parsed as string;
    this.uncleanLeaderElectionEnable = resolved.get('unclean.leader.election.enable')!.parsed as boolean;
    this.deleteRetentionMs = num('delete.retention.ms');
    this.minCompactionLagMs = num('min.compaction.lag.ms');
    this.maxCompactionLagMs = num('max.compaction.lag.ms');
    this.mirrorOf = resolved.get('tributary.mirror.of')!.parsed as string;
    this.minCleanableDirtyRatio = num('min.cleanable.dirty.ratio');
  }

  /**
   * Resolves a topic's configuration. Throws INVALID_CONFIG for an unknown key or a bad value
   * in the overrides or in the broker's settings. `brokerConfig` is the broker's effective
   * settings; `brokerLayers` where each was set (all static when left out).
   */
  static resolve(
    overrides: Readonly<Record<string, string>> = {},
    brokerConfig: Readonly<Record<string, string>> = {},
    brokerLayers: readonly BrokerConfigLayer[] = [
      { source: ConfigSource.STATIC_BROKER_CONFIG, values: brokerConfig },
    ],
  ): TopicConfig {
    validateTopicConfigs(overrides);
    const resolved = new Map<string, Resolved>();
    for (const d of TOPIC_CONFIGS) {
      const own = overrides[d.name];
      if (own !== undefined) {
        resolved.set(d.name, {
          value: own,
          parsed: parseChecked(d, d.name, own),
          source: ConfigSource.DYNAMIC_TOPIC_CONFIG,
        });
        continue;
      }
      const syn = d.brokerKeys.find((s) => brokerConfig[s.name] !== undefined);
      if (syn !== undefined) {
        const raw = brokerConfig[syn.name];
        parse(syn.name, syn.scale === undefined ? d.kind : 'int', raw);
        const value = scaled(syn, raw);
        const parsed = parse(syn.name, d.kind, value);
        const reason = d.check?.(parsed) ?? null;
        if (reason !== null) throw invalid(syn.name, raw, reason);
        const layer = brokerLayers.find((l) => d.brokerKeys.some((s) => l.values[s.name] !== undefined));
        resolved.set(d.name, { value, parsed, source: layer?.source ?? ConfigSource.STATIC_BROKER_CONFIG });
        continue;
      }
      resolved.set(d.name, {
        value: d.default,
        parsed: parseChecked(d, d.name, d.default),
        source: ConfigSource.DEFAULT_CONFIG,
      });
    }
    if (resolved.get('remote.storage.enable')!.parsed === true) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_CONFIG,
        'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
      );
    }
    const minLag = resolved.get('min.compaction.lag.ms')!.parsed as number;
    const maxLag = resolved.get('max.compaction.lag.ms')!.parsed as number;
    if (minLag > maxLag) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_CONFIG,
        `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`,
      );
    }
    return new TopicConfig({ ...overrides }, brokerConfig, brokerLayers, resolved);
  }

  /** The same broker settings with other overrides. */
  withOverrides(overrides: Readonly<Record<string, string>>): TopicConfig {
    return TopicConfig.resolve(overrides, this.brokerConfig, this.brokerLayers);
  }

  get deleteEnabled(): boolean {
    return this.cleanupPolicy.includes('delete');
  }

  get compactEnabled(): boolean {
    return this.cleanupPolicy.includes('compact');
  }

  /** Kafka's maxSegmentMs: a compacted log rolls by max.compaction.lag.ms too, as only inactive segments are cleaned. */
  get maxSegmentMs(): number {
    return this.compactEnabled ? Math.min(this.segmentMs, this.maxCompactionLagMs) : this.segmentMs;
  }

  /** The effective value of a topic config. */
  value(name: string): string | undefined {
    return this.resolved.get(name)?.value;
  }

  /** Every effective value by name. */
  values(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, r] of this.resolved) out[name] = r.value;
    return out;
  }

  /**
   * DescribeConfigs for this topic: `keys` null or undefined for every config (unknown keys
   * are left out, as Kafka does). Synonyms list, in precedence order, every place that sets
   * the value: the topic override, the broker keys set, Kafka's default.
   */
  describe(
    keys?: readonly string[] | null,
    options: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
  ): DescribedConfig[] {
    const wanted = keys === null || keys === undefined ? null : new Set(keys);
    const out: DescribedConfig[] = [];
    for (const d of TOPIC_CONFIGS) {
      if (wanted !== null && !wanted.has(d.name)) continue;
      const r = this.resolved.get(d.name)!;
      out.push({
        name: d.name,
        value: r.value,
        readOnly: false,
        isDefault: r.source === ConfigSource.DEFAULT_CONFIG,
        configSource: r.source,
        isSensitive: false,
        synonyms: options.includeSynonyms ? this.synonyms(d) : [],
        configType: KIND_TYPE[d.kind],
        documentation: options.includeDocumentation ? d.doc : null,
      });
    }
    return out;
  }

  private synonyms(d: ConfigDef): ConfigSynonym[] {
    const own = this.overrides[d.name];
    const topic: ConfigSynonym[] =
      own === undefined ? [] : [{ name: d.name, value: own, source: ConfigSource.DYNAMIC_TOPIC_CONFIG }];
    // Kafka's topic configs without a server default (remote.storage.enable, the throttled
    // replica lists, ...) have no synonyms but the topic's own override.
    if (d.brokerKeys.length === 0) return topic;
    const broker: ConfigSynonym[] = [];
    for (const layer of this.brokerLayers) {
      for (const syn of d.brokerKeys) {
        const v = layer.values[syn.name];
        if (v !== undefined) broker.push({ name: syn.name, value: v, source: layer.source });
      }
    }
    const dflt = d.defaultSynonym ?? { name: d.brokerKeys[0].name, value: d.default };
    broker.push({ name: dflt.name, value: dflt.value, source: ConfigSource.DEFAULT_CONFIG });
    // Kafka's configSynonyms drops the broker entries before the first one named as the topic
    // config's own broker key (log.retention.ms for retention.ms): log.retention.hours alone,
    // set or default, is not listed.
    const first = broker.findIndex((s) => s.name === d.brokerKeys[0].name);
    return [...topic, ...(first < 0 ? [] : broker.slice(first))];
  }
}

/** A broker-level key of the log layer, for the broker's DescribeConfigs and dynamic configs. */
export interface BrokerLogKey {
  readonly name: string;
  readonly type: ConfigType;
  /** Kafka's default in this key's unit; null where a synonym of higher precedence carries it (log.retention.ms). */
  readonly default: string | null;
  readonly doc: string;
  /**
   * Whether Kafka lets it change at runtime (cluster-wide): the first broker synonym of each
   * topic config (log.retention.ms, not log.retention.hours), as Kafka's DynamicLogConfig.
   */
  readonly dynamic: boolean;
}

/** LogManager settings Kafka reconfigures at runtime (its LogCleaner's and producer state's). */
const DYNAMIC_LOG_MANAGER_KEYS: ReadonlySet<string> = new Set([
  'log.cleaner.backoff.ms',
  'log.cleaner.dedupe.buffer.size',
  'log.cleaner.io.buffer.size',
  'producer.id.expiration.ms',
]);

/** Every broker-level key the log layer reads, with Kafka's defaults and update modes. */
export function brokerLogKeys(): BrokerLogKey[] {
  const out: BrokerLogKey[] = [];
  for (const d of TOPIC_CONFIGS) {
    d.brokerKeys.forEach((syn, i) => {
      const dflt =
        d.defaultSynonym === undefined
          ? i === 0
            ? d.default
            : null
          : d.defaultSynonym.name === syn.name
            ? d.defaultSynonym.value
            : null;
      out.push({
        name: syn.name,
        type: syn.scale === undefined ? KIND_TYPE[d.kind] : ConfigType.INT,
        default: dflt,
        doc: `The default of the topic config ${d.name}${syn.scale === undefined ? '' : ` (in ${syn.scale === HOUR_MS ? 'hours' : 'minutes'})`}: ${d.doc}`,
        dynamic: i === 0,
      });
    });
  }
  for (const d of LOG_MANAGER_CONFIGS) {
    out.push({
      name: d.name,
      type: KIND_TYPE[d.kind],
      default: d.default,
      doc: d.doc,
      dynamic: DYNAMIC_LOG_MANAGER_KEYS.has(d.name),
    });
  }
  return out;
}
