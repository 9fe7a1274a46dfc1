import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import {
  brokerLevelLogKeys,
  ConfigSource,
  ConfigType,
  TopicConfig,
  validateTopicConfigs,
} from './topic-config';

const invalidConfig = (message: string) => (err: unknown) => {
  assert.ok(err instanceof KafkaProtocolError);
  assert.equal(err.code, ErrorCode.INVALID_CONFIG);
  assert.equal(err.message, `INVALID_CONFIG: ${message}`);
  return true;
};

test("Kafka's defaults", () => {
  const c = TopicConfig.resolve();
  assert.equal(c.retentionMs, 604_800_000);
  assert.equal(c.retentionBytes, -1);
  assert.equal(c.segmentBytes, 1_073_741_824);
  assert.equal(c.segmentMs, 604_800_000);
  assert.equal(c.indexIntervalBytes, 4096);
  assert.equal(c.segmentIndexBytes, 10_485_760);
  assert.equal(c.maxMessageBytes, 1_048_588);
  assert.equal(c.minInsyncReplicas, 1);
  assert.equal(c.messageTimestampType, 'CreateTime');
  assert.deepEqual(c.cleanupPolicy, ['delete']);
  assert.equal(c.value('flush.messages'), '9223372036854775807');
  assert.ok(c.flushMessages > Number.MAX_SAFE_INTEGER && c.flushMs > Number.MAX_SAFE_INTEGER);
  assert.equal(c.value('compression.type'), 'producer');
  assert.equal(c.uncleanLeaderElectionEnable, false);
});

test('broker-level keys set the defaults, with Kafka precedence and units', () => {
  assert.equal(TopicConfig.resolve({}, { 'log.retention.hours': '24' }).retentionMs, 86_400_000);
  assert.equal(
    TopicConfig.resolve({}, { 'log.retention.minutes': '5', 'log.retention.hours': '24' }).retentionMs,
    300_000,
  );
  assert.equal(
    TopicConfig.resolve({}, { 'log.retention.ms': '1000', 'log.retention.minutes': '5' }).retentionMs,
    1000,
  );
  assert.equal(TopicConfig.resolve({}, { 'log.retention.hours': '-1' }).retentionMs, -1);
  assert.equal(TopicConfig.resolve({}, { 'log.roll.hours': '1' }).segmentMs, 3_600_000);
  assert.equal(TopicConfig.resolve({}, { 'log.segment.bytes': '2048' }).segmentBytes, 2048);
  assert.equal(TopicConfig.resolve({}, { 'message.max.bytes': '500' }).maxMessageBytes, 500);
  assert.equal(TopicConfig.resolve({}, { 'log.flush.interval.messages': '1' }).flushMessages, 1);
  assert.deepEqual(TopicConfig.resolve({}, { 'log.cleanup.policy': 'compact' }).cleanupPolicy, ['compact']);
  // A topic override wins over the broker.
  const c = TopicConfig.resolve({ 'retention.ms': '5' }, { 'log.retention.hours': '24' });
  assert.equal(c.retentionMs, 5);
});

test('bad values are INVALID_CONFIG naming the key and the value', () => {
  assert.throws(
    () => TopicConfig.resolve({ 'retention.ms': 'abc' }),
    invalidConfig('Invalid value abc for configuration retention.ms: Not a number of type LONG'),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'retention.ms': '-2' }),
    invalidConfig('Invalid value -2 for configuration retention.ms: Value must be at least -1'),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'segment.bytes': '10' }),
    invalidConfig('Invalid value 10 for configuration segment.bytes: Value must be at least 14'),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'segment.bytes': '3000000000' }),
    invalidConfig('Invalid value 3000000000 for configuration segment.bytes: Not a number of type INT'),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'cleanup.policy': 'delete,forever' }),
    invalidConfig(
      'Invalid value delete,forever for configuration cleanup.policy: String must be one of: compact, delete',
    ),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'message.timestamp.type': 'Now' }),
    invalidConfig(
      'Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime',
    ),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'unclean.leader.election.enable': 'yes' }),
    invalidConfig(
      'Invalid value yes for configuration unclean.leader.election.enable: Expected value to be either true or false',
    ),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'min.cleanable.dirty.ratio': '1.5' }),
    invalidConfig(
      'Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1',
    ),
  );
  assert.throws(
    () => validateTopicConfigs({ 'retention.days': '1' }),
    invalidConfig('Unknown topic config name: retention.days'),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.INVALID_CONFIG,
  );
  // A bad broker setting names the broker key.
  assert.throws(
    () => TopicConfig.resolve({}, { 'log.roll.hours': '0' }),
    invalidConfig('Invalid value 0 for configuration log.roll.hours: Value must be at least 1'),
  );
  assert.equal(
    TopicConfig.resolve({ 'flush.messages': '9223372036854775807' }).value('flush.messages'),
    '9223372036854775807',
  );
  assert.throws(
    () => TopicConfig.resolve({ 'flush.messages': '9223372036854775808' }),
    invalidConfig(
      'Invalid value 9223372036854775808 for configuration flush.messages: Not a number of type LONG',
    ),
  );
});

test('brokerLevelLogKeys validates the broker keys that set topic defaults', () => {
  const keys = brokerLevelLogKeys();
  for (const k of [
    'log.retention.hours',
    'log.retention.ms',
    'log.segment.bytes',
    'log.cleanup.policy',
    'message.max.bytes',
    'log.retention.check.interval.ms',
  ]) {
    assert.ok(keys.has(k), k);
  }
  keys.get('log.retention.hours')!('168');
  assert.throws(() => keys.get('log.retention.hours')!('1.5'), /Not a number of type INT/);
  assert.throws(() => keys.get('log.segment.bytes')!('1'), /log.segment.bytes: Value must be at least 14/);
  assert.throws(() => keys.get('log.retention.check.interval.ms')!('0'), /at least 1/);
});

test('describe: value, source, isDefault, synonyms in precedence order, type and documentation', () => {
  const c = TopicConfig.resolve(
    { 'retention.ms': '1000' },
    { 'log.retention.hours': '24', 'log.segment.bytes': '4096' },
  );
  const all = c.describe();
  assert.ok(all.length >= 25);
  assert.ok(
    all.every((d) => !d.readOnly && !d.isSensitive && d.synonyms.length === 0 && d.documentation === null),
  );

  const [retention] = c.describe(['retention.ms'], { includeSynonyms: true, includeDocumentation: true });
  assert.equal(retention.value, '1000');
  assert.equal(retention.configSource, ConfigSource.DYNAMIC_TOPIC_CONFIG);
  assert.equal(retention.isDefault, false);
  assert.equal(retention.configType, ConfigType.LONG);
  assert.ok(retention.documentation!.length > 0);
  // Kafka lists the broker entries from the first named log.retention.ms on: none here.
  assert.deepEqual(retention.synonyms, [
    { name: 'retention.ms', value: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
  ]);
  const withMs = TopicConfig.resolve({}, { 'log.retention.ms': '5000', 'log.retention.hours': '24' });
  assert.deepEqual(withMs.describe(['retention.ms'], { includeSynonyms: true })[0].synonyms, [
    { name: 'log.retention.ms', value: '5000', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
  ]);

  // In the table's (alphabetical) order, whatever the order asked.
  const [policy, segment] = c.describe(['segment.bytes', 'cleanup.policy', 'no.such.key'], {
    includeSynonyms: true,
  });
  assert.equal(segment.name, 'segment.bytes');
  assert.equal(segment.value, '4096');
  assert.equal(segment.configSource, ConfigSource.STATIC_BROKER_CONFIG);
  assert.equal(segment.configType, ConfigType.INT);
  assert.equal(policy.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.equal(policy.isDefault, true);
  assert.equal(policy.configType, ConfigType.LIST);
  assert.deepEqual(policy.synonyms, [
    { name: 'log.cleanup.policy', value: 'delete', source: ConfigSource.DEFAULT_CONFIG },
  ]);
  assert.equal(c.describe(['no.such.key']).length, 0);
});

/** Kafka 3.9's topic configs (LogConfig) with their defaults, as its DescribeConfigs lists them. */
const KAFKA_3_9_TOPIC_CONFIGS: Record<string, string> = {
  'cleanup.policy': 'delete',
  'compression.gzip.level': '-1',
  'compression.lz4.level': '9',
  'compression.type': 'producer',
  'compression.zstd.level': '3',
  'delete.retention.ms': '86400000',
  'file.delete.delay.ms': '60000',
  'flush.messages': '9223372036854775807',
  'flush.ms': '9223372036854775807',
  'follower.replication.throttled.replicas': '',
  'index.interval.bytes': '4096',
  'leader.replication.throttled.replicas': '',
  'local.retention.bytes': '-2',
  'local.retention.ms': '-2',
  'max.compaction.lag.ms': '9223372036854775807',
  'max.message.bytes': '1048588',
  'message.downconversion.enable': 'true',
  'message.format.version': '3.0-IV1',
  'message.timestamp.after.max.ms': '9223372036854775807',
  'message.timestamp.before.max.ms': '9223372036854775807',
  'message.timestamp.difference.max.ms': '9223372036854775807',
  'message.timestamp.type': 'CreateTime',
  'min.cleanable.dirty.ratio': '0.5',
  'min.compaction.lag.ms': '0',
  'min.insync.replicas': '1',
  preallocate: 'false',
  'remote.log.copy.disable': 'false',
  'remote.log.delete.on.disable': 'false',
  'remote.storage.enable': 'false',
  'retention.bytes': '-1',
  'retention.ms': '604800000',
  'segment.bytes': '1073741824',
  'segment.index.bytes': '10485760',
  'segment.jitter.ms': '0',
  'segment.ms': '604800000',
  'unclean.leader.election.enable': 'false',
};

test("every topic config of Kafka 3.9 is known and described with Kafka's default", () => {
  const described = new Map(
    TopicConfig.resolve()
      .describe()
      .map((d) => [d.name, d]),
  );
  for (const [name, dflt] of Object.entries(KAFKA_3_9_TOPIC_CONFIGS)) {
    const d = described.get(name);
    assert.ok(d !== undefined, `${name} is described`);
    assert.equal(d.value, dflt, name);
    assert.equal(d.configSource, ConfigSource.DEFAULT_CONFIG, name);
  }
  const ours = [...described.keys()].filter((n) => !(n in KAFKA_3_9_TOPIC_CONFIGS));
  assert.deepEqual(ours, ['tributary.mirror.of', 'tributary.mirror.path'], 'only our own keys besides');
  // Overriding each with its default is accepted (librdkafka's AlterConfigs tests write back what they read).
  TopicConfig.resolve(KAFKA_3_9_TOPIC_CONFIGS);
});

test('configs kept for compatibility are validated as Kafka validates them', () => {
  for (const v of [
    '0.10.0.0',
    '0.10.0',
    '0.10.0-IV1',
    '0.8.2.2',
    '2.8',
    '2.8.1',
    '3.0-IV1',
    '3.9',
    '3.9-IV0',
  ]) {
    assert.equal(TopicConfig.resolve({ 'message.format.version': v }).value('message.format.version'), v);
  }
  for (const v of ['0.7', 'foo', '0.10', '3.10', '4.0', '']) {
    assert.throws(
      () => TopicConfig.resolve({ 'message.format.version': v }),
      invalidConfig(
        `Invalid value ${v} for configuration message.format.version: Version ${v} is not a valid version`,
      ),
      v,
    );
  }
  TopicConfig.resolve({
    'compression.gzip.level': '9',
    'compression.lz4.level': '1',
    'compression.zstd.level': '-131072',
  });
  assert.throws(
    () => TopicConfig.resolve({ 'compression.gzip.level': '0' }),
    invalidConfig(
      'Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1',
    ),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'compression.lz4.level': '18' }),
    invalidConfig('Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17'),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'compression.zstd.level': '23' }),
    invalidConfig('Invalid value 23 for configuration compression.zstd.level: Value must be no more than 22'),
  );
  TopicConfig.resolve({ 'local.retention.ms': '-2', 'local.retention.bytes': '1000' });
  assert.throws(
    () => TopicConfig.resolve({ 'local.retention.ms': '-3' }),
    invalidConfig('Invalid value -3 for configuration local.retention.ms: Value must be at least -2'),
  );
  TopicConfig.resolve({
    'leader.replication.throttled.replicas': '0:1, 1:2',
    'follower.replication.throttled.replicas': '*',
  });
  assert.throws(
    () => TopicConfig.resolve({ 'leader.replication.throttled.replicas': '0:1,all' }),
    invalidConfig(
      "Invalid value 0:1,all for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...",
    ),
  );
  TopicConfig.resolve({
    'remote.storage.enable': 'false',
    'remote.log.copy.disable': 'true',
    'remote.log.delete.on.disable': 'true',
  });
  assert.throws(
    () => TopicConfig.resolve({ 'remote.storage.enable': 'true' }),
    invalidConfig(
      'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
    ),
  );
  assert.throws(
    () => TopicConfig.resolve({ 'message.format.versions': '3.0' }),
    invalidConfig('Unknown topic config name: message.format.versions'),
  );
  // Their broker-level keys set the topic defaults, like every other.
  const keys = brokerLevelLogKeys();
  assert.throws(() => keys.get('log.message.format.version')!('0.7'), /Version 0.7 is not a valid version/);
  assert.equal(
    TopicConfig.resolve({}, { 'log.local.retention.ms': '1000' }).value('local.retention.ms'),
    '1000',
  );
});

test("synonyms only when asked, in Kafka's order, none for configs without a server default", () => {
  const c = TopicConfig.resolve(
    { 'message.format.version': '0.10.0.0', 'retention.ms': '1000' },
    { 'log.retention.ms': '2000', 'log.retention.hours': '24' },
  );
  assert.ok(c.describe().every((d) => d.synonyms.length === 0));
  assert.ok(c.describe(null, { includeSynonyms: false }).every((d) => d.synonyms.length === 0));

  const byName = new Map(c.describe(null, { includeSynonyms: true }).map((d) => [d.name, d]));
  assert.deepEqual(byName.get('retention.ms')!.synonyms, [
    { name: 'retention.ms', value: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
    { name: 'log.retention.ms', value: '2000', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '24', source: ConfigSource.STATIC_BROKER_CONFIG },
    { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
  ]);
  const format = byName.get('message.format.version')!;
  assert.equal(format.value, '0.10.0.0');
  assert.equal(format.configSource, ConfigSource.DYNAMIC_TOPIC_CONFIG);
  assert.deepEqual(format.synonyms, [
    { name: 'message.format.version', value: '0.10.0.0', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
    { name: 'log.message.format.version', value: '3.0-IV1', source: ConfigSource.DEFAULT_CONFIG },
  ]);
  for (const name of [
    'remote.storage.enable',
    'leader.replication.throttled.replicas',
    'tributary.mirror.of',
  ]) {
    assert.deepEqual(byName.get(name)!.synonyms, [], name);
    assert.equal(byName.get(name)!.configSource, ConfigSource.DEFAULT_CONFIG, name);
  }
  const [remote] = c
    .withOverrides({ 'remote.storage.enable': 'false' })
    .describe(['remote.storage.enable'], { includeSynonyms: true });
  assert.deepEqual(remote.synonyms, [
    { name: 'remote.storage.enable', value: 'false', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
  ]);
});
