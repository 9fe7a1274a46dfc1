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
  assert.deepEqual(retention.synonyms, [
    { name: 'retention.ms', value: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
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
