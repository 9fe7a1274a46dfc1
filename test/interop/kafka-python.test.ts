import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

interface Row {
  p: number;
  o: number;
  k: string;
  v: string;
  h: [string, string][];
}

/** kafka-python: a pure-Python client with its own protocol code, sending fixed API versions. */
describe('kafka-python against a broker process', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'num.partitions=2'] });
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  test('produces with every codec and consumes every record back, in order per partition', async () => {
    const count = 200;
    const r = await runAsync(
      PYTHON,
      [path.join(PYTHON_DIR, 'kafka_python_roundtrip.py'), broker.bootstrap, 'kp', String(count)],
      {
        timeoutMs: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { acks: Record<string, number[]>; records: Row[] };
    assert.deepEqual(Object.keys(report.acks), ['None', 'gzip', 'snappy', 'lz4', 'zstd']);
    const rows = report.records;
    assert.equal(rows.length, 5 * count);
    const values = new Set(rows.map((row) => row.v));
    assert.equal(values.size, 5 * count, 'no duplicates');
    for (const codec of ['None', 'gzip', 'snappy', 'lz4', 'zstd']) {
      for (let i = 0; i < count; i++) assert.ok(values.has(`${codec}-${i}`), `${codec}-${i} arrived`);
    }
    for (const p of [0, 1]) {
      const inPartition = rows.filter((row) => row.p === p);
      assert.deepEqual(
        inPartition.map((row) => row.o),
        inPartition.map((_, i) => i),
        `partition ${p} offsets are dense from 0`,
      );
    }
    for (const row of rows) assert.deepEqual(row.h, [['codec', row.v.split('-')[0]]]);
    // kafka-python's murmur2 partitioner: a key always maps to one partition.
    const byKey = new Map<string, Set<number>>();
    for (const row of rows) byKey.set(row.k, (byKey.get(row.k) ?? new Set()).add(row.p));
    for (const [key, parts] of byKey) assert.equal(parts.size, 1, `key ${key} lands in one partition`);
  });
});
