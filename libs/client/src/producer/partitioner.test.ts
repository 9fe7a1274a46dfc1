import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { DefaultPartitioner, murmur2, murmur2Partition } from './partitioner';

test('murmur2 matches the Java client on its own test vectors (UtilsTest.testMurmur2)', () => {
  const cases: [Buffer, number][] = [
    [Buffer.from('21'), -973932308],
    [Buffer.from('foobar'), -790332482],
    [Buffer.from('a-little-bit-long-string'), -985981536],
    [Buffer.from('a-little-bit-longer-string'), -1486304829],
    [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
    [Buffer.from('abc'), 479470107],
  ];
  for (const [key, expected] of cases) assert.equal(murmur2(key), expected, key.toString());
});

test('partition choices match kafka-python (an independent port of the Java partitioner)', () => {
  const keys = Array.from({ length: 200 }, (_, i) => `key-${i}-${'x'.repeat(i % 7)}`);
  keys.push('', 'ü', '日本語');
  const counts = [1, 3, 6, 7, 50];
  const script = `
import sys, json
from kafka.partitioner.default import murmur2
keys, counts = json.load(sys.stdin)
print(json.dumps([[(murmur2(k.encode()) & 0x7fffffff) % n for n in counts] for k in keys]))`;
  const out = execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify([keys, counts]) });
  const theirs = JSON.parse(out.toString()) as number[][];
  keys.forEach((k, i) => {
    assert.deepEqual(
      counts.map((n) => murmur2Partition(Buffer.from(k), n)),
      theirs[i],
      `key ${JSON.stringify(k)}`,
    );
  });
});

test('records without a key stick to one partition until its batch closes, then move', () => {
  const p = new DefaultPartitioner();
  const first = p.partition('t', null, 6);
  for (let i = 0; i < 100; i++) assert.equal(p.partition('t', null, 6), first);
  p.onBatchClosed('t', first, 6);
  const second = p.partition('t', null, 6);
  assert.notEqual(second, first);
  assert.ok(second >= 0 && second < 6);
  assert.equal(p.partition('t', Buffer.from('21'), 6), murmur2Partition(Buffer.from('21'), 6));
});
