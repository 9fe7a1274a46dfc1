import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@tributary/client';
import { batchHeaders, decodeRecordBatches, Fetch } from '@tributary/protocol';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

const COUNT = 3000;

/** confluent-kafka (librdkafka) with enable.idempotence=true: InitProducerId, then sequenced batches. */
describe('confluent-kafka idempotent producer against a broker process', () => {
  let broker: BrokerProcess;
  let conn: Connection;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'num.partitions=3'] });
    conn = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
  });

  after(async () => {
    conn?.close();
    assert.equal(await broker.stop(), 0);
  });

  test('every record is delivered once, in batches carrying one producer id with gapless sequences', async () => {
    const r = await runAsync(
      PYTHON,
      [path.join(PYTHON_DIR, 'idempotent_producer.py'), broker.bootstrap, 'idem', String(COUNT)],
      { timeoutMs: 90_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      delivered: [number, number, string][];
      errors: string[];
      undelivered: number;
    };
    assert.deepEqual(report.errors, []);
    assert.equal(report.undelivered, 0);
    assert.equal(report.delivered.length, COUNT);

    const producerIds = new Set<number>();
    const values: string[] = [];
    for (let p = 0; p < 3; p++) {
      const f = await conn.request(Fetch, {
        maxWaitMs: 0,
        minBytes: 0,
        isolationLevel: 0,
        topics: [
          { topic: 'idem', partitions: [{ partition: p, fetchOffset: 0, partitionMaxBytes: 16 << 20 }] },
        ],
      });
      const records = f.responses[0].partitions[0].records ?? Buffer.alloc(0);
      let nextSeq = 0;
      let nextOffset = 0;
      for (const h of batchHeaders(records)) {
        producerIds.add(h.producerId);
        assert.equal(h.producerEpoch, 0);
        assert.equal(h.baseSequence, nextSeq, `partition ${p}: sequences follow on`);
        assert.equal(h.baseOffset, nextOffset, `partition ${p}: offsets are dense`);
        nextSeq += h.recordCount;
        nextOffset = h.lastOffset + 1;
      }
      const delivered = new Map(report.delivered.filter(([part]) => part === p).map(([, o, v]) => [o, v]));
      assert.equal(nextOffset, delivered.size, `partition ${p} holds exactly what was acknowledged`);
      for (const b of decodeRecordBatches(records)) {
        for (const rec of b.records) {
          assert.equal(
            rec.value?.toString(),
            delivered.get(rec.offset),
            `partition ${p} offset ${rec.offset}`,
          );
          values.push(rec.value!.toString());
        }
      }
    }
    assert.equal(producerIds.size, 1, 'one producer id');
    assert.ok([...producerIds][0] >= 0);
    assert.equal(new Set(values).size, COUNT, 'no record twice');
  });
});
