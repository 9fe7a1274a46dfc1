import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, test } from 'node:test';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { memoryLogger, offsetsOf, simpleBatch } from '../test/batch-fixtures';
import { AlterConfigOp, applyConfigAlterations, LogManager, type LogManagerOptions } from './log-manager';
import { ConfigSource, TopicConfig } from './topic-config';

const dirs: string[] = [];
const managers: LogManager[] = [];

function dataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-logs-'));
  dirs.push(dir);
  return dir;
}

function openManager(
  dir: string,
  options: Partial<LogManagerOptions> = {},
): LogManager & { lines: string[] } {
  const logger = memoryLogger();
  const m = new LogManager({ dataDir: dir, logger, ...options });
  m.open();
  managers.push(m);
  return Object.assign(m, { lines: logger.lines });
}

afterEach(() => {
  for (const m of managers.splice(0)) m.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const fails = (code: number, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof KafkaProtocolError, String(err));
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

test('createTopic makes partition directories and persists the topic; a reopen finds topics, ids, configs and data', () => {
  const dir = dataDir();
  let m = openManager(dir);
  const t = m.createTopic('orders', 3, { 'retention.ms': '60000' });
  assert.equal(t.numPartitions, 3);
  assert.equal(Buffer.from(t.topicId, 'base64url').length, 16);
  assert.deepEqual(t.configs, { 'retention.ms': '60000' });
  for (let p = 0; p < 3; p++) assert.ok(fs.statSync(path.join(dir, `orders-${p}`)).isDirectory());
  m.partition('orders', 1)!.append(simpleBatch(3), 0);
  assert.equal(m.partition('orders', 3), undefined);
  assert.equal(m.partition('nope', 0), undefined);
  m.close();

  m = openManager(dir);
  assert.deepEqual(m.topic('orders'), t);
  assert.deepEqual(
    m.topics().map((x) => x.name),
    ['orders'],
  );
  const log = m.partition('orders', 1)!;
  assert.equal(log.logEndOffset, 3);
  assert.equal(log.config.retentionMs, 60000);
  assert.deepEqual(offsetsOf(log.read(0, 1000, { minOneBatch: true }).records), [[0, 2]]);
});

test('a topic id can be given, and must be a 16-byte base64url UUID', () => {
  const m = openManager(dataDir());
  const id = Buffer.alloc(16, 7).toString('base64url');
  assert.equal(m.createTopic('given', 1, {}, id).topicId, id);
  assert.throws(() => m.createTopic('bad-id', 1, {}, 'xyz'), fails(ErrorCode.INVALID_REQUEST));
});

test("topic names follow Kafka's rules", () => {
  const m = openManager(dataDir());
  const invalid = ErrorCode.INVALID_TOPIC_EXCEPTION;
  assert.throws(() => m.createTopic('', 1), fails(invalid, /can't be empty/));
  assert.throws(() => m.createTopic('.', 1), fails(invalid, /cannot be "\." or "\.\."/));
  assert.throws(() => m.createTopic('..', 1), fails(invalid));
  assert.throws(() => m.createTopic('a'.repeat(250), 1), fails(invalid, /longer than 249/));
  assert.throws(() => m.createTopic('a/b', 1), fails(invalid, /other than ASCII alphanumerics/));
  assert.throws(() => m.createTopic('ü', 1), fails(invalid));
  m.createTopic('a'.repeat(249), 1);
  m.createTopic('Ok.name_with-all.9', 1);
  m.createTopic('metrics.cpu', 1);
  assert.throws(
    () => m.createTopic('metrics_cpu', 1),
    fails(invalid, /collides with existing topic: metrics.cpu/),
  );
  assert.throws(() => m.createTopic('metrics.cpu', 1), fails(ErrorCode.TOPIC_ALREADY_EXISTS));
  assert.throws(() => m.createTopic('zero', 0), fails(ErrorCode.INVALID_PARTITIONS));
  assert.throws(
    () => m.createTopic('conf', 1, { 'segment.bytes': 'big' }),
    fails(ErrorCode.INVALID_CONFIG, /segment.bytes/),
  );
  assert.throws(() => m.createTopic('conf', 1, { colour: 'red' }), fails(ErrorCode.INVALID_CONFIG, /colour/));
  assert.equal(m.topic('conf'), undefined);
  assert.ok(!fs.existsSync(path.join(m.dataDir, 'conf-0')));
  // validateNewTopic checks the same without creating.
  assert.throws(() => m.validateNewTopic('metrics.cpu', 1), fails(ErrorCode.TOPIC_ALREADY_EXISTS));
  m.validateNewTopic('fresh', 2, { 'retention.ms': '1' });
  assert.equal(m.topic('fresh'), undefined);
});

test('deleteTopic removes the topic and its directories; an unknown topic is UNKNOWN_TOPIC_OR_PARTITION', async () => {
  const dir = dataDir();
  let m = openManager(dir);
  m.createTopic('gone', 2);
  m.partition('gone', 0)!.append(simpleBatch(1), 0);
  m.deleteTopic('gone');
  assert.equal(m.topic('gone'), undefined);
  assert.equal(m.partition('gone', 0), undefined);
  assert.throws(() => m.deleteTopic('gone'), fails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  for (let i = 0; i < 50 && fs.readdirSync(dir).some((f) => f.startsWith('gone-')); i++) await sleep(10);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.startsWith('gone')),
    [],
  );
  // The name can be used again, for a new, empty topic.
  const again = m.createTopic('gone', 1);
  assert.equal(m.partition('gone', 0)!.logEndOffset, 0);
  m.close();
  m = openManager(dir);
  assert.equal(m.topic('gone')!.topicId, again.topicId);
});

test('createPartitions grows a topic and refuses anything else with INVALID_PARTITIONS', () => {
  const dir = dataDir();
  let m = openManager(dir);
  m.createTopic('grow', 2);
  assert.throws(
    () => m.createPartitions('grow', 2),
    fails(ErrorCode.INVALID_PARTITIONS, /already has 2 partitions/),
  );
  assert.throws(
    () => m.createPartitions('grow', 1),
    fails(ErrorCode.INVALID_PARTITIONS, /higher than the requested 1/),
  );
  assert.throws(() => m.createPartitions('nope', 3), fails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  assert.equal(m.createPartitions('grow', 5, { validateOnly: true }).numPartitions, 2);
  assert.equal(m.createPartitions('grow', 5).numPartitions, 5);
  m.partition('grow', 4)!.append(simpleBatch(1), 0);
  m.close();
  m = openManager(dir);
  assert.equal(m.topic('grow')!.numPartitions, 5);
  assert.equal(m.partition('grow', 4)!.logEndOffset, 1);
});

test('alterTopicConfigs: incremental SET, DELETE, APPEND, SUBTRACT; legacy replace; applied to the logs at once', () => {
  const dir = dataDir();
  let m = openManager(dir);
  m.createTopic('cfg', 1, { 'retention.ms': '1000', 'max.message.bytes': '100000' });
  const log = m.partition('cfg', 0)!;

  m.alterTopicConfigs(
    'cfg',
    [
      { name: 'max.message.bytes', op: AlterConfigOp.SET, value: '100' },
      { name: 'retention.ms', op: AlterConfigOp.DELETE, value: null },
      { name: 'cleanup.policy', op: AlterConfigOp.APPEND, value: 'compact' },
    ],
    { incremental: true },
  );
  assert.deepEqual(m.topic('cfg')!.configs, {
    'max.message.bytes': '100',
    'cleanup.policy': 'delete,compact',
  });
  assert.equal(log.config.maxMessageBytes, 100);
  assert.throws(() => log.append(simpleBatch(5), 0), fails(ErrorCode.MESSAGE_TOO_LARGE));

  m.alterTopicConfigs('cfg', [{ name: 'cleanup.policy', op: AlterConfigOp.SUBTRACT, value: 'delete' }], {
    incremental: true,
  });
  assert.equal(m.topic('cfg')!.configs['cleanup.policy'], 'compact');
  assert.throws(
    () =>
      m.alterTopicConfigs('cfg', [{ name: 'retention.ms', op: AlterConfigOp.APPEND, value: '1' }], {
        incremental: true,
      }),
    fails(ErrorCode.INVALID_CONFIG, /append is not allowed for config key: retention.ms/),
  );
  assert.throws(
    () => m.alterTopicConfigs('cfg', [{ name: 'retention.ms', value: 'soon' }], { incremental: true }),
    fails(ErrorCode.INVALID_CONFIG, /Invalid value soon for configuration retention.ms/),
  );
  assert.throws(
    () => m.alterTopicConfigs('cfg', [{ name: 'bogus', value: '1' }], { incremental: true }),
    fails(ErrorCode.INVALID_CONFIG, /Unknown topic config name: bogus/),
  );
  assert.throws(
    () =>
      m.alterTopicConfigs(
        'cfg',
        [
          { name: 'retention.ms', value: '1' },
          { name: 'retention.ms', value: '2' },
        ],
        { incremental: true },
      ),
    fails(ErrorCode.INVALID_REQUEST),
  );
  assert.throws(
    () => m.alterTopicConfigs('none', [], { incremental: true }),
    fails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
  );
  // validateOnly changes nothing.
  m.alterTopicConfigs('cfg', [{ name: 'retention.ms', value: '5' }], {
    incremental: true,
    validateOnly: true,
  });
  assert.equal(m.topic('cfg')!.configs['retention.ms'], undefined);

  // Legacy AlterConfigs replaces the whole set.
  m.alterTopicConfigs('cfg', [{ name: 'segment.bytes', value: '1048576' }], { incremental: false });
  assert.deepEqual(m.topic('cfg')!.configs, { 'segment.bytes': '1048576' });
  assert.equal(log.config.maxMessageBytes, 1048588);
  m.close();
  m = openManager(dir);
  assert.deepEqual(m.topic('cfg')!.configs, { 'segment.bytes': '1048576' });
  assert.equal(m.partition('cfg', 0)!.config.segmentBytes, 1048576);
});

test('describeTopicConfigs reports topic overrides, broker settings and defaults by source', () => {
  const m = openManager(dataDir(), { brokerConfig: { 'log.retention.hours': '1', 'node.id': '1' } });
  m.createTopic('d', 1, { 'segment.bytes': '100000' });
  const byName = new Map(m.describeTopicConfigs('d').map((c) => [c.name, c]));
  assert.equal(byName.get('segment.bytes')!.configSource, ConfigSource.DYNAMIC_TOPIC_CONFIG);
  assert.equal(byName.get('retention.ms')!.value, '3600000');
  assert.equal(byName.get('retention.ms')!.configSource, ConfigSource.STATIC_BROKER_CONFIG);
  assert.equal(byName.get('max.message.bytes')!.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.throws(() => m.describeTopicConfigs('nope'), fails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  assert.equal(m.partition('d', 0)!.config.retentionMs, 3_600_000);
});

test('a bad broker-level log setting is refused at construction', () => {
  assert.throws(
    () => new LogManager({ dataDir: dataDir(), brokerConfig: { 'log.segment.bytes': 'huge' } }),
    fails(ErrorCode.INVALID_CONFIG, /log.segment.bytes/),
  );
});

test('the retention timer deletes old segments in the background', async () => {
  const m = openManager(dataDir(), { retentionCheckIntervalMs: 20 });
  m.createTopic('old', 1, { 'segment.bytes': '300', 'retention.ms': '1000' });
  const log = m.partition('old', 0)!;
  for (let i = 0; i < 20; i++) log.append(simpleBatch(2, { timestamp: Date.now() - 60_000 }), 0);
  assert.ok(log.segmentBaseOffsets().length > 3);
  for (let i = 0; i < 100 && log.segmentBaseOffsets().length > 1; i++) await sleep(10);
  assert.equal(log.segmentBaseOffsets().length, 1);
  assert.equal(log.logStartOffset, log.segmentBaseOffsets()[0]);
  assert.ok(m.lines.some((l) => /deleted \d+ segment\(s\).*older than retention.ms 1000/.test(l)));
});

test('background failures are logged, never thrown', () => {
  const m = openManager(dataDir());
  m.createTopic('t', 1);
  m.partition('t', 0)!.close();
  assert.equal(m.runRetention(), 0);
  assert.ok(m.lines.some((l) => /^error: retention of t-0 failed/.test(l)));
});

test('leftover directories of interrupted deletions are removed at open; unknown ones are reported', async () => {
  const dir = dataDir();
  fs.mkdirSync(path.join(dir, 'x-0.abc-delete'));
  fs.mkdirSync(path.join(dir, 'stray-0'));
  const m = openManager(dir);
  for (let i = 0; i < 50 && fs.existsSync(path.join(dir, 'x-0.abc-delete')); i++) await sleep(10);
  assert.ok(!fs.existsSync(path.join(dir, 'x-0.abc-delete')));
  assert.ok(fs.existsSync(path.join(dir, 'stray-0')));
  assert.ok(m.lines.some((l) => /stray-0 belongs to no known topic/.test(l)));
});

test('topics.json is replaced atomically and an unreadable one stops the open', () => {
  const dir = dataDir();
  const m = openManager(dir);
  m.createTopic('a', 1);
  assert.ok(!fs.existsSync(path.join(dir, 'topics.json.tmp')));
  m.close();
  fs.writeFileSync(path.join(dir, 'topics.json'), '{"topics": [');
  const broken = new LogManager({ dataDir: dir, logger: memoryLogger() });
  assert.throws(() => broken.open(), fails(ErrorCode.KAFKA_STORAGE_ERROR, /unreadable/));
});

test('a topic with a 249-character name can be deleted (its directory is renamed aside within name limits)', () => {
  const dir = dataDir();
  const m = openManager(dir);
  const name = 'n'.repeat(249);
  m.createTopic(name, 11);
  m.deleteTopic(name);
  assert.ok(!m.lines.some((l) => l.startsWith('error:')), m.lines.join('\n'));
  assert.ok(!fs.existsSync(path.join(dir, `${name}-10`)));
});

test('a broker of a replicated cluster holds some partitions of a topic; replicas are added and removed', async () => {
  const dir = dataDir();
  let m = openManager(dir);
  m.createTopic('spread', 4, {}, undefined, [1, 3]);
  assert.equal(m.topic('spread')!.numPartitions, 4);
  assert.deepEqual([...m.partitions('spread').keys()], [1, 3]);
  assert.equal(m.partition('spread', 0), undefined);
  assert.ok(!fs.existsSync(path.join(dir, 'spread-0')));
  assert.throws(() => m.createTopic('bad', 2, {}, undefined, [2]), fails(ErrorCode.INVALID_REQUEST));
  m.partition('spread', 3)!.append(simpleBatch(2), 0);
  m.addPartition('spread', 0).append(simpleBatch(1), 0);
  assert.throws(() => m.addPartition('spread', 4), fails(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  m.createPartitions('spread', 6, { hosted: [5] });
  assert.deepEqual([...m.partitions('spread').keys()].sort(), [0, 1, 3, 5]);
  m.close();

  m = openManager(dir);
  assert.deepEqual([...m.partitions('spread').keys()].sort(), [0, 1, 3, 5]);
  assert.equal(m.partition('spread', 3)!.logEndOffset, 2);
  assert.ok(!m.lines.some((l) => /belongs to no known topic/.test(l)), m.lines.join('\n'));
  m.removePartition('spread', 3);
  assert.equal(m.partition('spread', 3), undefined);
  for (let i = 0; i < 50 && fs.existsSync(path.join(dir, 'spread-3')); i++) await sleep(10);
  assert.ok(!fs.existsSync(path.join(dir, 'spread-3')));
  for (const p of [0, 1, 5]) m.removePartition('spread', p);
  assert.equal(m.topic('spread'), undefined, 'a topic with no replica left here is gone');
});

test('a repeated config key: the legacy AlterConfigs keeps its last value, the incremental one refuses it', () => {
  const resolved = TopicConfig.resolve({});
  const repeated = [
    { name: 'message.format.version', value: '2.8' },
    { name: 'retention.ms', value: '1000' },
    { name: 'message.format.version', value: '0.10.0.0' },
  ];
  assert.deepEqual(applyConfigAlterations({}, resolved, repeated, false), {
    'message.format.version': '0.10.0.0',
    'retention.ms': '1000',
  });
  assert.throws(
    () => applyConfigAlterations({}, resolved, repeated, true),
    (err: unknown) => err instanceof KafkaProtocolError && err.code === ErrorCode.INVALID_REQUEST,
  );
});
