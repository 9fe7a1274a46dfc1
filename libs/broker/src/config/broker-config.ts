import { ConfigSource, ConfigType as DescribedConfigType, type DescribedConfig } from '@tributary/storage';
import { GROUP_CONFIG_KEYS, parseGroupConfig, type GroupConfig } from '../group/group-config';
import { ConfigError } from './config-error';
import {
  parseReplicationConfig,
  REPLICATION_CONFIG_KEYS,
  type ReplicationConfig,
} from './replication-config';
import {
  isListenerPrefixedKey,
  isSensitiveKey,
  parseSecurityConfig,
  SECURITY_CONFIG_KEYS,
  type SecurityConfig,
} from './security-config';

/**
 * The broker's settings under Kafka's names. Values come in layers (a YAML file, then
 * command-line flags); a later layer wins, and an error names the layer and the key.
 */
export type ConfigType = 'int' | 'long' | 'boolean' | 'string' | 'list' | 'password';

export interface ConfigKeyDef {
  readonly name: string;
  readonly type: ConfigType;
  readonly default: string | null;
  readonly doc: string;
}

const key = (name: string, type: ConfigType, def: string | null, doc: string): ConfigKeyDef => ({
  name,
  type,
  default: def,
  doc,
});

/** Broker-level keys, excluding the log.* defaults for topics, which the storage layer defines. */
export const BROKER_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  key('node.id', 'int', null, 'This broker id, unique in its cluster.'),
  key('cluster.id', 'string', null, 'Cluster id; generated and kept in meta.properties when not set.'),
  key('listeners', 'list', 'PLAINTEXT://127.0.0.1:9092', 'Addresses to listen on, NAME://HOST:PORT.'),
  key('advertised.listeners', 'list', null, 'Addresses given to clients; default: the listeners.'),
  key('log.dirs', 'string', './var/data', 'Directory holding the partition logs.'),
  key('broker.rack', 'string', null, 'Rack of this broker, for replica placement and follower fetching.'),
  key('num.partitions', 'int', '1', 'Partitions of an auto-created topic or of CreateTopics with -1.'),
  key('default.replication.factor', 'int', '1', 'Replication factor of auto-created topics.'),
  key('auto.create.topics.enable', 'boolean', 'true', 'Create a topic on first Metadata request for it.'),
  key('delete.topic.enable', 'boolean', 'true', 'Allow DeleteTopics.'),
  key(
    'message.max.bytes',
    'int',
    '1048588',
    'Largest record batch accepted (topic default of max.message.bytes).',
  ),
  key(
    'socket.request.max.bytes',
    'int',
    '104857600',
    'Largest request frame; a larger one closes the connection.',
  ),
  key('log.retention.check.interval.ms', 'long', '300000', 'How often retention runs.'),
  ...GROUP_CONFIG_KEYS,
  ...REPLICATION_CONFIG_KEYS,
  ...SECURITY_CONFIG_KEYS,
];

export interface Listener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface BrokerConfig {
  readonly nodeId: number;
  readonly clusterId: string | null;
  readonly listeners: readonly Listener[];
  readonly advertisedListeners: readonly Listener[] | null;
  readonly logDirs: string;
  readonly rack: string | null;
  readonly numPartitions: number;
  readonly defaultReplicationFactor: number;
  readonly autoCreateTopicsEnable: boolean;
  readonly deleteTopicEnable: boolean;
  readonly messageMaxBytes: number;
  readonly socketRequestMaxBytes: number;
  readonly retentionCheckIntervalMs: number;
  /** The group coordinator's group.* and offsets.* settings. */
  readonly group: GroupConfig;
  /** A replicated cluster's settings (redis.url, replica.*, controller). */
  readonly replication: ReplicationConfig;
  /** Listeners' security protocols, TLS and SASL, the authorizer. */
  readonly security: SecurityConfig;
  /** Every key as set, for the storage layer's log.* defaults and for DescribeConfigs. */
  readonly values: Readonly<Record<string, string>>;
}

export interface ConfigLayer {
  /** Where the values came from, e.g. "config/single.yaml" or "command line". */
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
}

export function parseListeners(value: string, source: string, name: string): Listener[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => {
      const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
      if (m === null) throw new ConfigError(source, name, `"${entry}" is not NAME://HOST:PORT`);
      const port = Number(m[3]);
      if (port > 65535) throw new ConfigError(source, name, `port ${port} is out of range`);
      return { name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, ''), port };
    });
}

function checkType(def: ConfigKeyDef, value: string, source: string): void {
  switch (def.type) {
    case 'int':
    case 'long':
      if (!/^-?\d+$/.test(value)) throw new ConfigError(source, def.name, `"${value}" is not a whole number`);
      if (def.type === 'int' && Math.abs(Number(value)) > 2 ** 31 - 1) {
        throw new ConfigError(source, def.name, `${value} does not fit in an int`);
      }
      return;
    case 'boolean':
      if (value !== 'true' && value !== 'false')
        throw new ConfigError(source, def.name, `"${value}" is not true or false`);
      return;
    default:
      return;
  }
}

/**
 * Merges the layers and checks every key: unknown keys and values of the wrong type are
 * refused. `extraKeys` are keys defined elsewhere (the storage layer's log.* defaults),
 * with a validator that throws a message for a bad value.
 */
export function parseBrokerConfig(
  layers: readonly ConfigLayer[],
  extraKeys: ReadonlyMap<string, (value: string) => void> = new Map(),
): BrokerConfig {
  const defs = new Map(BROKER_CONFIG_KEYS.map((d) => [d.name, d]));
  const values: Record<string, string> = {};
  const origin: Record<string, string> = {};
  for (const layer of layers) {
    for (const [name, raw] of Object.entries(layer.values)) {
      if (raw === undefined || raw === null) continue;
      // Principals hold commas (certificate names), so Kafka separates super.users with ";".
      const value = Array.isArray(raw)
        ? raw.join(name === 'super.users' ? ';' : ',')
        : typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean'
          ? String(raw)
          : null;
      if (value === null) throw new ConfigError(layer.source, name, 'must be a value or a list of values');
      const def = defs.get(name);
      if (def !== undefined) checkType(def, value, layer.source);
      else if (!isListenerPrefixedKey(name)) {
        const validate = extraKeys.get(name);
        if (validate === undefined) throw new ConfigError(layer.source, name, 'unknown configuration key');
        try {
          validate(value);
        } catch (err) {
          throw new ConfigError(layer.source, name, (err as Error).message);
        }
      }
      values[name] = value;
      origin[name] = layer.source;
    }
  }
  const get = (name: string): string | null => values[name] ?? defs.get(name)?.default ?? null;
  const int = (name: string): number => Number(get(name));
  const nodeIdRaw = get('node.id');
  if (nodeIdRaw === null) throw new ConfigError(layers.at(-1)?.source ?? 'config', 'node.id', 'is required');
  const nodeId = Number(nodeIdRaw);
  if (nodeId < 0) throw new ConfigError(origin['node.id'] ?? 'config', 'node.id', 'must be 0 or more');
  const listeners = parseListeners(get('listeners') as string, origin['listeners'] ?? 'default', 'listeners');
  if (listeners.length === 0)
    throw new ConfigError(origin['listeners'] ?? 'default', 'listeners', 'is empty');
  if (get('redis.url') !== null && get('cluster.id') === null) {
    throw new ConfigError(
      origin['redis.url'] ?? 'config',
      'cluster.id',
      'is required with redis.url: every broker of a replicated cluster names the same cluster',
    );
  }
  const advertised = get('advertised.listeners');
  for (const positive of [
    'num.partitions',
    'default.replication.factor',
    'message.max.bytes',
    'socket.request.max.bytes',
  ]) {
    if (int(positive) < 1)
      throw new ConfigError(origin[positive] ?? 'default', positive, 'must be at least 1');
  }
  return {
    nodeId,
    clusterId: get('cluster.id'),
    listeners,
    advertisedListeners:
      advertised === null
        ? null
        : parseListeners(advertised, origin['advertised.listeners'], 'advertised.listeners'),
    logDirs: get('log.dirs') as string,
    rack: get('broker.rack'),
    numPartitions: int('num.partitions'),
    defaultReplicationFactor: int('default.replication.factor'),
    autoCreateTopicsEnable: get('auto.create.topics.enable') === 'true',
    deleteTopicEnable: get('delete.topic.enable') === 'true',
    messageMaxBytes: int('message.max.bytes'),
    socketRequestMaxBytes: int('socket.request.max.bytes'),
    retentionCheckIntervalMs: int('log.retention.check.interval.ms'),
    group: parseGroupConfig(
      (name) => get(name) as string,
      (name) => origin[name] ?? 'default',
    ),
    replication: parseReplicationConfig(get, (name) => origin[name] ?? 'default'),
    security: parseSecurityConfig(listeners, get, (name) => origin[name] ?? 'default'),
    values,
  };
}

const DESCRIBE_TYPE: Record<ConfigType, DescribedConfigType> = {
  int: DescribedConfigType.INT,
  long: DescribedConfigType.LONG,
  boolean: DescribedConfigType.BOOLEAN,
  string: DescribedConfigType.STRING,
  list: DescribedConfigType.LIST,
  password: DescribedConfigType.PASSWORD,
};

/**
 * DescribeConfigs for this broker: the broker keys, then every other key set (the log.*
 * topic defaults). Broker settings are static, so each is read-only.
 */
export function describeBrokerConfigs(
  config: BrokerConfig,
  keys: readonly string[] | null | undefined,
  options: { includeSynonyms?: boolean; includeDocumentation?: boolean } = {},
): DescribedConfig[] {
  const wanted = keys === null || keys === undefined ? null : new Set(keys);
  const defs = new Map(BROKER_CONFIG_KEYS.map((d) => [d.name, d]));
  const names = [
    ...BROKER_CONFIG_KEYS.map((d) => d.name),
    ...Object.keys(config.values)
      .filter((k) => !defs.has(k))
      .sort(),
  ];
  return names
    .filter((name) => wanted === null || wanted.has(name))
    .map((name) => {
      const def = defs.get(name);
      const set = config.values[name];
      // Secrets are never sent back (Kafka answers sensitive configs with a null value).
      const isSensitive = isSensitiveKey(name);
      const value = isSensitive ? null : (set ?? def?.default ?? null);
      const configSource =
        set !== undefined ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
      return {
        name,
        value,
        readOnly: true,
        isDefault: set === undefined,
        configSource,
        isSensitive,
        synonyms: options.includeSynonyms ? [{ name, value, source: configSource }] : [],
        configType: def === undefined ? DescribedConfigType.UNKNOWN : DESCRIBE_TYPE[def.type],
        documentation: options.includeDocumentation ? (def?.doc ?? null) : null,
      };
    });
}
