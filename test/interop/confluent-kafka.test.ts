import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

/** confluent-kafka-python on Debian's python3: librdkafka's admin client and offset look-ups. */
describe('confluent-kafka against a broker process', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker();
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  test('creates topics, describes and alters configs, adds partitions, finds offsets by time, deletes', async () => {
    const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, 'confluent_admin.py'), broker.bootstrap], {
      timeoutMs: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.create, { 'admin-a': 'ok', 'admin-b': 'ok' });
    assert.deepEqual(report.create_again, { 'admin-a': 'TOPIC_ALREADY_EXISTS' });
    assert.deepEqual(report.create_bad_config, { 'admin-c': 'INVALID_CONFIG' });
    assert.deepEqual(report.validate_only, { 'admin-v': 'ok' });
    assert.deepEqual(
      report.topics,
      ['admin-a', 'admin-b'],
      'validate-only and refused topics were not created',
    );
    assert.equal(report.partitions_a, 3);

    // Source 1 is DYNAMIC_TOPIC_CONFIG, 5 DEFAULT_CONFIG.
    assert.deepEqual(report.configs_before['retention.ms'], { value: '3600000', source: 1 });
    assert.deepEqual(report.configs_before['segment.bytes'], { value: '1073741824', source: 5 });
    assert.deepEqual(report.alter, ['ok']);
    assert.deepEqual(report.configs_after['retention.ms'], { value: '7200000', source: 1 });
    assert.deepEqual(report.configs_after['max.message.bytes'], { value: '500000', source: 1 });
    assert.deepEqual(report.alter_unknown_key, ['INVALID_CONFIG']);

    assert.deepEqual(report.add_partitions, ['ok']);
    assert.deepEqual(report.shrink_partitions, ['INVALID_PARTITIONS']);
    assert.equal(report.partitions_b, 4);

    // Before the first record: offset 0; exact hits; between records: the next one; after the last: -1 (end).
    assert.deepEqual(report.offsets_for_times, [0, 0, 4, 9, -1]);
    assert.deepEqual(report.watermarks, [0, 10]);

    assert.deepEqual(report.delete, { 'admin-b': 'ok' });
    assert.deepEqual(report.delete_unknown, { 'no-such-topic': 'UNKNOWN_TOPIC_OR_PART' });
    assert.deepEqual(report.topics_after_delete, ['admin-a']);
  });
});
