import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

const COUNT = 20;
const PRODUCER_TIMESTAMP = 1_700_000_000_000;
// confluent-kafka's timestamp kinds.
const TIMESTAMP_CREATE_TIME = 1;
const TIMESTAMP_LOG_APPEND_TIME = 2;

interface Report {
  delivered: number;
  errors: string[];
  records: [string | null, string, number, number][];
}

async function produceLegacy(
  broker: BrokerProcess,
  topic: string,
  fallback: string,
  codec: string,
  timestampType: string,
): Promise<Report> {
  const r = await runAsync(
    PYTHON,
    [
      path.join(PYTHON_DIR, 'legacy_producer.py'),
      broker.bootstrap,
      topic,
      fallback,
      codec,
      timestampType,
      String(COUNT),
      String(PRODUCER_TIMESTAMP),
    ],
    { timeoutMs: 90_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(report.errors, []);
  assert.equal(report.delivered, COUNT);
  assert.deepEqual(
    report.records.map(([key, value]) => [key, value]),
    Array.from({ length: COUNT }, (_, i) => [i % 5 === 4 ? null : `k${i}`, `value-${i}`]),
    'every record is read back once, in order, with its key',
  );
  return report;
}

/**
 * Clients of Kafka 0.9 and 0.10 (librdkafka with api.version.request=false, as librdkafka's
 * test 0052 runs it): Produce v1 with magic 0 messages and v2 with magic 1, plain and gzip,
 * up-converted by the broker and read back by a current consumer.
 */
describe('legacy Produce v1/v2 (magic 0 and 1) from confluent-kafka', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker();
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  for (const codec of ['none', 'gzip']) {
    test(`0.9 (magic 0, ${codec}), CreateTime: the records have no timestamp`, async () => {
      const report = await produceLegacy(broker, `legacy-09-${codec}`, '0.9.0.0', codec, 'CreateTime');
      for (const [, , kind, ts] of report.records) assert.deepEqual([kind, ts], [TIMESTAMP_CREATE_TIME, -1]);
    });

    test(`0.10 (magic 1, ${codec}), CreateTime: the producer's timestamps`, async () => {
      const report = await produceLegacy(broker, `legacy-010-${codec}`, '0.10.0.0', codec, 'CreateTime');
      for (const [, , kind, ts] of report.records) {
        assert.deepEqual([kind, ts], [TIMESTAMP_CREATE_TIME, PRODUCER_TIMESTAMP]);
      }
    });

    test(`0.9 (magic 0, ${codec}), LogAppendTime: the broker's append time`, async () => {
      const start = Date.now();
      const report = await produceLegacy(broker, `legacy-09-lat-${codec}`, '0.9.0.0', codec, 'LogAppendTime');
      for (const [, , kind, ts] of report.records) {
        assert.equal(kind, TIMESTAMP_LOG_APPEND_TIME);
        assert.ok(ts >= start && ts <= Date.now(), `append time ${ts} within the test`);
      }
    });
  }
});
