import { GROUP_CONFIG_KEYS, parseGroupConfig, type GroupConfig } from '../group/group-config';
import {
  parseTransactionConfig,
  TRANSACTION_CONFIG_KEYS,
  type TransactionConfig,
} from '../txn/transaction-config';
import { ConfigError } from './config-error';
import { parseQuotaConfig, QUOTA_CONFIG_KEYS } from './quota-config';
import type { QuotaWindow } from '../quota/rate';
import {
  parseReplicationConfig,
  REPLICATION_CONFIG_KEYS,
  type ReplicationConfig,
} from './replication-config';
import {
  isListenerPrefixedKey,
  parseSecurityConfig,
  SECURITY_CONFIG_KEYS,
  type SecurityConfig,
} from './security-config';

/**
 * The broker's settings under Kafka's names. Values come in layers (a YAML file, then
 * command-line flags); a later layer wins, and an error names the layer and the key.
 */
export type ConfigType =
  'int' | 'short' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'password' | 'class';

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

const NO_EFFECT =
  'Accepted for compatibility with Kafka, which can change it at runtime; it changes nothing in Tributary';
const LONG_MAX = '9223372036854775807';
const INT_MAX = '2147483647';

/**
 * Kafka's broker settings that its tools change at runtime but that mean nothing here (thread
 * pools of the JVM broker, Kerberos, Java's SSL providers): accepted with Kafka's types and
 * defaults, so that a config file or kafka-configs written for Kafka works, and documented
 * as having no effect.
 */
export const COMPATIBILITY_KEYS: readonly ConfigKeyDef[] = [
  key('background.threads', 'int', '10', `${NO_EFFECT} (one event loop does the background work).`),
  key('num.io.threads', 'int', '8', `${NO_EFFECT} (requests are handled on one event loop).`),
  key('num.network.threads', 'int', '3', `${NO_EFFECT} (sockets are served by one event loop).`),
  key('num.replica.fetchers', 'int', '1', `${NO_EFFECT} (one fetcher per leader broker).`),
  key('num.recovery.threads.per.data.dir', 'int', '2', `${NO_EFFECT}.`),
  key('log.cleaner.threads', 'int', '1', `${NO_EFFECT} (the cleaner works in steps on the event loop).`),
  key('log.cleaner.io.buffer.load.factor', 'double', '0.9', `${NO_EFFECT}.`),
  key('log.cleaner.io.max.bytes.per.second', 'double', '1.7976931348623157E308', `${NO_EFFECT}.`),
  key('metric.reporters', 'list', '', `${NO_EFFECT} (metrics are served in Prometheus' format).`),
  key('max.connections', 'int', INT_MAX, `${NO_EFFECT}.`),
  key('max.connection.creation.rate', 'int', INT_MAX, `${NO_EFFECT}.`),
  key('max.connections.per.ip', 'int', INT_MAX, `${NO_EFFECT}.`),
  key('max.connections.per.ip.overrides', 'string', '', `${NO_EFFECT}.`),
  key(
    'leader.replication.throttled.rate',
    'long',
    LONG_MAX,
    `${NO_EFFECT} (reassignments are throttled on the follower side, follower.replication.throttled.rate).`,
  ),
  key('replica.alter.log.dirs.io.max.bytes.per.second', 'long', LONG_MAX, `${NO_EFFECT} (one log dir).`),
  key('sasl.kerberos.service.name', 'string', null, `${NO_EFFECT} (no Kerberos).`),
  key('sasl.kerberos.kinit.cmd', 'string', '/usr/bin/kinit', `${NO_EFFECT} (no Kerberos).`),
  key('sasl.kerberos.ticket.renew.window.factor', 'double', '0.8', `${NO_EFFECT} (no Kerberos).`),
  key('sasl.kerberos.ticket.renew.jitter', 'double', '0.05', `${NO_EFFECT} (no Kerberos).`),
  key('sasl.kerberos.min.time.before.relogin', 'long', '60000', `${NO_EFFECT} (no Kerberos).`),
  key('sasl.kerberos.principal.to.local.rules', 'list', 'DEFAULT', `${NO_EFFECT} (no Kerberos).`),
  key('sasl.login.refresh.window.factor', 'double', '0.8', `${NO_EFFECT} (no OAUTHBEARER).`),
  key('sasl.login.refresh.window.jitter', 'double', '0.05', `${NO_EFFECT} (no OAUTHBEARER).`),
  key('sasl.login.refresh.min.period.seconds', 'short', '60', `${NO_EFFECT} (no OAUTHBEARER).`),
  key('sasl.login.refresh.buffer.seconds', 'short', '300', `${NO_EFFECT} (no OAUTHBEARER).`),
  key('ssl.protocol', 'string', 'TLSv1.3', `${NO_EFFECT}: ssl.enabled.protocols chooses the TLS versions.`),
  key('ssl.provider', 'string', null, `${NO_EFFECT} (Java security providers).`),
  key('ssl.keymanager.algorithm', 'string', 'SunX509', `${NO_EFFECT} (Java key managers).`),
  key('ssl.trustmanager.algorithm', 'string', 'PKIX', `${NO_EFFECT} (Java trust managers).`),
  key('ssl.secure.random.implementation', 'string', null, `${NO_EFFECT} (Java random sources).`),
  key('ssl.engine.factory.class', 'class', null, `${NO_EFFECT} (Java SSL engines).`),
  key(
    'principal.builder.class',
    'class',
    'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder',
    `${NO_EFFECT}: principals come from certificates (ssl.principal.mapping.rules) and SASL.`,
  ),
];

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
  ...TRANSACTION_CONFIG_KEYS,
  ...REPLICATION_CONFIG_KEYS,
  ...SECURITY_CONFIG_KEYS,
  ...COMPATIBILITY_KEYS,
  ...QUOTA_CONFIG_KEYS,
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
  /** The transaction coordinator's transaction.* and transactional.id.* settings. */
  readonly transaction: TransactionConfig;
  /** A replicated cluster's settings (redis.url or redis.sentinels, replica.*, controller). */
  readonly replication: ReplicationConfig;
  /** Listeners' security protocols, TLS and SASL, the authorizer. */
  readonly security: SecurityConfig;
  /** How client quotas are measured (quota.window.num, quota.window.size.seconds). */
  readonly quotaWindow: QuotaWindow;
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
    case 'short':
    case 'long':
      if (!/^-?\d+$/.test(value)) throw new ConfigError(source, def.name, `"${value}" is not a whole number`);
      if (def.type !== 'long' && Math.abs(Number(value)) > (def.type === 'int' ? 2 ** 31 - 1 : 2 ** 15 - 1)) {
        throw new ConfigError(source, def.name, `${value} does not fit in an ${def.type}`);
      }
      return;
    case 'double':
      if (value.trim() === '' || !Number.isFinite(Number(value)))
        throw new ConfigError(source, def.name, `"${value}" is not a number`);
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
  const redisKey = get('redis.url') !== null ? 'redis.url' : 'redis.sentinels';
  if (get(redisKey) !== null && get('cluster.id') === null) {
    throw new ConfigError(
      origin[redisKey] ?? 'config',
      'cluster.id',
      `is required with ${redisKey}: every broker of a replicated cluster names the same cluster`,
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
    transaction: parseTransactionConfig(
      (name) => get(name) as string,
      (name) => origin[name] ?? 'default',
    ),
    replication: parseReplicationConfig(get, (name) => origin[name] ?? 'default'),
    security: parseSecurityConfig(listeners, get, (name) => origin[name] ?? 'default'),
    quotaWindow: parseQuotaConfig(get, (name) => origin[name] ?? 'default'),
    values,
  };
}
