import type { ConfigKeyDef } from './broker-config';
import { ConfigError } from './config-error';

/** Kafka's RackAwareReplicaSelector (KIP-392): the name brokers are configured with. */
export const RACK_AWARE_REPLICA_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';
/** Kafka's default, which always answers the leader. */
export const LEADER_SELECTOR = 'org.apache.kafka.common.replica.LeaderSelector';

/** A host:port, as redis.sentinels lists them. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Where a cluster's Redis is: one server by URL, or a primary that Redis Sentinel watches
 * and fails over (ioredis's `sentinels` and `name`), with the passwords of its servers and
 * of the sentinels.
 */
export type RedisEndpoint =
  | { readonly url: string }
  | {
      readonly sentinels: readonly HostPort[];
      readonly master: string;
      readonly password: string | null;
      readonly sentinelPassword: string | null;
    };

/** Settings of a replicated cluster (coordination on Redis, replication, controller), under Kafka's names. */
export interface ReplicationConfig {
  /** Where the cluster coordinates; null: a lone broker with no cluster. */
  readonly redis: RedisEndpoint | null;
  /**
   * Replicas a fencing write (controller lease and epoch, partition state, producer ids) must
   * reach before anyone acts on it (Redis's WAIT); 0: no WAIT (a lone Redis).
   */
  readonly redisWaitReplicas: number;
  readonly redisWaitTimeoutMs: number;
  readonly redisReconcileIntervalMs: number;
  readonly brokerSessionTimeoutMs: number;
  readonly brokerHeartbeatIntervalMs: number;
  readonly replicaLagTimeMaxMs: number;
  readonly replicaFetchWaitMaxMs: number;
  readonly replicaFetchMinBytes: number;
  readonly replicaFetchMaxBytes: number;
  readonly replicaFetchResponseMaxBytes: number;
  readonly replicaFetchBackoffMs: number;
  readonly replicaSocketTimeoutMs: number;
  /** Rack-aware selection of a follower for consumers (KIP-392) when RackAwareReplicaSelector is configured. */
  readonly rackAwareReplicaSelector: boolean;
  /** Bytes per second a broker fetches for replicas it is being added as (reassignment catch-up). */
  readonly followerReplicationThrottledRate: number;
  readonly autoLeaderRebalanceEnable: boolean;
  readonly leaderImbalanceCheckIntervalMs: number;
  readonly leaderImbalancePerBrokerPercentage: number;
  readonly controlledShutdownEnable: boolean;
  readonly controlledShutdownMaxRetries: number;
  readonly controlledShutdownRetryBackoffMs: number;
}

const key = (name: string, type: ConfigKeyDef['type'], def: string | null, doc: string): ConfigKeyDef => ({
  name,
  type,
  default: def,
  doc,
});

const LONG_MAX = '9223372036854775807';

export const REPLICATION_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  key(
    'redis.url',
    'string',
    null,
    'Redis where the brokers of a replicated cluster coordinate (redis://HOST:PORT); none: a lone broker.',
  ),
  key(
    'redis.sentinels',
    'list',
    null,
    'Redis Sentinels (HOST:PORT,...) that name the primary of redis.sentinel.master, instead of redis.url: the cluster follows the primary through failovers.',
  ),
  key('redis.sentinel.master', 'string', null, 'The name the sentinels monitor the primary under.'),
  key('redis.password', 'password', null, 'Password of the Redis servers the sentinels name.'),
  key('redis.sentinel.password', 'password', null, 'Password of the sentinels themselves.'),
  key(
    'redis.wait.replicas',
    'int',
    null,
    'Redis replicas that must have a fencing write (controller lease, partition state, producer ids) before a broker acts on it (WAIT); default 1 with redis.sentinels, else 0 (no WAIT).',
  ),
  key(
    'redis.wait.timeout.ms',
    'int',
    '2000',
    'How long a broker waits for redis.wait.replicas to confirm a fencing write; past it the write counts as failed and is retried.',
  ),
  key(
    'redis.reconcile.interval.ms',
    'long',
    '10000',
    'How often a broker re-reads the whole cluster state from Redis, besides its change notifications.',
  ),
  key(
    'broker.session.timeout.ms',
    'int',
    '9000',
    "Time to live of a broker's registration (and the controller's lease) without a heartbeat.",
  ),
  key('broker.heartbeat.interval.ms', 'int', '2000', 'How often a broker renews its registration.'),
  key(
    'replica.lag.time.max.ms',
    'long',
    '30000',
    'A follower that has not caught up with the leader for this long leaves the ISR.',
  ),
  key('replica.fetch.wait.max.ms', 'int', '500', 'Longest wait of a follower fetch for new data.'),
  key('replica.fetch.min.bytes', 'int', '1', 'Bytes a follower fetch waits for.'),
  key('replica.fetch.max.bytes', 'int', '1048576', 'Bytes a follower fetches per partition.'),
  key('replica.fetch.response.max.bytes', 'int', '10485760', 'Bytes a follower fetches per request.'),
  key('replica.fetch.backoff.ms', 'int', '1000', 'Pause of a follower after a failed fetch.'),
  key('replica.socket.timeout.ms', 'int', '30000', 'Request timeout of follower fetches.'),
  key(
    'replica.selector.class',
    'string',
    null,
    `Which replica consumers read from: ${RACK_AWARE_REPLICA_SELECTOR} sends consumers with client.rack to a replica in their rack; none (or LeaderSelector): the leader.`,
  ),
  key(
    'follower.replication.throttled.rate',
    'long',
    LONG_MAX,
    'Bytes per second this broker replicates into replicas it is being added as by a reassignment.',
  ),
  key('auto.leader.rebalance.enable', 'boolean', 'true', 'Move leadership back to preferred replicas.'),
  key(
    'leader.imbalance.check.interval.seconds',
    'long',
    '300',
    'How often the controller checks whether leadership should move back to preferred replicas.',
  ),
  key(
    'leader.imbalance.per.broker.percentage',
    'int',
    '10',
    'Share of a broker’s preferred partitions led elsewhere that triggers a preferred leader election.',
  ),
  key(
    'controlled.shutdown.enable',
    'boolean',
    'true',
    'On shutdown, move leadership to other replicas before stopping.',
  ),
  key('controlled.shutdown.max.retries', 'int', '3', 'How often a controlled shutdown asks again.'),
  key(
    'controlled.shutdown.retry.backoff.ms',
    'long',
    '5000',
    'How long a controlled shutdown waits for leadership to move before asking again.',
  ),
];

/** Reads and checks the replication keys; `get` gives a key's value (set or default), `origin` where it was set. */
export function parseReplicationConfig(
  get: (name: string) => string | null,
  origin: (name: string) => string,
): ReplicationConfig {
  const atLeast = (name: string, min: number): number => {
    const v = Number(get(name));
    if (v < min) throw new ConfigError(origin(name), name, `must be at least ${min}`);
    return Math.min(v, Number.MAX_SAFE_INTEGER);
  };
  const redis = parseRedisEndpoint(get, origin);
  const selector = get('replica.selector.class');
  if (selector !== null && selector !== RACK_AWARE_REPLICA_SELECTOR && selector !== LEADER_SELECTOR) {
    throw new ConfigError(
      origin('replica.selector.class'),
      'replica.selector.class',
      `"${selector}" is not ${RACK_AWARE_REPLICA_SELECTOR} or ${LEADER_SELECTOR}`,
    );
  }
  const config: ReplicationConfig = {
    redis,
    redisWaitReplicas:
      get('redis.wait.replicas') === null
        ? redis !== null && 'sentinels' in redis
          ? 1
          : 0
        : atLeast('redis.wait.replicas', 0),
    redisWaitTimeoutMs: atLeast('redis.wait.timeout.ms', 1),
    redisReconcileIntervalMs: atLeast('redis.reconcile.interval.ms', 1),
    brokerSessionTimeoutMs: atLeast('broker.session.timeout.ms', 1),
    brokerHeartbeatIntervalMs: atLeast('broker.heartbeat.interval.ms', 1),
    replicaLagTimeMaxMs: atLeast('replica.lag.time.max.ms', 1),
    replicaFetchWaitMaxMs: atLeast('replica.fetch.wait.max.ms', 0),
    replicaFetchMinBytes: atLeast('replica.fetch.min.bytes', 0),
    replicaFetchMaxBytes: atLeast('replica.fetch.max.bytes', 1),
    replicaFetchResponseMaxBytes: atLeast('replica.fetch.response.max.bytes', 1),
    replicaFetchBackoffMs: atLeast('replica.fetch.backoff.ms', 0),
    replicaSocketTimeoutMs: atLeast('replica.socket.timeout.ms', 1),
    rackAwareReplicaSelector: selector === RACK_AWARE_REPLICA_SELECTOR,
    followerReplicationThrottledRate: atLeast('follower.replication.throttled.rate', 1),
    autoLeaderRebalanceEnable: get('auto.leader.rebalance.enable') === 'true',
    leaderImbalanceCheckIntervalMs: atLeast('leader.imbalance.check.interval.seconds', 1) * 1000,
    leaderImbalancePerBrokerPercentage: atLeast('leader.imbalance.per.broker.percentage', 0),
    controlledShutdownEnable: get('controlled.shutdown.enable') === 'true',
    controlledShutdownMaxRetries: atLeast('controlled.shutdown.max.retries', 0),
    controlledShutdownRetryBackoffMs: atLeast('controlled.shutdown.retry.backoff.ms', 0),
  };
  if (config.brokerHeartbeatIntervalMs >= config.brokerSessionTimeoutMs) {
    throw new ConfigError(
      origin('broker.heartbeat.interval.ms'),
      'broker.heartbeat.interval.ms',
      `must be below broker.session.timeout.ms (${config.brokerSessionTimeoutMs})`,
    );
  }
  return config;
}

/** redis.url, or redis.sentinels with redis.sentinel.master (and their passwords); null: neither. */
function parseRedisEndpoint(
  get: (name: string) => string | null,
  origin: (name: string) => string,
): RedisEndpoint | null {
  const url = get('redis.url');
  const sentinels = get('redis.sentinels');
  const master = get('redis.sentinel.master');
  if (url !== null && sentinels !== null) {
    throw new ConfigError(
      origin('redis.sentinels'),
      'redis.sentinels',
      'and redis.url are both set: name one Redis server, or the sentinels that find the primary',
    );
  }
  if (url !== null) {
    if (!/^rediss?:\/\/[^/\s]+/.test(url)) {
      throw new ConfigError(
        origin('redis.url'),
        'redis.url',
        'is not redis://HOST:PORT (or redis://:PASSWORD@HOST:PORT)',
      );
    }
    for (const name of ['redis.sentinel.master', 'redis.password', 'redis.sentinel.password']) {
      if (get(name) !== null)
        throw new ConfigError(
          origin(name),
          name,
          'goes with redis.sentinels (redis.url carries its own password)',
        );
    }
    return { url };
  }
  if (sentinels === null) {
    if (master !== null)
      throw new ConfigError(
        origin('redis.sentinel.master'),
        'redis.sentinel.master',
        'needs redis.sentinels',
      );
    return null;
  }
  const list = sentinels
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((entry) => parseHostPort(entry, origin('redis.sentinels'), 'redis.sentinels'));
  if (list.length === 0)
    throw new ConfigError(
      origin('redis.sentinels'),
      'redis.sentinels',
      'is empty: list HOST:PORT of each sentinel',
    );
  if (master === null || master.trim() === '') {
    throw new ConfigError(
      origin('redis.sentinels'),
      'redis.sentinel.master',
      'is required with redis.sentinels: the name the sentinels monitor the primary under',
    );
  }
  return {
    sentinels: list,
    master,
    password: get('redis.password'),
    sentinelPassword: get('redis.sentinel.password'),
  };
}

/** HOST:PORT, [IPv6]:PORT. */
export function parseHostPort(entry: string, source: string, name: string): HostPort {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(entry);
  if (m === null) throw new ConfigError(source, name, `"${entry}" is not HOST:PORT`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535)
    throw new ConfigError(source, name, `port ${port} of "${entry}" is out of range`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}
