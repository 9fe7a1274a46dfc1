import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const PER_CODEC = 400;

/** kcat is librdkafka: the C client under confluent-kafka and most other language bindings. */
describe('kcat (librdkafka) against a broker process', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'num.partitions=3'] });
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  test('keyed records in all five codecs to a 3-partition topic come back, in order per partition', async () => {
    const sent: string[] = [];
    for (const codec of CODECS) {
      const lines = Array.from(
        { length: PER_CODEC },
        (_, i) => `key-${i % 37}:${codec}-${String(i).padStart(4, '0')}`,
      );
      sent.push(...lines);
      const r = await runAsync(
        'kcat',
        [
          '-b',
          broker.bootstrap,
          '-t',
          'orders',
          '-P',
          '-K:',
          '-z',
          codec,
          '-X',
          'linger.ms=20',
          '-X',
          'acks=all',
        ],
        { input: lines.join('\n') + '\n' },
      );
      assert.equal(r.status, 0, `kcat -z ${codec}: ${r.stderr}`);
    }

    const meta = await runAsync('kcat', ['-b', broker.bootstrap, '-L', '-t', 'orders', '-J']);
    const partitions = JSON.parse(meta.stdout).topics[0].partitions;
    assert.equal(partitions.length, 3, 'auto-created with num.partitions=3');

    const received: string[] = [];
    const keyPartition = new Map<string, number>();
    for (let p = 0; p < 3; p++) {
      const r = await runAsync('kcat', [
        '-b',
        broker.bootstrap,
        '-t',
        'orders',
        '-C',
        '-p',
        String(p),
        '-o',
        'beginning',
        '-e',
        '-f',
        '%o %k:%s\\n',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.split('\n').filter((l) => l.length > 0);
      assert.ok(rows.length > 0, `partition ${p} got records`);
      rows.forEach((row, i) => {
        const [offset, record] = row.split(' ');
        assert.equal(Number(offset), i, `partition ${p}: offsets are dense from 0`);
        const key = record.split(':')[0];
        assert.equal(keyPartition.get(key) ?? p, p, `key ${key} always lands in one partition`);
        keyPartition.set(key, p);
        received.push(record);
      });
      // Within a partition, the producer's order holds: each codec's values ascend and codecs come in the order sent.
      const values = rows.map((row) => row.split(':')[1]);
      const order = values.map(
        (v) => CODECS.indexOf(v.split('-')[0] as (typeof CODECS)[number]) * 10000 + Number(v.split('-')[1]),
      );
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `partition ${p} keeps the produce order`,
      );
    }
    assert.equal(received.length, sent.length);
    assert.deepEqual([...received].sort(), [...sent].sort(), 'every record exactly once');
  });

  test('headers, null values and timestamps survive the round trip', async () => {
    const produced = await runAsync(
      'kcat',
      ['-b', broker.bootstrap, '-t', 'hdrs', '-P', '-K:', '-H', 'trace=abc', '-H', 'n=1', '-Z', '-p', '0'],
      { input: 'k1:\nk2:v2\n' },
    );
    assert.equal(produced.status, 0, produced.stderr);
    const r = await runAsync('kcat', ['-b', broker.bootstrap, '-t', 'hdrs', '-C', '-e', '-J']);
    const rows = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 2);
    assert.equal(rows[0].key, 'k1');
    assert.equal(rows[0].payload, null, '-Z: an empty value is sent as null');
    assert.equal(rows[1].payload, 'v2');
    assert.deepEqual(rows[1].headers, ['trace', 'abc', 'n', '1']);
    assert.ok(Math.abs(rows[1].ts - Date.now()) < 60_000, 'CreateTime stamped by the producer');
  });
});
