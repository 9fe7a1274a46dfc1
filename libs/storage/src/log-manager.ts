import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { readFileIfExists, writeFileAtomicSync } from './atomic-file';
import { LogCleaner, type CleanerStats } from './log-cleaner';
import { consoleLogger, type StorageLogger } from './logger';
import { PartitionLog } from './partition-log';
import {
  ConfigType,
  isTopicConfig,
  logManagerFlag,
  logManagerSetting,
  TopicConfig,
  topicConfigType,
  type BrokerConfigLayer,
  type DescribedConfig,
} from './topic-config';

/** Topic names, ids, partition counts and config overrides, replaced atomically. */
export const TOPICS_FILE = 'topics.json';
const DELETE_SUFFIX = '-delete';
const MAX_TOPIC_NAME = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

export interface LogManagerOptions {
  readonly dataDir: string;
  /** Broker-level settings (log.retention.hours, log.segment.bytes, ...): the topics' defaults. */
  readonly brokerConfig?: Readonly<Record<string, string>>;
  /** Where each broker-level setting was set (DescribeConfigs' sources); all static when left out. */
  readonly brokerLayers?: readonly BrokerConfigLayer[];
  readonly logger?: StorageLogger;
  /** Overrides log.retention.check.interval.ms (default 300000). */
  readonly retentionCheckIntervalMs?: number;
  /** Overrides replica.high.watermark.checkpoint.interval.ms (default 5000). */
  readonly checkpointIntervalMs?: number;
  /** Overrides log.flush.scheduler.interval.ms: how often flush.ms is checked (default 1000). */
  readonly flushCheckIntervalMs?: number;
  /** Overrides log.cleaner.backoff.ms: how long the cleaner sleeps when nothing needs cleaning (default 15000). */
  readonly cleanerBackoffMs?: number;
  /** Overrides producer.id.expiration.check.interval.ms (default 600000). */
  readonly producerExpirationCheckIntervalMs?: number;
  /** See PartitionLogOptions.highWatermarkFollowsLogEnd; true by default. */
  readonly highWatermarkFollowsLogEnd?: boolean;
}

export interface TopicDescription {
  readonly name: string;
  /** 16-byte UUID in base64url, as the protocol's uuid fields carry it. */
  readonly topicId: string;
  readonly numPartitions: number;
  /** The topic's explicit overrides. */
  readonly configs: Readonly<Record<string, string>>;
}

/** IncrementalAlterConfigs' configOperation. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
export type AlterConfigOp = (typeof AlterConfigOp)[keyof typeof AlterConfigOp];

export interface ConfigAlteration {
  readonly name: string;
  /** SET when left out (legacy AlterConfigs). */
  readonly op?: AlterConfigOp;
  readonly value: string | null;
}

interface TopicState {
  readonly name: string;
  readonly topicId: string;
  numPartitions: number;
  configs: Record<string, string>;
  config: TopicConfig;
  /** The partitions this broker holds a replica of, by index: all of them on a lone broker. */
  partitions: Map<number, PartitionLog>;
}

interface TopicsFile {
  version: 1;
  topics: {
    name: string;
    topicId: string;
    numPartitions: number;
    configs: Record<string, string>;
    /** The partitions held here when not all of them (a broker of a replicated cluster). */
    hosted?: number[];
  }[];
}

/** A random (version 4) topic id in base64url, never starting with '-' as Kafka's never do. */
export function newTopicId(): string {
  for (;;) {
    const b = crypto.randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const id = b.toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Kafka's topic name rules. Throws INVALID_TOPIC_EXCEPTION with Kafka's messages. */
export function validateTopicName(name: string): void {
  const fail = (m: string) => new KafkaProtocolError(ErrorCode.INVALID_TOPIC_EXCEPTION, m);
  if (name.length === 0) throw fail("Topic name is illegal, it can't be empty");
  if (name === '.' || name === '..') throw fail('Topic name cannot be "." or ".."');
  if (name.length > MAX_TOPIC_NAME) {
    throw fail(
      `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME} characters, topic name: ${name}`,
    );
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
    throw fail(
      `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`,
    );
  }
}

/**
 * A topic's overrides after AlterConfigs (legacy: the alterations with a value become the
 * whole set) or IncrementalAlterConfigs (each alteration SETs, DELETEs, or for list configs
 * APPENDs / SUBTRACTs items of the current value). INVALID_CONFIG for an unknown key or
 * APPEND/SUBTRACT on a non-list; INVALID_REQUEST for a key given twice in an incremental
 * alteration (the legacy one keeps the last value, as Kafka). Values are checked
 * when the result is resolved.
 */
export function applyConfigAlterations(
  current: Readonly<Record<string, string>>,
  resolved: TopicConfig,
  alterations: readonly ConfigAlteration[],
  incremental: boolean,
): Record<string, string> {
  const seen = new Set<string>();
  for (const a of alterations) {
    // Kafka's legacy AlterConfigs keeps a repeated key's last value (librdkafka 0092 sends the
    // described set with one key changed); IncrementalAlterConfigs refuses a repeat.
    if (incremental && seen.has(a.name))
      throw KafkaProtocolError.invalidRequest(`config ${a.name} is given more than once`);
    seen.add(a.name);
    if (!isTopicConfig(a.name)) {
      throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${a.name}`);
    }
  }
  const next: Record<string, string> = incremental ? { ...current } : {};
  for (const a of alterations) {
    const op = incremental ? (a.op ?? AlterConfigOp.SET) : AlterConfigOp.SET;
    switch (op) {
      case AlterConfigOp.SET:
        if (a.value === null) {
          if (incremental) {
            throw new KafkaProtocolError(ErrorCode.INVALID_CONFIG, `Null value not supported for: ${a.name}`);
          }
        } else next[a.name] = a.value;
        break;
      case AlterConfigOp.DELETE:
        delete next[a.name];
        break;
      case AlterConfigOp.APPEND:
      case AlterConfigOp.SUBTRACT: {
        if (topicConfigType(a.name) !== ConfigType.LIST) {
          throw new KafkaProtocolError(
            ErrorCode.INVALID_CONFIG,
            `Config value ${op === AlterConfigOp.APPEND ? 'append' : 'subtract'} is not allowed for config key: ${a.name}`,
          );
        }
        const present = (next[a.name] ?? resolved.value(a.name) ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        const items = (a.value ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        const result =
          op === AlterConfigOp.APPEND
            ? [...present, ...items.filter((i) => !present.includes(i))]
            : present.filter((c) => !items.includes(c));
        next[a.name] = result.join(',');
        break;
      }
      default:
        throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, `unknown config operation ${op as number}`);
    }
  }
  return next;
}

/** Told once that the log dir went offline after an I/O error (Kafka's LogDirFailureChannel). */
export type LogDirFailureListener = (logDir: string, cause: Error) => void;

const unknownTopic = (name: string) =>
  new KafkaProtocolError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic "${name}" does not exist`);

/**
 * Every topic and partition log of one data directory, like Kafka's LogManager: loads (and
 * recovers) them at open, creates and deletes topics, keeps their metadata in topics.json,
 * and runs the background work: retention, log cleaning, flush.ms, checkpoints, producer id
 * expiration. Background passes never
 * throw: they log.
 *
 * An I/O error in any log (a full disk, a disk turned read-only, EIO) takes the whole log dir
 * offline, as Kafka does: every log refuses further work with KAFKA_STORAGE_ERROR and closes
 * its files, the background work stops, and the listeners are told. What is on disk is left
 * for the next open to recover, as after a crash.
 */
export class LogManager {
  readonly dataDir: string;
  private _brokerConfig: Readonly<Record<string, string>>;
  private brokerLayers: readonly BrokerConfigLayer[] | undefined;
  private readonly logger: StorageLogger;
  private readonly retentionCheckIntervalMs: number;
  private readonly checkpointIntervalMs: number;
  private readonly flushCheckIntervalMs: number;
  private readonly producerExpirationCheckIntervalMs: number;
  private producerIdExpirationMs: number;
  private readonly cleanerEnabled: boolean;
  private cleanerBackoffMs: number;
  private readonly cleaner: LogCleaner;
  private cleanerTimer: NodeJS.Timeout | null = null;
  private cleanerImmediate: NodeJS.Immediate | null = null;
  private readonly highWatermarkFollowsLogEnd: boolean;
  private readonly state = new Map<string, TopicState>();
  private timers: NodeJS.Timeout[] = [];
  private opened = false;
  private loaded = false;
  private closed = false;
  private failure: Error | null = null;
  private readonly failureListeners: LogDirFailureListener[] = [];

  /** Throws INVALID_CONFIG when a broker-level log setting is bad. */
  constructor(options: LogManagerOptions) {
    this.dataDir = options.dataDir;
    this._brokerConfig = { ...(options.brokerConfig ?? {}) };
    this.brokerLayers = options.brokerLayers;
    this.logger = options.logger ?? consoleLogger;
    this.retentionCheckIntervalMs =
      options.retentionCheckIntervalMs ??
      logManagerSetting(this._brokerConfig, 'log.retention.check.interval.ms');
    this.checkpointIntervalMs =
      options.checkpointIntervalMs ??
      logManagerSetting(this._brokerConfig, 'replica.high.watermark.checkpoint.interval.ms');
    this.flushCheckIntervalMs =
      options.flushCheckIntervalMs ??
      logManagerSetting(this._brokerConfig, 'log.flush.scheduler.interval.ms');
    this.producerExpirationCheckIntervalMs =
      options.producerExpirationCheckIntervalMs ??
      logManagerSetting(this._brokerConfig, 'producer.id.expiration.check.interval.ms');
    this.producerIdExpirationMs = logManagerSetting(this._brokerConfig, 'producer.id.expiration.ms');
    this.cleanerEnabled = logManagerFlag(this._brokerConfig, 'log.cleaner.enable');
    this.cleanerBackoffMs =
      options.cleanerBackoffMs ?? logManagerSetting(this._brokerConfig, 'log.cleaner.backoff.ms');
    this.cleaner = new LogCleaner({
      logs: () => this.allLogs(),
      logger: this.logger,
      dedupeBufferSize: logManagerSetting(this._brokerConfig, 'log.cleaner.dedupe.buffer.size'),
      ioBufferSize: logManagerSetting(this._brokerConfig, 'log.cleaner.io.buffer.size'),
    });
    this.highWatermarkFollowsLogEnd = options.highWatermarkFollowsLogEnd ?? true;
    TopicConfig.resolve({}, this._brokerConfig);
  }

  /** The broker-level settings topic configs fall back to. */
  get brokerConfig(): Readonly<Record<string, string>> {
    return this._brokerConfig;
  }

  /** A topic's configuration from its overrides and the current broker settings; INVALID_CONFIG. */
  resolveTopicConfig(overrides: Readonly<Record<string, string>>): TopicConfig {
    return TopicConfig.resolve(overrides, this._brokerConfig, this.brokerLayers);
  }

  /**
   * New broker-level settings at runtime (Kafka's dynamic broker configs): every topic's
   * configuration is resolved again and its logs take it at once, and the cleaner and
   * producer expiration follow their settings. Throws INVALID_CONFIG, changing nothing, when
   * a setting is bad or leaves a topic's configuration invalid.
   */
  reconfigure(brokerConfig: Readonly<Record<string, string>>, layers?: readonly BrokerConfigLayer[]): void {
    const next = { ...brokerConfig };
    const configs = new Map<TopicState, TopicConfig>();
    for (const topic of this.state.values()) {
      configs.set(topic, TopicConfig.resolve(topic.configs, next, layers));
    }
    const backoffMs = logManagerSetting(next, 'log.cleaner.backoff.ms');
    const dedupe = logManagerSetting(next, 'log.cleaner.dedupe.buffer.size');
    const io = logManagerSetting(next, 'log.cleaner.io.buffer.size');
    const expirationMs = logManagerSetting(next, 'producer.id.expiration.ms');
    // Settings given as options (tests) stay until the broker setting itself changes.
    const changed = (key: string) => next[key] !== this._brokerConfig[key];
    if (changed('producer.id.expiration.ms')) this.producerIdExpirationMs = expirationMs;
    if (changed('log.cleaner.dedupe.buffer.size') || changed('log.cleaner.io.buffer.size'))
      this.cleaner.resize(dedupe, io);
    if (changed('log.cleaner.backoff.ms')) {
      this.cleanerBackoffMs = backoffMs;
      if (this.cleanerTimer !== null && !this.closed) {
        clearTimeout(this.cleanerTimer);
        this.scheduleCleaner(backoffMs);
      }
    }
    this._brokerConfig = next;
    this.brokerLayers = layers;
    for (const [topic, config] of configs) {
      topic.config = config;
      for (const log of topic.partitions.values()) log.updateConfig(config);
    }
  }

  /** Loads every topic and its partitions (recovering after an unclean shutdown), then starts the timers. */
  open(): void {
    if (this.opened) throw new Error('LogManager is already open');
    this.opened = true;
    fs.mkdirSync(this.dataDir, { recursive: true });
    const file = path.join(this.dataDir, TOPICS_FILE);
    fs.rmSync(`${file}.tmp`, { force: true });
    const text = readFileIfExists(file);
    let saved: TopicsFile = { version: 1, topics: [] };
    if (text !== null) {
      try {
        saved = JSON.parse(text) as TopicsFile;
        if (!Array.isArray(saved.topics)) throw new Error('no topics array');
      } catch (err) {
        throw new KafkaProtocolError(ErrorCode.KAFKA_STORAGE_ERROR, `${file} is unreadable; not starting`, {
          cause: err,
        });
      }
    }
    const started = Date.now();
    try {
      for (const t of saved.topics) {
        const configs = this.loadableConfigs(t.name, t.configs ?? {});
        const config = TopicConfig.resolve(configs, this._brokerConfig, this.brokerLayers);
        const topic: TopicState = {
          name: t.name,
          topicId: t.topicId,
          numPartitions: t.numPartitions,
          configs,
          config,
          partitions: new Map(),
        };
        this.state.set(t.name, topic);
        const hosted = t.hosted ?? Array.from({ length: t.numPartitions }, (_, p) => p);
        for (const p of hosted) topic.partitions.set(p, this.openPartition(topic, p));
      }
    } catch (err) {
      this.closeLogs();
      throw err;
    }
    this.cleanDataDir();
    this.loaded = true;
    const partitions = [...this.state.values()].reduce((n, t) => n + t.partitions.size, 0);
    this.logger.log(
      `loaded ${this.state.size} topic(s), ${partitions} partition(s) from ${this.dataDir} in ${Date.now() - started} ms`,
    );
    this.startTimers();
  }

  /** Keeps the overrides this version still knows, warning about the rest rather than refusing to load. */
  private loadableConfigs(topic: string, configs: Record<string, string>): Record<string, string> {
    const kept: Record<string, string> = {};
    for (const [key, value] of Object.entries(configs)) {
      try {
        TopicConfig.resolve({ [key]: value }, this._brokerConfig);
        kept[key] = value;
      } catch (err) {
        this.logger.warn(`topic ${topic}: ignoring stored config ${key}=${value}: ${(err as Error).message}`);
      }
    }
    return kept;
  }

  private openPartition(topic: TopicState, partition: number): PartitionLog {
    return PartitionLog.open({
      dir: this.partitionDir(topic.name, partition),
      config: topic.config,
      name: `${topic.name}-${partition}`,
      logger: this.logger,
      highWatermarkFollowsLogEnd: this.highWatermarkFollowsLogEnd,
      onIoError: (cause) => this.handleLogDirFailure(cause),
    });
  }

  /** Whether the log dir works: false once an I/O error took it offline, until a restart. */
  get isOnline(): boolean {
    return this.failure === null;
  }

  /** The I/O error that took the log dir offline, or null. */
  get offlineCause(): Error | null {
    return this.failure;
  }

  onLogDirFailure(listener: LogDirFailureListener): void {
    this.failureListeners.push(listener);
  }

  /**
   * Takes the log dir offline (Kafka's LogManager.handleLogDirFailure): every log stops and
   * closes its files, the timers stop, and the listeners hear of it outside the failing call.
   * A failure while opening is left to open's caller.
   */
  private handleLogDirFailure(cause: Error): void {
    if (!this.loaded || this.closed || this.failure !== null) return;
    this.failure = cause;
    this.logger.error(`log dir ${this.dataDir} is offline after an I/O error: ${cause.message}`);
    this.stopBackgroundWork();
    for (const log of this.allLogs()) log.markOffline(cause);
    setImmediate(() => {
      for (const listener of this.failureListeners) {
        try {
          listener(this.dataDir, cause);
        } catch (err) {
          this.logger.error(`log dir failure listener: ${(err as Error).stack ?? err}`);
        }
      }
    });
  }

  private partitionDir(topic: string, partition: number): string {
    return path.join(this.dataDir, `${topic}-${partition}`);
  }

  /** Finishes deletions a crash interrupted and reports partition directories no topic owns. */
  private cleanDataDir(): void {
    for (const entry of fs.readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(this.dataDir, entry.name);
      if (entry.name.endsWith(DELETE_SUFFIX)) {
        this.removeInBackground(full);
        continue;
      }
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (m === null) continue;
      const topic = this.state.get(m[1]);
      if (topic === undefined || !topic.partitions.has(Number(m[2]))) {
        this.logger.warn(`${full} belongs to no known topic; left as it is`);
      }
    }
  }

  private removeInBackground(dir: string): void {
    fs.promises
      .rm(dir, { recursive: true, force: true })
      .catch((err: Error) => this.logger.error(`could not remove ${dir}: ${err.message}`));
  }

  private startTimers(): void {
    const every = (ms: number, task: () => void) => {
      const t = setInterval(task, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.retentionCheckIntervalMs, () => this.runRetention());
    every(this.checkpointIntervalMs, () => this.checkpointAll());
    every(this.flushCheckIntervalMs, () => this.flushDueLogs());
    every(this.producerExpirationCheckIntervalMs, () => this.removeExpiredProducers());
    if (this.cleanerEnabled) this.scheduleCleaner(this.cleanerBackoffMs);
  }

  private *allLogs(): Generator<PartitionLog> {
    for (const topic of this.state.values()) yield* topic.partitions.values();
  }

  private scheduleCleaner(delayMs: number): void {
    this.cleanerTimer = setTimeout(() => this.cleanerTick(), delayMs);
    this.cleanerTimer.unref();
  }

  /**
   * The cleaner runs one bounded step (at most log.cleaner.io.buffer.size bytes of log) per
   * turn of the event loop, so requests are served between steps; with nothing to clean it
   * sleeps log.cleaner.backoff.ms.
   */
  private cleanerTick(): void {
    this.cleanerTimer = this.cleanerImmediate = null;
    if (this.closed || this.failure !== null) return;
    let more = false;
    try {
      more = this.cleaner.step().more;
    } catch (err) {
      this.logger.error(`log cleaner: ${(err as Error).stack ?? err}`);
    }
    if (this.failure !== null) return;
    if (more) {
      this.cleanerImmediate = setImmediate(() => this.cleanerTick());
      this.cleanerImmediate.unref();
    } else this.scheduleCleaner(this.cleanerBackoffMs);
  }

  /** Cleans every compacted log that needs it, now and in one go (tests and tools; the timer works in steps). */
  runCleaner(now = Date.now()): CleanerStats[] {
    return this.cleaner.cleanUntilIdle(now);
  }

  /** Applies `task` to every log, logging (never throwing) what fails. */
  private forEachLog(what: string, task: (log: PartitionLog) => void): void {
    if (this.failure !== null) return;
    for (const topic of this.state.values()) {
      for (const log of topic.partitions.values()) {
        try {
          task(log);
        } catch (err) {
          this.logger.error(`${what} of ${log.name} failed: ${(err as Error).message}`);
        }
      }
    }
  }

  /** One retention pass over every log (the background timer's work). Returns segments deleted. */
  runRetention(now = Date.now()): number {
    let deleted = 0;
    this.forEachLog('retention', (log) => {
      deleted += log.deleteOldSegments(now);
    });
    return deleted;
  }

  /** Persists every log's offsets that changed (the background timer's work). */
  checkpointAll(): void {
    this.forEachLog('checkpoint', (log) => log.checkpoint());
  }

  /** Forgets idle idempotent producers (producer.id.expiration.ms); returns how many. */
  removeExpiredProducers(now = Date.now()): number {
    let removed = 0;
    this.forEachLog('producer expiration', (log) => {
      removed += log.removeExpiredProducers(now, this.producerIdExpirationMs);
    });
    return removed;
  }

  private flushDueLogs(): void {
    const now = Date.now();
    this.forEachLog('flush', (log) => log.flushIfDue(now));
  }

  // ---- topics --------------------------------------------------------------------------

  private ensureOpen(): void {
    if (!this.opened || this.closed) {
      throw new KafkaProtocolError(ErrorCode.KAFKA_STORAGE_ERROR, 'the log manager is not open');
    }
    if (this.failure !== null) {
      throw new KafkaProtocolError(
        ErrorCode.KAFKA_STORAGE_ERROR,
        `log dir ${this.dataDir} is offline after an I/O error: ${this.failure.message}`,
        { cause: this.failure },
      );
    }
  }

  private describe(t: TopicState): TopicDescription {
    return { name: t.name, topicId: t.topicId, numPartitions: t.numPartitions, configs: { ...t.configs } };
  }

  topics(): TopicDescription[] {
    return [...this.state.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((t) => this.describe(t));
  }

  topic(name: string): TopicDescription | undefined {
    const t = this.state.get(name);
    return t === undefined ? undefined : this.describe(t);
  }

  /** The topic's effective configuration, or undefined. */
  topicConfig(name: string): TopicConfig | undefined {
    return this.state.get(name)?.config;
  }

  /** DescribeConfigs for a topic; UNKNOWN_TOPIC_OR_PARTITION when there is none. */
  describeTopicConfigs(
    name: string,
    keys?: readonly string[] | null,
    options?: { includeSynonyms?: boolean; includeDocumentation?: boolean },
  ): DescribedConfig[] {
    const t = this.state.get(name);
    if (t === undefined) throw unknownTopic(name);
    return t.config.describe(keys, options);
  }

  partition(topic: string, index: number): PartitionLog | undefined {
    return this.state.get(topic)?.partitions.get(index);
  }

  /** The logs of a topic held here, by partition index; empty for an unknown topic. */
  partitions(topic: string): ReadonlyMap<number, PartitionLog> {
    return this.state.get(topic)?.partitions ?? new Map();
  }

  /**
   * Everything createTopic checks, without creating: the name (INVALID_TOPIC_EXCEPTION, also
   * for a name that collides with another once '.' and '_' are confused, as metric names do),
   * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_CONFIG. Returns the resolved config.
   */
  validateNewTopic(
    name: string,
    numPartitions: number,
    configs: Readonly<Record<string, string>> = {},
  ): TopicConfig {
    validateTopicName(name);
    if (this.state.has(name)) {
      throw new KafkaProtocolError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    }
    const collisionKey = name.replace(/\./g, '_');
    for (const other of this.state.keys()) {
      if (other.replace(/\./g, '_') === collisionKey) {
        throw new KafkaProtocolError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${name}' collides with existing topic: ${other}`,
        );
      }
    }
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_PARTITIONS,
        `Number of partitions must be larger than 0, got ${numPartitions}.`,
      );
    }
    return TopicConfig.resolve(configs, this._brokerConfig, this.brokerLayers);
  }

  /**
   * Creates a topic and its partition logs (all of them, or the `hosted` ones: the replicas a
   * broker of a replicated cluster holds); its metadata is persisted last, as the commit.
   */
  createTopic(
    name: string,
    numPartitions: number,
    configs: Readonly<Record<string, string>> = {},
    topicId?: string,
    hosted?: readonly number[],
  ): TopicDescription {
    this.ensureOpen();
    const config = this.validateNewTopic(name, numPartitions, configs);
    if (topicId !== undefined && Buffer.from(topicId, 'base64url').length !== 16) {
      throw KafkaProtocolError.invalidRequest(`topic id "${topicId}" is not a 16-byte base64url UUID`);
    }
    const topic: TopicState = {
      name,
      topicId: topicId ?? newTopicId(),
      numPartitions,
      configs: { ...configs },
      config,
      partitions: new Map(),
    };
    try {
      for (const p of hosted ?? Array.from({ length: numPartitions }, (_, i) => i)) {
        if (!Number.isInteger(p) || p < 0 || p >= numPartitions) {
          throw KafkaProtocolError.invalidRequest(`partition ${p} is not one of ${name}'s ${numPartitions}`);
        }
        topic.partitions.set(p, this.openFreshPartition(topic, p));
      }
      this.state.set(name, topic);
      this.persist();
    } catch (err) {
      this.state.delete(name);
      for (const log of topic.partitions.values()) {
        log.closeForDeletion();
        fs.rmSync(log.dir, { recursive: true, force: true });
      }
      throw this.storageError(`creating topic ${name}`, err);
    }
    this.logger.log(`created topic ${name} with ${numPartitions} partition(s)`);
    return this.describe(topic);
  }

  /** A new partition's directory must be empty: a leftover from a crash before its topic was committed goes. */
  private openFreshPartition(topic: TopicState, partition: number): PartitionLog {
    const dir = this.partitionDir(topic.name, partition);
    if (fs.existsSync(dir)) {
      this.logger.warn(`removing stale ${dir} before creating ${topic.name}-${partition}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return this.openPartition(topic, partition);
  }

  /**
   * Deletes a topic: its metadata first (the commit), then its logs are closed, their
   * directories renamed aside and removed in the background. UNKNOWN_TOPIC_OR_PARTITION.
   */
  deleteTopic(name: string): void {
    this.ensureOpen();
    const topic = this.state.get(name);
    if (topic === undefined) throw unknownTopic(name);
    this.state.delete(name);
    try {
      this.persist();
    } catch (err) {
      this.state.set(name, topic);
      throw this.storageError(`deleting topic ${name}`, err);
    }
    const stamp = `${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`;
    topic.partitions.forEach((log, partition) => this.removeLogDir(name, partition, log, stamp));
    this.logger.log(`deleted topic ${name}`);
  }

  /** Closes a deleted log and moves its directory aside, to be removed in the background. */
  private removeLogDir(name: string, partition: number, log: PartitionLog, stamp: string): void {
    log.closeForDeletion();
    // Kafka's "<topic>-<partition>.<id>-delete", the topic cut to stay within 255 bytes.
    const aside = path.join(this.dataDir, `${name.slice(0, 200)}-${partition}.${stamp}${DELETE_SUFFIX}`);
    try {
      fs.renameSync(log.dir, aside);
      this.removeInBackground(aside);
    } catch (err) {
      this.logger.error(`could not move ${log.dir} aside for deletion: ${(err as Error).message}`);
    }
  }

  /**
   * Starts holding a replica of an existing topic's partition (a broker of a replicated
   * cluster that was assigned it): a fresh, empty log, filled by replication.
   */
  addPartition(name: string, partition: number): PartitionLog {
    this.ensureOpen();
    const topic = this.state.get(name);
    if (topic === undefined) throw unknownTopic(name);
    const existing = topic.partitions.get(partition);
    if (existing !== undefined) return existing;
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.numPartitions) {
      throw new KafkaProtocolError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        `${name} has no partition ${partition}`,
      );
    }
    const log = this.openFreshPartition(topic, partition);
    topic.partitions.set(partition, log);
    try {
      this.persist();
    } catch (err) {
      topic.partitions.delete(partition);
      log.closeForDeletion();
      fs.rmSync(log.dir, { recursive: true, force: true });
      throw this.storageError(`adding ${name}-${partition}`, err);
    }
    this.logger.log(`now holding a replica of ${name}-${partition}`);
    return log;
  }

  /**
   * Stops holding a replica of a partition (it was moved to other brokers): the log is closed
   * and deleted; the topic stays while this broker holds another of its partitions.
   */
  removePartition(name: string, partition: number): void {
    this.ensureOpen();
    const topic = this.state.get(name);
    const log = topic?.partitions.get(partition);
    if (topic === undefined || log === undefined) return;
    if (topic.partitions.size === 1) {
      this.deleteTopic(name);
      return;
    }
    topic.partitions.delete(partition);
    try {
      this.persist();
    } catch (err) {
      topic.partitions.set(partition, log);
      throw this.storageError(`removing ${name}-${partition}`, err);
    }
    this.removeLogDir(
      name,
      partition,
      log,
      `${Date.now().toString(36)}${crypto.randomBytes(4).toString('hex')}`,
    );
    this.logger.log(`deleted the replica of ${name}-${partition}`);
  }

  /** Grows a topic to `totalCount` partitions; INVALID_PARTITIONS unless that is more than now. */
  createPartitions(
    name: string,
    totalCount: number,
    options: { validateOnly?: boolean; hosted?: readonly number[] } = {},
  ): TopicDescription {
    this.ensureOpen();
    const topic = this.state.get(name);
    if (topic === undefined) throw unknownTopic(name);
    if (!Number.isInteger(totalCount) || totalCount <= topic.numPartitions) {
      throw new KafkaProtocolError(
        ErrorCode.INVALID_PARTITIONS,
        totalCount === topic.numPartitions
          ? `Topic already has ${topic.numPartitions} partitions.`
          : `Topic currently has ${topic.numPartitions} partitions, which is higher than the requested ${totalCount}.`,
      );
    }
    if (options.validateOnly) return this.describe(topic);
    const before = topic.numPartitions;
    const added = (
      options.hosted ?? Array.from({ length: totalCount - before }, (_, i) => before + i)
    ).filter((p) => p >= before && p < totalCount);
    try {
      for (const p of added) topic.partitions.set(p, this.openFreshPartition(topic, p));
      topic.numPartitions = totalCount;
      this.persist();
    } catch (err) {
      for (const p of added) {
        const log = topic.partitions.get(p);
        if (log === undefined) continue;
        topic.partitions.delete(p);
        log.closeForDeletion();
        fs.rmSync(log.dir, { recursive: true, force: true });
      }
      topic.numPartitions = before;
      throw this.storageError(`adding partitions to ${name}`, err);
    }
    this.logger.log(`topic ${name} now has ${totalCount} partitions`);
    return this.describe(topic);
  }

  /**
   * Changes a topic's overrides. incremental (IncrementalAlterConfigs): each alteration SETs,
   * DELETEs, or for list configs APPENDs / SUBTRACTs items of the current value. Not
   * incremental (legacy AlterConfigs): the alterations with a value become the whole set of
   * overrides. INVALID_CONFIG for an unknown key, a bad value or APPEND/SUBTRACT on a non-list;
   * INVALID_REQUEST for a key given twice. The logs take the new config at once.
   */
  alterTopicConfigs(
    name: string,
    alterations: readonly ConfigAlteration[],
    options: { incremental: boolean; validateOnly?: boolean },
  ): TopicDescription {
    this.ensureOpen();
    const topic = this.state.get(name);
    if (topic === undefined) throw unknownTopic(name);
    const next = applyConfigAlterations(topic.configs, topic.config, alterations, options.incremental);
    const config = TopicConfig.resolve(next, this._brokerConfig, this.brokerLayers);
    if (options.validateOnly) return { ...this.describe(topic), configs: next };
    const previous = topic.configs;
    const previousConfig = topic.config;
    topic.configs = next;
    topic.config = config;
    try {
      this.persist();
    } catch (err) {
      topic.configs = previous;
      topic.config = previousConfig;
      throw this.storageError(`altering configs of ${name}`, err);
    }
    for (const log of topic.partitions.values()) log.updateConfig(config);
    this.logger.log(`topic ${name} configs are now ${JSON.stringify(next)}`);
    return this.describe(topic);
  }

  private persist(): void {
    const file: TopicsFile = {
      version: 1,
      topics: [...this.state.values()].map((t) => ({
        name: t.name,
        topicId: t.topicId,
        numPartitions: t.numPartitions,
        configs: t.configs,
        ...(t.partitions.size === t.numPartitions
          ? {}
          : { hosted: [...t.partitions.keys()].sort((a, b) => a - b) }),
      })),
    };
    writeFileAtomicSync(path.join(this.dataDir, TOPICS_FILE), JSON.stringify(file, null, 2) + '\n');
  }

  /** An error of a topic operation: anything but a KafkaProtocolError is the disk's, which takes the dir offline. */
  private storageError(what: string, err: unknown): KafkaProtocolError {
    if (err instanceof KafkaProtocolError) return err;
    this.logger.error(`${what} failed: ${(err as Error).stack ?? err}`);
    this.handleLogDirFailure(err as Error);
    return new KafkaProtocolError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `${what} failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }

  /** Stops the timers, then flushes and closes every log with its clean-shutdown marker. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopBackgroundWork();
    const failure = this.closeLogs();
    if (failure !== null) throw this.storageError('closing the logs', failure);
  }

  private stopBackgroundWork(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.cleanerTimer !== null) clearTimeout(this.cleanerTimer);
    if (this.cleanerImmediate !== null) clearImmediate(this.cleanerImmediate);
    this.cleanerTimer = this.cleanerImmediate = null;
    this.cleaner.abort();
  }

  /** Closes every log even when some fail; returns the first failure. */
  private closeLogs(): unknown {
    let first: unknown = null;
    for (const topic of this.state.values()) {
      for (const log of topic.partitions.values()) {
        try {
          log.close();
        } catch (err) {
          this.logger.error(`closing ${log.name} failed: ${(err as Error).message}`);
          first ??= err;
        }
      }
    }
    return first;
  }
}
