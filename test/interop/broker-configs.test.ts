import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, ConfigResourceType, Connection, Producer } from '@tributary/client';
import { ApiVersions, DescribeProducers, ErrorCode, UpdateFeatures } from '@tributary/protocol';
import {
  PYTHON,
  PYTHON_DIR,
  runAsync,
  startBroker,
  tempDir,
  type BrokerProcess,
} from '../support/broker-process';

type Described = Record<
  string,
  { value: string | null; source: number; read_only: boolean; synonyms: [string, string | null, number][] }
>;

const INVALID_REQUEST = 42;
const INVALID_CONFIG = 40;
const DYNAMIC_BROKER = 2;
const DYNAMIC_DEFAULT = 3;
const STATIC = 4;
const DEFAULT = 5;

async function python(script: string, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, script), ...args], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

/** Polls `check` until it holds or the deadline passes. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Dynamic broker configs (KIP-226) changed and described by the admin clients of
 * confluent-kafka (librdkafka) and kafka-python against a broker process, watched taking
 * effect (retention deletes old segments, a smaller message.max.bytes refuses a record) and
 * surviving a restart; BROKER_LOGGER levels; the log dir, producer and feature APIs.
 */
describe('dynamic broker configs against a broker process', () => {
  const dataDir = tempDir('broker-configs');
  const args = ['--set', 'log.retention.check.interval.ms=200'];
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ dataDir, extraArgs: args });
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  test('per-broker and cluster-default changes take effect at once; refused ones get Kafka errors', async () => {
    const r = (await python('broker_configs.py', broker.bootstrap, 'alter')) as {
      before: Described;
      described: Described;
      refused: Record<string, [number, string | null]>;
      [k: string]: unknown;
    };
    assert.deepEqual(r.before['log.retention.ms'], {
      value: null,
      source: DEFAULT,
      read_only: false,
      synonyms: [],
    });
    assert.equal(r.before['log.dirs'].source, STATIC);
    assert.equal(r.before['log.dirs'].read_only, true);
    assert.deepEqual(r.create, ['ok']);
    assert.deepEqual(r.validate_only_0081, ['ok']);
    assert.deepEqual(r.segment_bytes, ['ok']);
    assert.deepEqual(r.produced, Array(20).fill(null));
    assert.deepEqual(r.watermarks_before, [0, 20]);
    assert.deepEqual(r.retention, [0, null]);
    // Every closed segment was older than the new log.retention.ms: only the active one is left.
    assert.deepEqual(r.watermarks_after, [19, 20]);
    assert.deepEqual(r.default_size, [0, null]);
    assert.deepEqual(r.too_large, ['MSG_SIZE_TOO_LARGE']);
    assert.deepEqual(r.small_enough, [null]);
    assert.deepEqual(r.refused, {
      read_only: [INVALID_REQUEST, 'INVALID_REQUEST: Cannot update these configs dynamically: Set(log.dirs)'],
      per_broker_as_default: [
        INVALID_REQUEST,
        'INVALID_REQUEST: Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.plaintext.ssl.client.auth)',
      ],
      without_listener_prefix: [
        INVALID_REQUEST,
        'INVALID_REQUEST: These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)',
      ],
      other_broker: [INVALID_REQUEST, 'INVALID_REQUEST: Unexpected broker id, expected 1, but received 2'],
      unknown: [INVALID_CONFIG, 'INVALID_CONFIG: Unknown config name: no.such.config'],
      bad_value: [
        INVALID_REQUEST,
        'INVALID_REQUEST: Invalid value soon for configuration log.retention.ms: Not a number of type LONG',
      ],
    });
    assert.deepEqual(r.described['log.retention.ms'], {
      value: '1000',
      source: DYNAMIC_BROKER,
      read_only: false,
      synonyms: [
        ['log.retention.ms', '1000', DYNAMIC_BROKER],
        ['log.retention.hours', '168', DEFAULT],
      ],
    });
    assert.deepEqual(r.described['message.max.bytes'], {
      value: '800',
      source: DYNAMIC_DEFAULT,
      read_only: false,
      synonyms: [
        ['message.max.bytes', '800', DYNAMIC_DEFAULT],
        ['message.max.bytes', '1048588', DEFAULT],
      ],
    });
    assert.deepEqual(r.described['log.retention.hours'], {
      value: '168',
      source: DEFAULT,
      read_only: true,
      synonyms: [['log.retention.hours', '168', DEFAULT]],
    });
  });

  test('a restarted broker keeps its dynamic configs and goes on applying them', async () => {
    assert.equal(await broker.stop(), 0);
    broker = await startBroker({ dataDir, extraArgs: args });
    const r = (await python('broker_configs.py', broker.bootstrap, 'restarted')) as {
      described: Described;
      too_large: string[];
    };
    assert.equal(r.described['log.retention.ms'].value, '1000');
    assert.equal(r.described['log.retention.ms'].source, DYNAMIC_BROKER);
    assert.equal(r.described['log.segment.bytes'].value, '1024');
    assert.equal(r.described['message.max.bytes'].source, DYNAMIC_DEFAULT);
    assert.deepEqual(r.too_large, ['MSG_SIZE_TOO_LARGE']);
  });

  test('BROKER_LOGGER: a logger goes to DEBUG and back at runtime', async () => {
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    try {
      const loggers = { type: ConfigResourceType.BROKER_LOGGER, name: '1' };
      const levels = async () =>
        new Map((await admin.describeConfigs(loggers)).map((c) => [c.name, [c.value, c.source]]));
      const before = await levels();
      assert.deepEqual(before.get('root'), ['INFO', 6]);
      assert.deepEqual(before.get('broker-1'), ['INFO', 6]);
      await admin.alterConfigs(loggers, [{ name: 'broker-1', value: 'DEBUG' }]);
      assert.deepEqual((await levels()).get('broker-1'), ['DEBUG', 6]);
      // At DEBUG the broker logs each request it answers (Kafka's request logger).
      await admin.listTopics();
      await eventually('a debug line for a Metadata request', () =>
        /DEBUG \[broker-1\] Metadata v\d+ correlation/.test(broker.output()),
      );
      assert.deepEqual(
        (await admin.describeConfigs(loggers, ['broker-1'])).map((c) => [c.name, c.value]),
        [['broker-1', 'DEBUG']],
      );
      await admin.alterConfigs(loggers, [{ name: 'broker-1', op: 'delete' }]);
      assert.deepEqual((await levels()).get('broker-1'), ['INFO', 6]);
      await assert.rejects(
        admin.alterConfigs(loggers, [{ name: 'broker-1', value: 'LOUD' }]),
        /INVALID_CONFIG.*Valid log levels are DEBUG, ERROR, FATAL, INFO, TRACE, WARN/,
      );
      await assert.rejects(
        admin.alterConfigs(loggers, [{ name: 'no-such-logger', value: 'DEBUG' }]),
        /INVALID_CONFIG.*Logger no-such-logger does not exist!/,
      );
      await assert.rejects(
        admin.alterConfigs(loggers, [{ name: 'root', op: 'delete' }]),
        /INVALID_REQUEST.*Removing the log level of the root logger is not allowed/,
      );
      await assert.rejects(
        admin.describeConfigs({ type: ConfigResourceType.BROKER_LOGGER, name: '' }),
        /INVALID_REQUEST/,
      );
    } finally {
      await admin.close();
    }
  });

  test('DescribeLogDirs and AlterReplicaLogDirs (kafka-python encoding) answer as a broker with one log dir', async () => {
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    const producer = new Producer({ bootstrapServers: broker.bootstrap });
    try {
      await admin.createTopics([{ name: 'dirs', numPartitions: 2 }]);
      await producer.send({ topic: 'dirs', messages: [{ value: 'a', partition: 1 }] });
    } finally {
      await producer.close();
      await admin.close();
    }
    const dir = path.resolve(dataDir);
    const r = await python('log_dirs.py', broker.bootstrap, 'dirs', dir);
    const all = r.all as { error_code: number; log_dir: string; topics: Record<string, number[][]> }[];
    assert.equal(all.length, 1);
    assert.equal(all[0].error_code, ErrorCode.NONE);
    assert.equal(all[0].log_dir, dir);
    const parts = all[0].topics.dirs;
    assert.deepEqual(
      parts.map((p) => p[0]),
      [0, 1],
    );
    assert.equal(parts[0][1], 0, 'partition 0 is empty');
    assert.ok(parts[1][1] > 0, 'partition 1 holds the record');
    assert.deepEqual(
      parts.map((p) => [p[2], p[3]]),
      [
        [0, false],
        [0, false],
      ],
    );
    assert.deepEqual((r.one_partition as typeof all)[0].topics, { dirs: [[1, parts[1][1], 0, false]] });
    assert.deepEqual((r.unknown_topic as typeof all)[0].topics, {});
    assert.deepEqual(r.alter_same_dir, {
      dirs: [
        [0, ErrorCode.NONE],
        [1, ErrorCode.NONE],
      ],
    });
    assert.deepEqual(r.alter_other_dir, { dirs: [[0, ErrorCode.LOG_DIR_NOT_FOUND]] });
    assert.deepEqual(r.alter_missing_partition, { dirs: [[7, ErrorCode.REPLICA_NOT_AVAILABLE]] });
  });

  test('DescribeProducers lists an idempotent producer; UpdateFeatures refuses; ApiVersions advertises both', async () => {
    const producer = new Producer({ bootstrapServers: broker.bootstrap });
    const conn = await new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'wire' }).connect();
    try {
      await producer.send({ topic: 'producers', messages: [{ value: 'a' }, { value: 'b' }] });
      const r = await conn.request(DescribeProducers, {
        topics: [{ name: 'producers', partitionIndexes: [0, 5] }],
      });
      const [p0, p5] = r.topics[0].partitions;
      assert.equal(p0.errorCode, ErrorCode.NONE);
      assert.equal(p0.activeProducers.length, 1);
      const active = p0.activeProducers[0];
      assert.ok(active.producerId >= 0);
      assert.equal(active.producerEpoch, 0);
      assert.equal(active.lastSequence, 1);
      assert.ok(active.lastTimestamp > Date.now() - 60_000);
      assert.deepEqual([active.coordinatorEpoch, active.currentTxnStartOffset], [-1, -1]);
      assert.equal(p5.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

      const v1 = await conn.request(
        UpdateFeatures,
        {
          timeoutMs: 1000,
          featureUpdates: [{ feature: 'metadata.version', maxVersionLevel: 21, upgradeType: 1 }],
          validateOnly: false,
        },
        { version: 1 },
      );
      assert.equal(v1.errorCode, ErrorCode.NONE);
      assert.deepEqual(
        v1.results.map((x) => [x.feature, x.errorCode]),
        [['metadata.version', ErrorCode.INVALID_UPDATE_VERSION]],
      );
      const empty = await conn.request(UpdateFeatures, {
        timeoutMs: 1000,
        featureUpdates: [],
        validateOnly: false,
      });
      assert.equal(empty.errorCode, ErrorCode.INVALID_REQUEST);

      const versions = await conn.request(ApiVersions, {
        clientSoftwareName: 'wire',
        clientSoftwareVersion: '1',
      });
      const ranges = new Map(versions.apiKeys.map((k) => [k.apiKey, `${k.minVersion}-${k.maxVersion}`]));
      assert.equal(ranges.get(34), '0-2');
      assert.equal(ranges.get(35), '0-4');
      assert.equal(ranges.get(57), '0-2');
      assert.equal(ranges.get(61), '0-0');
      assert.deepEqual(versions.supportedFeatures, []);
    } finally {
      conn.close();
      await producer.close();
    }
  });
});
