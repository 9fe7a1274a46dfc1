import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@tributary/client';
import { batchHeaders, CreateTopics, ErrorCode, Fetch } from '@tributary/protocol';
import path from 'node:path';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

const KEYS = 20;
const RECORDS = 1000;

/** kcat (librdkafka) writes keyed records to a compacted topic; the broker's cleaner compacts them. */
describe('log compaction on a broker process, with kcat', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'log.cleaner.backoff.ms=100'] });
    const conn = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
    const created = await conn.request(CreateTopics, {
      topics: ['latest', 'emptied'].map((name) => ({
        name,
        numPartitions: 1,
        replicationFactor: 1,
        configs: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: '4096' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          { name: 'delete.retention.ms', value: '0' },
        ],
      })),
      timeoutMs: 5000,
    });
    conn.close();
    assert.deepEqual(
      created.topics.map((t) => t.errorCode),
      [ErrorCode.NONE, ErrorCode.NONE],
    );
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  const consume = async (topic = 'latest') => {
    const r = await runAsync('kcat', [
      '-b',
      broker.bootstrap,
      '-t',
      topic,
      '-C',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%o %k %s\\n',
    ]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const [offset, key, value] = l.split(' ');
        return { offset: Number(offset), key, value };
      });
  };

  test('a consumer reads back only the newest value of each key, at its original offset; a tombstone goes', async () => {
    // Value i is written at offset i; key-3 ends with a tombstone (-Z: an empty value is null).
    const lines = Array.from({ length: RECORDS }, (_, i) => `key-${i % KEYS}:${i}`);
    lines.push('key-3:');
    const produced = await runAsync(
      'kcat',
      [
        '-b',
        broker.bootstrap,
        '-t',
        'latest',
        '-P',
        '-K:',
        '-Z',
        '-X',
        'batch.num.messages=10',
        '-X',
        'linger.ms=1',
      ],
      { input: lines.join('\n') + '\n' },
    );
    assert.equal(produced.status, 0, produced.stderr);
    // One large record rolls the segment, so every keyed record is in an inactive (cleanable) one.
    const filler = await runAsync('kcat', ['-b', broker.bootstrap, '-t', 'latest', '-P', '-K:'], {
      input: `filler:${'f'.repeat(4000)}\n`,
    });
    assert.equal(filler.status, 0, filler.stderr);

    const expected = new Map<string, number>();
    lines.forEach((l, i) => expected.set(l.split(':')[0], i));
    expected.delete('key-3');
    expected.set('filler', RECORDS + 1);
    let rows = await consume();
    for (const deadline = Date.now() + 20_000; rows.length !== expected.size;) {
      assert.ok(
        Date.now() < deadline,
        `compaction finished in time: ${rows.length} records left\n${broker.output().slice(-2000)}`,
      );
      await sleep(100);
      rows = await consume();
    }
    for (const row of rows) {
      assert.equal(row.offset, expected.get(row.key), `${row.key} at its original offset`);
      if (row.key !== 'filler')
        assert.equal(row.value, String(row.offset), `${row.key} has its newest value`);
    }
    assert.deepEqual(
      rows.map((r) => r.offset),
      [...expected.values()].sort((a, b) => a - b),
      'increasing offsets with gaps',
    );
    assert.match(broker.output(), /latest-0: cleaned offsets below/);
  });

  test('records without a key are refused with INVALID_RECORD', async () => {
    const r = await runAsync('kcat', ['-b', broker.bootstrap, '-t', 'latest', '-P'], { input: 'no key\n' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Broker failed to validate record/);
  });

  test("an idempotent producer's emptied last batch stays as an empty batch, and consumers read past it", async () => {
    const kcat = (input: string, ...args: string[]) =>
      runAsync('kcat', ['-b', broker.bootstrap, '-t', 'emptied', '-P', '-K:', ...args], { input });
    const first = await kcat('a:1\nb:2\n', '-X', 'enable.idempotence=true');
    assert.equal(first.status, 0, first.stderr);
    const second = await kcat('a:3\nb:4\n');
    assert.equal(second.status, 0, second.stderr);
    assert.equal((await kcat(`filler:${'f'.repeat(4000)}\n`)).status, 0);
    let rows = await consume('emptied');
    for (const deadline = Date.now() + 20_000; rows.length !== 3;) {
      assert.ok(Date.now() < deadline, `compaction finished in time: ${rows.length} records left`);
      await sleep(100);
      rows = await consume('emptied');
    }
    assert.deepEqual(
      rows.map((r) => [r.offset, r.key]),
      [
        [2, 'a'],
        [3, 'b'],
        [4, 'filler'],
      ],
      'kcat skips the empty batch at offsets 0-1',
    );
    const conn = await new Connection({ host: '127.0.0.1', port: broker.port }).connect();
    const fetched = await conn.request(Fetch, {
      maxWaitMs: 0,
      minBytes: 0,
      isolationLevel: 0,
      topics: [
        { topic: 'emptied', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
      ],
    });
    conn.close();
    const [empty] = batchHeaders(fetched.responses[0].partitions[0].records!);
    assert.deepEqual(
      [empty.baseOffset, empty.lastOffset, empty.recordCount, empty.baseSequence],
      [0, 1, 0, 0],
      "the producer's batch, emptied",
    );
    assert.ok(empty.producerId >= 0);
    const python = await runAsync(
      PYTHON,
      [path.join(PYTHON_DIR, 'read_topic.py'), broker.bootstrap, 'emptied'],
      {
        timeoutMs: 30_000,
      },
    );
    assert.equal(python.status, 0, python.stderr);
    assert.deepEqual(
      python.stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split(' ').slice(0, 2).join(' ')),
      ['2 a', '3 b', '4 filler'],
      'so does kafka-python',
    );
  });
});
