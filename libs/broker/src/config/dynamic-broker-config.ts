import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import {
  AlterConfigOp,
  brokerLevelLogKeys,
  brokerLogKeys,
  ConfigSource,
  ConfigType,
  TopicConfig,
  type BrokerConfigLayer,
  type ConfigAlteration,
  type ConfigSynonym,
  type DescribedConfig,
} from '@tributary/storage';
import type { BrokerLogger } from '../broker-context';
import {
  BROKER_CONFIG_KEYS,
  COMPATIBILITY_KEYS,
  parseBrokerConfig,
  type BrokerConfig,
  type ConfigType as KeyType,
} from './broker-config';
import { DEFAULT_ENTITY, type BrokerConfigStore } from './broker-config-store';
import { isSensitiveKey, PER_LISTENER_KEYS } from './security-config';

/**
 * Kafka's dynamic broker configs (KIP-226, its DynamicBrokerConfig and ConfigAdminManager):
 * settings changed at runtime through AlterConfigs/IncrementalAlterConfigs on BROKER
 * resources, per broker (resource name = the broker id) or as the cluster-wide default
 * (empty name), stored durably and applied without a restart. Precedence, highest first:
 * dynamic per-broker, dynamic default, the static config (file and flags), Kafka's default.
 */

/** Kafka's update modes (the "Dynamic Update Mode" of its broker config docs). */
export type UpdateMode = 'read-only' | 'per-broker' | 'cluster-wide';

const TYPE: Record<KeyType, ConfigType> = {
  int: ConfigType.INT,
  short: ConfigType.SHORT,
  long: ConfigType.LONG,
  double: ConfigType.DOUBLE,
  boolean: ConfigType.BOOLEAN,
  string: ConfigType.STRING,
  list: ConfigType.LIST,
  password: ConfigType.PASSWORD,
  class: ConfigType.CLASS,
};

/** Kafka's per-broker settings among ours (its DynamicListenerConfig less the cluster-level ones). */
const PER_BROKER = [
  'ssl.client.auth',
  'ssl.enabled.protocols',
  'ssl.cipher.suites',
  'ssl.protocol',
  'ssl.provider',
  'ssl.keymanager.algorithm',
  'ssl.trustmanager.algorithm',
  'ssl.secure.random.implementation',
  'ssl.engine.factory.class',
  'principal.builder.class',
  'sasl.kerberos.service.name',
  'sasl.kerberos.kinit.cmd',
  'sasl.kerberos.ticket.renew.window.factor',
  'sasl.kerberos.ticket.renew.jitter',
  'sasl.kerberos.min.time.before.relogin',
  'sasl.kerberos.principal.to.local.rules',
  'sasl.login.refresh.window.factor',
  'sasl.login.refresh.window.jitter',
  'sasl.login.refresh.min.period.seconds',
  'sasl.login.refresh.buffer.seconds',
];

/**
 * A listener's TLS material and settings, changed per broker with the listener prefix
 * (listener.name.<listener>.<key>); the new files are read at once, and an update naming
 * the same files reads them again (a certificate renewed in place).
 */
const LISTENER_TLS_KEYS: ReadonlySet<string> = new Set([
  'ssl.keystore.location',
  'ssl.truststore.location',
  'ssl.key.location',
  'ssl.certificate.location',
  'ssl.ca.location',
  'ssl.key.password',
  'ssl.client.auth',
  'ssl.enabled.protocols',
  'ssl.cipher.suites',
]);

/** Kafka's DynamicSecurityConfigs: dynamic only with a listener prefix. */
const PREFIX_ONLY: ReadonlySet<string> = new Set([
  'ssl.keystore.location',
  'ssl.truststore.location',
  'ssl.key.location',
  'ssl.certificate.location',
  'ssl.ca.location',
  'ssl.key.password',
]);

/**
 * Kafka's dynamic settings we refuse to change at runtime, because they do matter here and
 * changing them needs a restart (listeners, SASL): they answer as read-only settings do.
 */
const READ_ONLY_HERE: ReadonlySet<string> = new Set([
  'listeners',
  'listener.security.protocol.map',
  'sasl.enabled.mechanisms',
  'sasl.jaas.config',
  'sasl.mechanism.inter.broker.protocol',
  'ssl.endpoint.identification.algorithm',
]);

/** Broker settings (not topic defaults) that every broker of a cluster applies at runtime. */
const CLUSTER_WIDE_HERE: ReadonlySet<string> = new Set([
  'follower.replication.throttled.rate',
  'transaction.partition.verification.enable',
]);

interface KeyInfo {
  readonly type: ConfigType;
  readonly default: string | null;
  readonly doc: string;
  readonly mode: UpdateMode;
  /** Checks a value's type and range: a message in Kafka's words, or null. */
  readonly check: (value: string) => string | null;
}

const LISTENER_PREFIX = /^listener\.name\.([^.]+)\.(.+)$/;

/** Kafka's ConfigDef messages for a value of the wrong type. */
function checkKeyType(type: KeyType, value: string): string | null {
  const v = value.trim();
  switch (type) {
    case 'int':
    case 'short':
    case 'long': {
      if (!/^[-+]?\d+$/.test(v)) return `Not a number of type ${type.toUpperCase()}`;
      const n = BigInt(v);
      const bits = type === 'int' ? 31n : type === 'short' ? 15n : 63n;
      return n < -(2n ** bits) || n >= 2n ** bits ? `Not a number of type ${type.toUpperCase()}` : null;
    }
    case 'double':
      return v === '' || !Number.isFinite(Number(v)) ? 'Not a number of type DOUBLE' : null;
    case 'boolean':
      return /^(true|false)$/i.test(v) ? null : 'Expected value to be either true or false';
    default:
      return null;
  }
}

function buildCatalogue(): Map<string, KeyInfo> {
  const out = new Map<string, KeyInfo>();
  const logKeys = new Map(brokerLogKeys().map((k) => [k.name, k]));
  const logChecks = brokerLevelLogKeys();
  const compatibility = new Set(COMPATIBILITY_KEYS.map((k) => k.name));
  const perBroker = new Set(PER_BROKER);
  const modeOf = (name: string): UpdateMode => {
    if (READ_ONLY_HERE.has(name)) return 'read-only';
    if (perBroker.has(name) || PREFIX_ONLY.has(name)) return 'per-broker';
    if (compatibility.has(name) || CLUSTER_WIDE_HERE.has(name)) return 'cluster-wide';
    return logKeys.get(name)?.dynamic === true ? 'cluster-wide' : 'read-only';
  };
  const logCheck = (name: string) => (value: string) => {
    try {
      logChecks.get(name)?.(value);
      return null;
    } catch (err) {
      // The storage layer's message already says "Invalid value ... for configuration ...".
      return withoutCode(err).replace(/^Invalid value .* for configuration [^:]+: /, '');
    }
  };
  for (const d of BROKER_CONFIG_KEYS) {
    const log = logKeys.has(d.name) ? logCheck(d.name) : null;
    out.set(d.name, {
      type: TYPE[d.type],
      default: d.default,
      doc: d.doc,
      mode: modeOf(d.name),
      check: (v) => checkKeyType(d.type, v) ?? log?.(v) ?? null,
    });
  }
  for (const k of logKeys.values()) {
    if (out.has(k.name)) continue;
    out.set(k.name, {
      type: k.type,
      default: k.default,
      doc: k.doc,
      mode: modeOf(k.name),
      check: logCheck(k.name),
    });
  }
  return out;
}

let catalogue: Map<string, KeyInfo> | null = null;

/** Every broker setting we know, by name, with Kafka's type, default and update mode. */
function keys(): Map<string, KeyInfo> {
  catalogue ??= buildCatalogue();
  return catalogue;
}

/** What a name means: a known key, or a listener-prefixed one (through its base key). */
function keyInfo(name: string): { info: KeyInfo; listener: string | null; base: string } | null {
  const direct = keys().get(name);
  if (direct !== undefined) return { info: direct, listener: null, base: name };
  const m = LISTENER_PREFIX.exec(name);
  if (m === null || !PER_LISTENER_KEYS.has(m[2])) return null;
  const base = keys().get(m[2]);
  if (base === undefined) return null;
  const mode: UpdateMode = LISTENER_TLS_KEYS.has(m[2]) ? 'per-broker' : 'read-only';
  return { info: { ...base, mode }, listener: m[1].toUpperCase(), base: m[2] };
}

/** A setting's update mode in Tributary; null for a name no broker setting has. */
export function updateMode(name: string): UpdateMode | null {
  return keyInfo(name)?.info.mode ?? null;
}

/** An error's message without the error name KafkaProtocolError puts first. */
function withoutCode(err: unknown): string {
  return (err as Error).message.replace(/^[A-Z_]+: /, '');
}

/** Scala's Set(a, b) as Kafka's messages print it. */
const scalaSet = (names: readonly string[]): string => `Set(${names.join(', ')})`;

const invalidRequest = (message: string) => new KafkaProtocolError(ErrorCode.INVALID_REQUEST, message);

/**
 * Kafka's checks of a dynamic update (DynamicBrokerConfig.validateConfigs), with its errors:
 * INVALID_REQUEST for settings that cannot change at runtime, security settings without a
 * listener prefix, values of the wrong type, and per-broker settings given as the cluster
 * default; INVALID_CONFIG for a name no broker setting has (Kafka passes those through to
 * plugins, which Tributary has not).
 */
export function validateDynamicConfigs(
  props: Readonly<Record<string, string>>,
  perBroker: boolean,
  listeners: readonly string[],
): void {
  const names = Object.keys(props);
  const unknown = names.filter((n) => keyInfo(n) === null);
  if (unknown.length > 0)
    throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${unknown.join(', ')}`);
  const nonDynamic = names.filter((n) => keyInfo(n)!.info.mode === 'read-only');
  if (nonDynamic.length > 0)
    throw invalidRequest(`Cannot update these configs dynamically: ${scalaSet(nonDynamic)}`);
  const unprefixed = names.filter((n) => PREFIX_ONLY.has(n));
  if (unprefixed.length > 0)
    throw invalidRequest(
      `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(unprefixed)}`,
    );
  for (const n of names) {
    const reason = keyInfo(n)!.info.check(props[n]);
    if (reason !== null) throw invalidRequest(`Invalid value ${props[n]} for configuration ${n}: ${reason}`);
  }
  if (!perBroker) {
    const onlyPerBroker = names.filter((n) => keyInfo(n)!.info.mode === 'per-broker');
    if (onlyPerBroker.length > 0)
      throw invalidRequest(
        `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(onlyPerBroker)}`,
      );
  }
  for (const n of names) {
    const listener = keyInfo(n)!.listener;
    if (listener !== null && !listeners.includes(listener))
      throw invalidRequest(
        `Invalid dynamic configuration: ${n} names listener ${listener}, which is not one of this broker's (${listeners.join(', ')})`,
      );
  }
}

/** The names Kafka takes as one setting in several units (DynamicBrokerConfig.brokerConfigSynonyms), by precedence. */
function brokerConfigSynonyms(name: string): string[] {
  const groups = [
    ['log.roll.ms', 'log.roll.hours'],
    ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ];
  const group = groups.find((g) => g.includes(name));
  if (group !== undefined) return group;
  if (name === 'log.flush.interval.ms') return [name, 'log.flush.scheduler.interval.ms'];
  const m = LISTENER_PREFIX.exec(name);
  return m === null ? [name] : [name, m[2]];
}

/** A stored value changed or set again: what a reconfiguration acts on. */
export interface ConfigChange {
  readonly previous: BrokerConfig;
  readonly next: BrokerConfig;
  /** Listeners whose TLS files must be read again even if no setting changed (an update named them). */
  readonly reloadListeners: ReadonlySet<string>;
}

/** A part of the broker that takes new settings at runtime (Kafka's BrokerReconfigurable). */
export type Reconfigurable = (change: ConfigChange) => void;

interface DescribeOptions {
  readonly includeSynonyms?: boolean;
  readonly includeDocumentation?: boolean;
}

/**
 * One broker's dynamic configs: the stored per-broker and default settings, the effective
 * configuration they make with the static one, its application to the reconfigurable parts,
 * and the admin operations on BROKER resources.
 */
export class DynamicBrokerConfig {
  private perBroker: Record<string, string> = {};
  private defaults: Record<string, string> = {};
  private effective: BrokerConfig;
  private readonly reconfigurables: Reconfigurable[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly defaultValues: Record<string, string> = {};

  constructor(
    readonly staticConfig: BrokerConfig,
    private readonly store: BrokerConfigStore,
    private readonly logger: BrokerLogger,
  ) {
    this.effective = staticConfig;
    for (const [name, k] of keys()) if (k.default !== null) this.defaultValues[name] = k.default;
  }

  /** The configuration in force: static settings under the dynamic ones. */
  get current(): BrokerConfig {
    return this.effective;
  }

  /** Where each broker-level value was set, highest precedence first (for topic config sources). */
  get layers(): BrokerConfigLayer[] {
    return [
      { source: ConfigSource.DYNAMIC_BROKER_CONFIG, values: this.perBroker },
      { source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, values: this.defaults },
      { source: ConfigSource.STATIC_BROKER_CONFIG, values: this.staticConfig.values },
    ];
  }

  private get ownEntity(): string {
    return String(this.staticConfig.nodeId);
  }

  addReconfigurable(r: Reconfigurable): void {
    this.reconfigurables.push(r);
  }

  /** Reads the stored configs, applies them, and follows changes made elsewhere. */
  async start(): Promise<void> {
    await this.refresh();
    this.store.watch(() => void this.refresh().catch(() => undefined));
  }

  /** Reads the default and this broker's configs again and applies what changed; one at a time. */
  refresh(reloadListeners: ReadonlySet<string> = new Set()): Promise<void> {
    const run = this.chain.then(async () => {
      try {
        const [defaults, own] = await Promise.all([
          this.store.read(DEFAULT_ENTITY),
          this.store.read(this.ownEntity),
        ]);
        this.update(defaults.configs, own.configs, reloadListeners);
      } catch (err) {
        this.logger.warn(
          `reading dynamic broker configs failed, keeping the last ones: ${(err as Error).message}`,
        );
        throw err;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stored settings this version refuses (another version wrote them) are left out with an error logged, as Kafka does. */
  private usable(props: Readonly<Record<string, string>>, perBroker: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(props)) {
      try {
        validateDynamicConfigs({ [name]: value }, perBroker, this.listenerNames());
        out[name] = value;
      } catch (err) {
        this.logger.error(
          `dynamic ${perBroker ? 'broker' : 'default cluster'} config ${name} is ignored: ${(err as Error).message}`,
        );
      }
    }
    return out;
  }

  private listenerNames(): string[] {
    return this.staticConfig.listeners.map((l) => l.name);
  }

  /** The configuration the static settings make with these dynamic ones; ConfigError or INVALID_CONFIG. */
  private effectiveWith(
    defaults: Readonly<Record<string, string>>,
    perBroker: Readonly<Record<string, string>>,
  ) {
    const config = parseBrokerConfig(
      [
        { source: 'static broker config', values: this.staticConfig.values },
        { source: 'dynamic default broker config', values: defaults },
        { source: `dynamic config of broker ${this.staticConfig.nodeId}`, values: perBroker },
      ],
      brokerLevelLogKeys(),
    );
    TopicConfig.resolve({}, config.values);
    return config;
  }

  private update(
    storedDefaults: Readonly<Record<string, string>>,
    storedOwn: Readonly<Record<string, string>>,
    reloadListeners: ReadonlySet<string>,
  ): void {
    const defaults = this.usable(storedDefaults, false);
    const perBroker = this.usable(storedOwn, true);
    const same =
      JSON.stringify(defaults) === JSON.stringify(this.defaults) &&
      JSON.stringify(perBroker) === JSON.stringify(this.perBroker);
    if (same && reloadListeners.size === 0) return;
    let next: BrokerConfig;
    try {
      next = this.effectiveWith(defaults, perBroker);
    } catch (err) {
      this.logger.error(`dynamic broker configs could not be applied: ${(err as Error).message}`);
      return;
    }
    const previous = this.effective;
    this.defaults = defaults;
    this.perBroker = perBroker;
    this.effective = next;
    for (const r of this.reconfigurables) {
      try {
        r({ previous, next, reloadListeners });
      } catch (err) {
        this.logger.error(`applying dynamic broker configs failed: ${(err as Error).stack ?? err}`);
      }
    }
    if (!same)
      this.logger.log(
        `dynamic broker configs now: default ${redacted(defaults)}, broker ${this.staticConfig.nodeId} ${redacted(perBroker)}`,
      );
  }

  // ---- AlterConfigs and IncrementalAlterConfigs --------------------------------------------

  /**
   * Changes the stored configs of the default ('' resource) or of this broker, as Kafka's
   * ConfigAdminManager: legacy AlterConfigs replaces the whole set, IncrementalAlterConfigs
   * SETs, DELETEs, APPENDs or SUBTRACTs; the result is checked as a whole, stored with a
   * compare-and-set on its version and applied at once. KafkaProtocolErrors with Kafka's codes.
   */
  async alter(
    resourceName: string,
    alterations: readonly ConfigAlteration[],
    options: { incremental: boolean; validateOnly: boolean },
  ): Promise<void> {
    const entity = this.entityOf(resourceName, false);
    const perBroker = entity !== DEFAULT_ENTITY;
    const names = alterations.map((a) => a.name);
    if (new Set(names).size !== names.length) throw invalidRequest('Error due to duplicate config keys');
    const nulls = alterations
      .filter((a) => a.value === null && (!options.incremental || a.op !== AlterConfigOp.DELETE))
      .map((a) => a.name);
    if (nulls.length > 0) throw invalidRequest(`Null value not supported for : ${nulls.join(', ')}`);
    for (let attempt = 0; ; attempt++) {
      const stored = await this.store.read(entity);
      const next = options.incremental
        ? this.applyIncremental(this.usable(stored.configs, perBroker), alterations)
        : Object.fromEntries(alterations.map((a) => [a.name, a.value as string]));
      validateDynamicConfigs(next, perBroker, this.listenerNames());
      try {
        this.effectiveWith(perBroker ? this.defaults : next, perBroker ? next : this.perBroker);
      } catch (err) {
        throw invalidRequest(`Invalid dynamic configuration: ${withoutCode(err)}`);
      }
      if (options.validateOnly) return;
      try {
        await this.store.write(entity, stored.version, next);
        break;
      } catch (err) {
        // Another broker changed the same configs in between: apply ours to theirs.
        if (
          !(err instanceof KafkaProtocolError && err.code === ErrorCode.INVALID_UPDATE_VERSION) ||
          attempt >= 5
        )
          throw err;
      }
    }
    await this.refresh(this.listenersToReload(names));
  }

  /** Kafka's prepareIncrementalConfigs over the stored set. */
  private applyIncremental(
    current: Record<string, string>,
    alterations: readonly ConfigAlteration[],
  ): Record<string, string> {
    const next = { ...current };
    for (const a of alterations) {
      switch (a.op ?? AlterConfigOp.SET) {
        case AlterConfigOp.SET:
          next[a.name] = a.value as string;
          break;
        case AlterConfigOp.DELETE:
          delete next[a.name];
          break;
        case AlterConfigOp.APPEND:
        case AlterConfigOp.SUBTRACT: {
          const info = keyInfo(a.name);
          if (info === null)
            throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${a.name}`);
          const what = a.op === AlterConfigOp.APPEND ? 'append' : 'subtract';
          if (info.info.type !== ConfigType.LIST)
            throw new KafkaProtocolError(
              ErrorCode.INVALID_CONFIG,
              `Config value ${what} is not allowed for config key: ${a.name}`,
            );
          const old = (next[a.name] ?? info.info.default ?? '').split(',').filter((s) => s !== '');
          const items = (a.value as string).split(',');
          next[a.name] = (
            a.op === AlterConfigOp.APPEND
              ? [...old, ...items.filter((i) => !old.includes(i))]
              : old.filter((o) => !items.includes(o))
          ).join(',');
          break;
        }
        default:
          throw invalidRequest(`Unknown operations type ${a.op as number}`);
      }
    }
    return next;
  }

  /** Listeners whose TLS an update touched: named by prefix, or every one for a base ssl.* setting. */
  private listenersToReload(names: readonly string[]): Set<string> {
    const out = new Set<string>();
    for (const n of names) {
      const info = keyInfo(n);
      if (info === null || !LISTENER_TLS_KEYS.has(info.base)) continue;
      if (info.listener !== null) out.add(info.listener);
      else for (const l of this.listenerNames()) out.add(l);
    }
    return out;
  }

  /** The entity a BROKER resource names: '' (the default), or this broker's id. */
  private entityOf(resourceName: string, describing: boolean): string {
    if (resourceName === '') return DEFAULT_ENTITY;
    if (!/^-?\d+$/.test(resourceName))
      throw invalidRequest(
        `${describing ? 'Broker' : 'Node'} id must be an integer, but it is: ${resourceName}`,
      );
    const id = this.staticConfig.nodeId;
    if (Number(resourceName) !== id)
      throw invalidRequest(
        describing
          ? `Unexpected broker id, expected ${id} or empty string, but received ${resourceName}`
          : `Unexpected broker id, expected ${id}, but received ${resourceName}`,
      );
    return this.ownEntity;
  }

  // ---- DescribeConfigs ---------------------------------------------------------------------

  /**
   * DescribeConfigs of a BROKER resource, as Kafka's ConfigHelper: this broker's id lists
   * every setting with its effective value; the empty name lists the cluster-wide dynamic
   * defaults. A setting's source is its first synonym's (dynamic per-broker, dynamic default,
   * static, default); synonyms are sent only when asked for. Secrets never leave the broker.
   */
  describe(
    resourceName: string,
    names: readonly string[] | null,
    options: DescribeOptions,
  ): DescribedConfig[] {
    const perBroker = this.entityOf(resourceName, true) !== DEFAULT_ENTITY;
    const wanted = names === null || names.length === 0 ? null : new Set(names);
    const listed = perBroker
      ? [
          ...new Set([
            ...keys().keys(),
            ...Object.keys(this.staticConfig.values),
            ...Object.keys(this.defaults),
            ...Object.keys(this.perBroker),
          ]),
        ]
      : Object.keys(this.defaults);
    return listed
      .filter((name) => wanted === null || wanted.has(name))
      .map((name) => this.entry(name, perBroker, options));
  }

  private entry(name: string, perBroker: boolean, options: DescribeOptions): DescribedConfig {
    const info = keyInfo(name)?.info;
    const sensitive = isSensitiveKey(name) || info?.type === ConfigType.PASSWORD;
    const raw = perBroker ? (this.effective.values[name] ?? info?.default ?? null) : this.defaults[name];
    const synonyms = this.synonyms(name, sensitive).filter(
      (s) => perBroker || s.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
    );
    const configSource = synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
    return {
      name,
      value: sensitive ? null : raw,
      readOnly: (info?.mode ?? 'read-only') === 'read-only',
      isDefault: configSource === ConfigSource.DEFAULT_CONFIG,
      configSource,
      isSensitive: sensitive,
      synonyms: options.includeSynonyms ? synonyms : [],
      configType: info?.type ?? ConfigType.UNKNOWN,
      documentation: options.includeDocumentation ? (info?.doc ?? null) : null,
    };
  }

  /** Kafka's configSynonyms: each level in precedence order, each synonym within it, from the described name on. */
  private synonyms(name: string, sensitive: boolean): ConfigSynonym[] {
    const levels: [Readonly<Record<string, string>>, ConfigSource][] = [
      [this.perBroker, ConfigSource.DYNAMIC_BROKER_CONFIG],
      [this.defaults, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
      [this.staticConfig.values, ConfigSource.STATIC_BROKER_CONFIG],
      [this.defaultValues, ConfigSource.DEFAULT_CONFIG],
    ];
    const all: ConfigSynonym[] = [];
    for (const [values, source] of levels) {
      for (const s of brokerConfigSynonyms(name)) {
        const v = values[s];
        if (v !== undefined) all.push({ name: s, value: sensitive ? null : v, source });
      }
    }
    const first = all.findIndex((s) => s.name === name);
    return first < 0 ? [] : all.slice(first);
  }
}

/** Settings for a log line, secrets left out. */
function redacted(props: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(props).map(([k, v]) => [k, isSensitiveKey(k) ? '[hidden]' : v])),
  );
}
