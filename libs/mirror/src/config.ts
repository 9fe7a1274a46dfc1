import fs from 'node:fs';
import { parse } from 'yaml';
import { securityFromProperties, SECURITY_PROPERTY_KEYS, type SecurityOptions } from '@tributary/client';
import { parseRedisEndpoint, type RedisEndpoint } from './redis-endpoint';

/**
 * The replicator's configuration: clusters by alias and flows between them, with
 * MirrorMaker 2's names and defaults where MM2 has the setting. Parsed from a YAML document
 * (already read); every error names the file, the key and what is wrong.
 */
export class MirrorConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
    problem: string,
  ) {
    super(`${file}: ${key}: ${problem}`);
    this.name = 'MirrorConfigError';
  }
}

export type OffsetMode = 'preserve' | 'translate' | 'auto';

export interface ClusterConfig {
  readonly alias: string;
  readonly bootstrapServers: string;
  /** Client settings passed to our client (client.id, request.timeout.ms, ...). */
  readonly clientId: string | null;
  readonly requestTimeoutMs: number | null;
  /** Where the cluster is (a data center or zone), for the console's map. */
  readonly datacenter: string | null;
  /** TLS and SASL from the cluster's security.protocol, sasl.* and ssl.* settings (librdkafka's names). */
  readonly security: SecurityOptions;
}

export interface FlowConfig {
  readonly name: string;
  readonly source: string;
  readonly target: string;
  readonly topics: readonly RegExp[];
  readonly topicsExclude: readonly RegExp[];
  readonly policy: 'prefix' | 'identity';
  readonly separator: string;
  readonly offsets: OffsetMode;
  readonly syncTopicConfigs: boolean;
  readonly syncTopicConfigsIntervalMs: number;
  readonly configPropertiesExclude: readonly RegExp[];
  readonly refreshTopicsIntervalMs: number;
  readonly emitCheckpoints: boolean;
  readonly emitCheckpointsIntervalMs: number;
  readonly groups: readonly RegExp[];
  readonly groupsExclude: readonly RegExp[];
  readonly syncGroupOffsets: boolean;
  readonly syncGroupOffsetsIntervalMs: number;
  readonly emitHeartbeats: boolean;
  readonly emitHeartbeatsIntervalMs: number;
  readonly offsetLagMax: number;
  /** Bytes per second for the whole flow; 0: unlimited. */
  readonly throttleBytesPerSecond: number;
  readonly enabled: boolean;
}

export interface MirrorConfig {
  readonly file: string;
  /** A URL, or the sentinels that name the primary; null: given on the command line. */
  readonly redis: RedisEndpoint | null;
  /** Key prefix in Redis and BullMQ queue name, so several deployments share one Redis. */
  readonly namespace: string;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  readonly flows: readonly FlowConfig[];
  readonly workerConcurrency: number;
  /** How long a unit runs before it yields, so work spreads over the workers. */
  readonly unitSliceMs: number;
  /** How soon a dead worker's units are taken over (BullMQ lock duration). */
  readonly lockDurationMs: number;
}

// MM2's defaults.
const DEFAULT_TOPICS_EXCLUDE = ['.*[\\-\\.]internal', '.*\\.replica', '__.*'];
const DEFAULT_GROUPS_EXCLUDE = ['console-consumer-.*', 'connect-.*', '__.*'];
/** Never copied by config sync (MM2's DefaultConfigPropertyFilter, plus our mirror markers). */
const DEFAULT_CONFIG_EXCLUDE = [
  'follower\\.replication\\.throttled\\.replicas',
  'leader\\.replication\\.throttled\\.replicas',
  'message\\.timestamp\\..*',
  'unclean\\.leader\\.election\\.enable',
  'min\\.insync\\.replicas',
  'tributary\\.mirror\\..*',
];

const FLOW_KEYS = new Set([
  'name',
  'source',
  'target',
  'topics',
  'topics.exclude',
  'replication.policy',
  'replication.policy.separator',
  'offsets',
  'sync.topic.configs.enabled',
  'sync.topic.configs.interval.seconds',
  'config.properties.exclude',
  'refresh.topics.interval.seconds',
  'emit.checkpoints.enabled',
  'emit.checkpoints.interval.seconds',
  'groups',
  'groups.exclude',
  'sync.group.offsets.enabled',
  'sync.group.offsets.interval.seconds',
  'emit.heartbeats.enabled',
  'emit.heartbeats.interval.seconds',
  'offset.lag.max',
  'throttle.bytes.per.second',
  'enabled',
]);
const CLUSTER_KEYS = new Set([
  'bootstrap.servers',
  'client.id',
  'request.timeout.ms',
  'datacenter',
  ...SECURITY_PROPERTY_KEYS,
]);
// log: the process' logging (log.format, log.level), read by the command that runs it.
const TOP_KEYS = new Set([
  'redis',
  'namespace',
  'clusters',
  'flows',
  'worker',
  'brokers',
  'console',
  'demo',
  'log',
]);
const WORKER_KEYS = new Set(['concurrency', 'unit.slice.ms', 'lock.duration.ms']);
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

class Reader {
  constructor(readonly file: string) {}

  fail(key: string, problem: string): never {
    throw new MirrorConfigError(this.file, key, problem);
  }

  map(v: unknown, key: string, allowed: ReadonlySet<string>): Obj {
    if (!isObj(v)) this.fail(key, 'must be a map');
    for (const k of Object.keys(v)) {
      if (!allowed.has(k))
        this.fail(key === '' ? k : `${key}.${k}`, `unknown key (known: ${[...allowed].join(', ')})`);
    }
    return v;
  }

  str(v: unknown, key: string, dflt?: string): string {
    if (v === undefined || v === null) {
      if (dflt !== undefined) return dflt;
      this.fail(key, 'is required');
    }
    if (typeof v !== 'string' && typeof v !== 'number')
      this.fail(key, `must be a string, not ${JSON.stringify(v)}`);
    return String(v);
  }

  bool(v: unknown, key: string, dflt: boolean): boolean {
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.fail(key, `must be true or false, not ${JSON.stringify(v)}`);
  }

  int(v: unknown, key: string, dflt: number, min = 0): number {
    if (v === undefined || v === null) return dflt;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) this.fail(key, `must be a whole number, not ${JSON.stringify(v)}`);
    if (n < min) this.fail(key, `must be at least ${min}, not ${n}`);
    return n;
  }

  /** A list of regexes, as a YAML list or MM2's comma-separated string; each matches whole names. */
  patterns(v: unknown, key: string, dflt: readonly string[]): RegExp[] {
    let list: string[];
    if (v === undefined || v === null) list = [...dflt];
    else if (Array.isArray(v)) list = v.map((x, i) => this.str(x, `${key}[${i}]`));
    else
      list = this.str(v, key)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    return list.map((p) => {
      try {
        return new RegExp(`^(?:${p})$`);
      } catch (err) {
        this.fail(key, `"${p}" is not a valid regular expression: ${(err as Error).message}`);
      }
    });
  }
}

/** Parses and checks a mirror configuration document (the parsed YAML). */
export function parseMirrorConfig(doc: unknown, file: string): MirrorConfig {
  const r: Reader = new Reader(file);
  const top = r.map(doc ?? {}, '', TOP_KEYS);
  const clustersDoc: unknown = top.clusters === undefined ? {} : top.clusters;
  if (!isObj(clustersDoc)) r.fail('clusters', 'must be a map of cluster alias to settings');
  const clusters = new Map<string, ClusterConfig>();
  for (const [alias, raw] of Object.entries(clustersDoc)) {
    const key = `clusters.${alias}`;
    if (!ALIAS.test(alias)) r.fail(key, 'a cluster alias is letters, digits, "-" and "_"');
    const c = r.map(raw, key, CLUSTER_KEYS);
    const bootstrap = r.str(c['bootstrap.servers'], `${key}.bootstrap.servers`);
    for (const hp of bootstrap.split(',')) {
      if (!/^[^:,\s]+:\d+$/.test(hp.trim())) r.fail(`${key}.bootstrap.servers`, `"${hp}" is not host:port`);
    }
    clusters.set(alias, {
      alias,
      bootstrapServers: bootstrap,
      clientId: c['client.id'] === undefined ? null : r.str(c['client.id'], `${key}.client.id`),
      requestTimeoutMs:
        c['request.timeout.ms'] === undefined
          ? null
          : r.int(c['request.timeout.ms'], `${key}.request.timeout.ms`, 30000, 1),
      datacenter: c.datacenter === undefined ? null : r.str(c.datacenter, `${key}.datacenter`),
      security: securityFromProperties(
        Object.fromEntries(
          SECURITY_PROPERTY_KEYS.filter((k) => c[k] !== undefined).map((k) => [
            k,
            r.str(c[k], `${key}.${k}`),
          ]),
        ),
        (k, problem) => r.fail(`${key}.${k}`, problem),
      ),
    });
  }
  const flowsDoc: unknown = top.flows ?? [];
  if (!Array.isArray(flowsDoc)) r.fail('flows', 'must be a list of flows');
  const names = new Set<string>();
  const flows = (flowsDoc as unknown[]).map((raw, i): FlowConfig => {
    const key = `flows[${i}]`;
    const f = r.map(raw, key, FLOW_KEYS);
    const source = r.str(f.source, `${key}.source`);
    const target = r.str(f.target, `${key}.target`);
    for (const [k, alias] of [
      ['source', source],
      ['target', target],
    ] as const) {
      if (!clusters.has(alias))
        r.fail(
          `${key}.${k}`,
          `unknown cluster "${alias}" (known: ${[...clusters.keys()].join(', ') || 'none'})`,
        );
    }
    if (source === target)
      r.fail(`${key}.target`, `a flow cannot write into its own source cluster "${source}"`);
    const name = r.str(f.name, `${key}.name`, `${source}->${target}`);
    if (!/^[A-Za-z0-9_.>-]+$/.test(name))
      r.fail(`${key}.name`, `"${name}" may hold only letters, digits and _ . - >`);
    if (names.has(name)) r.fail(`${key}.name`, `flow "${name}" is defined twice`);
    names.add(name);
    const policy = r.str(f['replication.policy'], `${key}.replication.policy`, 'prefix');
    if (policy !== 'prefix' && policy !== 'identity')
      r.fail(`${key}.replication.policy`, `must be prefix or identity, not "${policy}"`);
    const offsets = r.str(f.offsets, `${key}.offsets`, 'auto');
    if (offsets !== 'preserve' && offsets !== 'translate' && offsets !== 'auto') {
      r.fail(`${key}.offsets`, `must be preserve, translate or auto, not "${offsets}"`);
    }
    const separator = r.str(f['replication.policy.separator'], `${key}.replication.policy.separator`, '.');
    if (separator.length === 0) r.fail(`${key}.replication.policy.separator`, 'must not be empty');
    const seconds = (k: string, dflt: number, min = 1): number =>
      r.int(f[k], `${key}.${k}`, dflt, min) * 1000;
    return {
      name,
      source,
      target,
      topics: r.patterns(f.topics, `${key}.topics`, ['.*']),
      topicsExclude: r.patterns(f['topics.exclude'], `${key}.topics.exclude`, DEFAULT_TOPICS_EXCLUDE),
      policy,
      separator,
      offsets,
      syncTopicConfigs: r.bool(f['sync.topic.configs.enabled'], `${key}.sync.topic.configs.enabled`, true),
      syncTopicConfigsIntervalMs: seconds('sync.topic.configs.interval.seconds', 600),
      configPropertiesExclude: r.patterns(
        f['config.properties.exclude'],
        `${key}.config.properties.exclude`,
        DEFAULT_CONFIG_EXCLUDE,
      ),
      refreshTopicsIntervalMs: seconds('refresh.topics.interval.seconds', 600),
      emitCheckpoints: r.bool(f['emit.checkpoints.enabled'], `${key}.emit.checkpoints.enabled`, true),
      emitCheckpointsIntervalMs: seconds('emit.checkpoints.interval.seconds', 60),
      groups: r.patterns(f.groups, `${key}.groups`, ['.*']),
      groupsExclude: r.patterns(f['groups.exclude'], `${key}.groups.exclude`, DEFAULT_GROUPS_EXCLUDE),
      syncGroupOffsets: r.bool(f['sync.group.offsets.enabled'], `${key}.sync.group.offsets.enabled`, false),
      syncGroupOffsetsIntervalMs: seconds('sync.group.offsets.interval.seconds', 60),
      emitHeartbeats: r.bool(f['emit.heartbeats.enabled'], `${key}.emit.heartbeats.enabled`, true),
      emitHeartbeatsIntervalMs: seconds('emit.heartbeats.interval.seconds', 1),
      offsetLagMax: r.int(f['offset.lag.max'], `${key}.offset.lag.max`, 100, 0),
      throttleBytesPerSecond: r.int(f['throttle.bytes.per.second'], `${key}.throttle.bytes.per.second`, 0, 0),
      enabled: r.bool(f.enabled, `${key}.enabled`, true),
    };
  });
  const worker = r.map(top.worker ?? {}, 'worker', WORKER_KEYS);
  return {
    file,
    redis:
      top.redis === undefined || top.redis === null
        ? null
        : parseRedisEndpoint(top.redis, 'redis', (key, text) => new MirrorConfigError(file, key, text)),
    namespace: r.str(top.namespace, 'namespace', 'tributary'),
    clusters,
    flows,
    workerConcurrency: r.int(worker.concurrency, 'worker.concurrency', 256, 1),
    unitSliceMs: r.int(worker['unit.slice.ms'], 'worker.unit.slice.ms', 60000, 100),
    lockDurationMs: r.int(worker['lock.duration.ms'], 'worker.lock.duration.ms', 5000, 1000),
  };
}

/** Reads and checks a mirror config file (YAML); every error names the file and the key. */
export function readMirrorConfig(file: string): MirrorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MirrorConfigError(file, '(file)', `cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new MirrorConfigError(file, '(yaml)', (err as Error).message.split('\n')[0]);
  }
  return parseMirrorConfig(doc, file);
}
