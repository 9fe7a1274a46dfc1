import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

/**
 * Topic configs Kafka 3.9 keeps only for compatibility, through librdkafka (confluent-kafka)
 * and kafka-python: librdkafka's test 0092 changing message.format.version mid-stream, and
 * IncrementalAlterConfigs setting, describing and deleting it.
 */
describe('topic config parity with Kafka 3.9', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'log.retention.hours=48'] });
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  test('message.format.version and the tiered-storage keys are accepted, described and validated', async () => {
    const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, 'topic_config_parity.py'), broker.bootstrap], {
      timeoutMs: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.create, 'ok');

    // Described with Kafka's defaults; log.retention.hours=48 is the broker's.
    const defaults = report.defaults;
    assert.equal(defaults['message.format.version'], '3.0-IV1');
    assert.equal(defaults['message.downconversion.enable'], 'true');
    assert.equal(defaults['remote.storage.enable'], 'false');
    assert.equal(defaults['remote.log.copy.disable'], 'false');
    assert.equal(defaults['local.retention.ms'], '-2');
    assert.equal(defaults['local.retention.bytes'], '-2');
    assert.equal(defaults['compression.gzip.level'], '-1');
    assert.equal(defaults['compression.zstd.level'], '3');
    assert.equal(defaults['retention.ms'], String(48 * 3_600_000));

    // 0092: every described entry written back, message.format.version changed mid-stream.
    assert.deepEqual(report.alter_0092, ['ok']);
    assert.deepEqual(report.after_0092['message.format.version'], { value: '0.10.0.0', source: 1 });
    assert.deepEqual(
      report.consumed,
      Array.from({ length: 10 }, (_, i) => `record-${i}`),
    );

    assert.deepEqual(report.alter_bad_format, ['INVALID_CONFIG']);
    assert.deepEqual(report.alter_remote_storage, ['INVALID_CONFIG']);
    assert.deepEqual(report.alter_unknown_key, ['INVALID_CONFIG']);

    // IncrementalAlterConfigs (error 40: INVALID_CONFIG); synonyms only when asked, in Kafka's order.
    assert.deepEqual(report.incremental_set, [0]);
    assert.deepEqual(report.incremental_described['message.format.version'], {
      value: '2.8',
      source: 1,
      synonyms: [],
    });
    assert.deepEqual(report.incremental_described['retention.ms'].synonyms, []);
    const withSynonyms = report.incremental_described_synonyms;
    assert.deepEqual(withSynonyms['message.format.version'].synonyms, [
      ['message.format.version', '2.8', 1],
      ['log.message.format.version', '3.0-IV1', 5],
    ]);
    // As Kafka's configSynonyms: the broker entries start at log.retention.ms, which is unset,
    // so log.retention.hours (set here, and its default) is not listed.
    assert.deepEqual(withSynonyms['retention.ms'].synonyms, [['retention.ms', '5000', 1]]);
    // No server default: only the override 0092 wrote.
    assert.deepEqual(withSynonyms['remote.storage.enable'].synonyms, [['remote.storage.enable', 'false', 1]]);
    assert.deepEqual(report.incremental_unknown_key, [40]);
    assert.deepEqual(report.incremental_delete, [0]);
    assert.deepEqual(report.incremental_after_delete['message.format.version'], {
      value: '3.0-IV1',
      source: 5,
      synonyms: [],
    });
  });
});
