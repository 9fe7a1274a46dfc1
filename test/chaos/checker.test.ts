import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkAcks,
  checkCommittedOffsets,
  checkDelivered,
  checkMirror,
  checkReplicas,
  checkResumed,
  longestSilences,
  resentUnderNewEpoch,
  type StoredRecord,
} from './checker';
import type { Ack, CommittedOffset } from './history';
import { FAULT_KINDS, faultKind, planFaults } from './nemesis';
import { offsetsPartitionFor } from './workload';
import { Prng } from './prng';
import type { StoredBatch } from './segments';

const ack = (producer: string, seq: number, partition: number, offset: number, t = 0): Ack => ({
  producer,
  seq,
  partition,
  offset,
  value: `${producer}-${seq}`,
  t,
});
const rec = (offset: number, value: string): StoredRecord => ({ offset, key: value, value });
const checks = (findings: { check: string }[]) => findings.map((f) => f.check);

describe('the chaos checker', () => {
  test('acknowledged records stored once, in order, at their offsets: nothing to report', () => {
    const acks = [ack('a', 0, 0, 0), ack('b', 0, 0, 1), ack('a', 1, 0, 2)];
    const stored = new Map([[0, [rec(0, 'a-0'), rec(1, 'b-0'), rec(2, 'a-1'), rec(3, 'b-1')]]]);
    assert.deepEqual(checkAcks(acks, stored), []);
  });

  test('an acknowledged record missing or replaced at its offset is lost', () => {
    const acks = [ack('a', 0, 0, 0), ack('a', 1, 0, 1), ack('a', 2, 0, 5)];
    const stored = new Map([[0, [rec(0, 'a-0'), rec(1, 'b-7')]]]);
    const findings = checkAcks(acks, stored);
    assert.deepEqual(checks(findings), ['acknowledged records lost', 'acknowledged records lost']);
    assert.match(findings[0].detail, /a-1 acknowledged at 0\/1 .* stored there: b-7/);
    assert.match(findings[1].detail, /a-2 acknowledged at 0\/5 .* stored there: nothing/);
  });

  test('an acknowledgement without an offset holds if the value is in its partition', () => {
    const stored = new Map([
      [0, [rec(0, 'a-0')]],
      [1, [rec(0, 'a-1')]],
    ]);
    const findings = checkAcks([ack('a', 0, 0, -1), ack('a', 1, 0, -1)], stored);
    assert.deepEqual(checks(findings), ['acknowledged records lost']);
    assert.match(findings[0].detail, /a-1 acknowledged \(without an offset\) in partition 0/);
  });

  test('a value stored twice is a duplicate, wherever the copies are', () => {
    const stored = new Map([
      [0, [rec(0, 'a-0'), rec(1, 'a-1')]],
      [1, [rec(0, 'a-1')]],
    ]);
    const findings = checkAcks([], stored);
    assert.deepEqual(checks(findings), ['records duplicated']);
    assert.match(findings[0].detail, /a-1 stored 2 times: 0\/1, 1\/0/);
  });

  test("a copy its producer re-sent under a later epoch is the client's; one in the same epoch is a duplicate", () => {
    const by = (offset: number, value: string, id: number, epoch: number): StoredRecord => ({
      ...rec(offset, value),
      producer: { id, epoch },
    });
    const stored = new Map([
      [
        0,
        [
          by(0, 'a-0', 7, 0),
          by(1, 'a-1', 7, 0),
          by(2, 'a-2', 7, 0),
          by(3, 'a-1', 7, 1),
          by(4, 'a-2', 7, 1),
          by(5, 'a-2', 7, 1),
          by(6, 'a-0', 8, 2),
        ],
      ],
    ]);
    const resent = resentUnderNewEpoch(stored);
    assert.deepEqual([...resent], ['0/3', '0/4']);
    const findings = checkAcks([], stored, resent);
    assert.deepEqual(checks(findings), ['records reordered', 'records duplicated', 'records duplicated']);
    assert.match(findings[2].detail, /a-2 stored 2 times: 0\/2, 0\/5/, "twice in one epoch is the broker's");
    assert.match(findings[1].detail, /a-0 stored 2 times: 0\/0, 0\/6/, 'another producer id is no excuse');
    assert.equal(checkAcks([], stored).length, 5, 'without the epochs every copy counts');
  });

  test("a producer's records out of its sending order within a partition are reordered", () => {
    const stored = new Map([[0, [rec(0, 'a-0'), rec(1, 'a-2'), rec(2, 'b-0'), rec(3, 'a-1')]]]);
    const findings = checkAcks([], stored);
    assert.deepEqual(checks(findings), ['records reordered']);
    assert.match(findings[0].detail, /a-1 at offset 3 after a-2/);
  });

  const batch = (baseOffset: number, lastOffset: number, fill: number): StoredBatch => ({
    baseOffset,
    lastOffset,
    producerId: -1,
    producerEpoch: -1,
    bytes: Buffer.alloc(70, fill),
  });

  test('replicas are compared below the high watermark only, byte for byte', () => {
    const same = [batch(0, 4, 1), batch(5, 9, 2)];
    assert.deepEqual(
      checkReplicas([
        {
          partition: 't-0',
          highWatermark: 10,
          replicas: [
            { replica: 'broker 1', batches: [...same, batch(10, 12, 3)] },
            { replica: 'broker 2', batches: [...same, batch(10, 11, 4)] },
          ],
        },
      ]),
      [],
      'a tail above the high watermark may differ',
    );
    const findings = checkReplicas([
      {
        partition: 't-0',
        highWatermark: 10,
        replicas: [
          { replica: 'broker 1', batches: same },
          { replica: 'broker 2', batches: [same[0], batch(5, 9, 7)] },
          { replica: 'broker 3', batches: [same[0]] },
        ],
      },
    ]);
    assert.deepEqual(checks(findings), [
      'replicas differing below the HW',
      'replicas differing below the HW',
    ]);
    assert.match(findings[0].detail, /broker 3 holds offsets below 5 only, the high watermark is 10/);
    assert.match(findings[1].detail, /broker 1 and broker 2 differ from the batch at offset 5/);
  });

  const offset = (
    source: 'commit' | 'fetch',
    value: number,
    t: number,
    answered?: number,
  ): CommittedOffset => ({ group: 'g', source, by: 'x', partition: 0, offset: value, t, answered });

  test('a fetch that returns less than a commit acknowledged before it was sent: offsets went back', () => {
    const findings = checkCommittedOffsets([
      offset('commit', 10, 100),
      offset('fetch', 10, 110, 120),
      offset('commit', 20, 130),
      offset('fetch', 15, 140, 150),
    ]);
    assert.deepEqual(checks(findings), ['committed offsets going back']);
    assert.match(findings[0].detail, /returned 15, after a commit acknowledged to x .* had 20/);
  });

  test('a fetch that returns less than an earlier fetch answered before it was sent: offsets went back', () => {
    const findings = checkCommittedOffsets([offset('fetch', 30, 100, 110), offset('fetch', 25, 120, 130)]);
    assert.deepEqual(checks(findings), ['committed offsets going back']);
  });

  test('a lower value a member committed while its higher commit was in flight may come last', () => {
    const overlapping = (value: number, sent: number, t: number): CommittedOffset => ({
      ...offset('commit', value, t),
      sent,
    });
    // 10 sent at 100 and retried until 300; 20 sent at 150, acknowledged at 160; readers see 10 from 200.
    const history = [
      overlapping(10, 100, 300),
      overlapping(20, 150, 160),
      offset('fetch', 20, 165, 170),
      offset('fetch', 10, 200, 210),
      offset('fetch', 10, 250, 260),
    ];
    assert.deepEqual(checkCommittedOffsets(history), []);
    // A value committed and acknowledged before the higher one was sent cannot come back.
    const findings = checkCommittedOffsets([
      overlapping(10, 100, 120),
      overlapping(20, 150, 160),
      offset('fetch', 10, 200, 210),
    ]);
    assert.deepEqual(checks(findings), ['committed offsets going back']);
  });

  test('a fetch in flight while commits land may see any of them; commits alone are not judged', () => {
    assert.deepEqual(
      checkCommittedOffsets([
        offset('commit', 10, 100),
        offset('fetch', 30, 105, 140),
        offset('commit', 20, 110),
        offset('commit', 30, 120),
        offset('commit', 25, 130),
        offset('fetch', 30, 150, 160),
      ]),
      [],
    );
  });

  test('an acknowledged record below the final committed offset that no member was handed', () => {
    const acks = [ack('a', 0, 0, 0), ack('a', 1, 0, 1), ack('a', 2, 0, 2)];
    const consumed = new Map([['g', new Map([[0, new Set([0, 2])]])]]);
    const findings = checkDelivered(acks, consumed, new Map([['g', new Map([[0, 2]])]]));
    assert.deepEqual(checks(findings), ['records committed, never delivered']);
    assert.match(findings[0].detail, /g: a-1 at 0\/1, below its committed offset 2/);
  });

  test('a mirror partition that differs in offset, key, value or length', () => {
    const source = new Map([
      [0, [rec(0, 'a'), rec(1, 'b')]],
      [1, [rec(0, 'c')]],
      [2, [rec(0, 'd')]],
    ]);
    const target = new Map([
      [0, [rec(0, 'a'), rec(1, 'b')]],
      [1, [rec(1, 'c')]],
      [2, []],
    ]);
    const findings = checkMirror(source, target);
    assert.deepEqual(checks(findings), ['mirror records differing', 'mirror records differing']);
    assert.match(findings[0].detail, /partition 1: .* source 0:c=c, mirror 1:c=c/);
    assert.match(findings[1].detail, /partition 2: source has 1 records, mirror 0/);
  });

  test('a producer with nothing acknowledged in a partition after healing: writes not resumed', () => {
    const acks = [
      ack('a', 0, 0, 0, 1000),
      ack('a', 1, 1, 0, 1000),
      ack('a', 2, 0, 1, 5000),
      ack('b', 0, 0, 0, 6000),
    ];
    const findings = checkResumed(acks, ['a', 'b'], 2, 4000);
    assert.deepEqual(checks(findings), [
      'writes not resumed after healing',
      'writes not resumed after healing',
    ]);
    assert.match(
      findings[0].detail,
      /^a: nothing acknowledged in partition 1 after healing; the last 3\.0 s before/,
    );
    assert.match(findings[1].detail, /^b: nothing acknowledged in partition 1 after healing; never anything/);
  });

  test('the longest silence of each partition, counting the window edges', () => {
    const acks = [ack('a', 0, 0, 0, 1000), ack('a', 1, 0, 1, 1500), ack('a', 2, 1, 0, 3000)];
    assert.deepEqual(longestSilences(acks, 2, 0, 4000), [
      { partition: 0, ms: 2500, from: 1500, to: 4000 },
      { partition: 1, ms: 3000, from: 0, to: 3000 },
    ]);
  });
});

describe('the fault plan', () => {
  const options = { durationMs: 600_000, targetBrokers: 2, maxConcurrent: 3 };

  test('one seed, one plan; another seed, another plan', () => {
    assert.deepEqual(planFaults(new Prng('x'), options), planFaults(new Prng('x'), options));
    assert.notDeepEqual(planFaults(new Prng('x'), options), planFaults(new Prng('y'), options));
  });

  test('each fault is counted under the kind that drew it', () => {
    for (const [kind] of FAULT_KINDS)
      for (const { fault } of planFaults(new Prng(kind), { ...options, kinds: [kind] }))
        assert.equal(faultKind(fault), kind, JSON.stringify(fault));
  });

  test('faults overlap up to the bound, never two on one process, never three source brokers down', () => {
    const plan = planFaults(new Prng('bounds'), options);
    const kinds = new Set(plan.map((p) => p.fault.kind));
    assert.deepEqual([...kinds].sort(), [
      'cut-brokers',
      'cut-clients',
      'cut-redis',
      'isolate',
      'kill',
      'pause',
    ]);
    let overlapped = false;
    for (const p of plan) {
      const active = plan.filter((q) => q.at <= p.at && q.at + q.fault.ms > p.at);
      assert.ok(active.length <= 3, `at most 3 faults at +${p.at} ms`);
      if (active.length > 1) overlapped = true;
      const processes = active.flatMap((q) =>
        q.fault.kind === 'kill' || q.fault.kind === 'pause' ? [q.fault.process] : [],
      );
      assert.equal(new Set(processes).size, processes.length, `one fault per process at +${p.at} ms`);
      const brokers = processes.filter((x) => x === 'controller' || x.startsWith('source-broker-'));
      assert.ok(brokers.length <= 2, `at most two source brokers down at +${p.at} ms`);
      assert.ok(p.at + p.fault.ms <= options.durationMs, 'healed before the end');
    }
    assert.ok(overlapped, 'faults overlap');
  });

  test('a hunt draws only the kinds of fault asked for', () => {
    const plan = planFaults(new Prng('hunt'), { ...options, kinds: ['kill-controller', 'pause-broker'] });
    assert.ok(plan.length > 10);
    for (const { fault } of plan) {
      assert.ok(
        (fault.kind === 'kill' && fault.process === 'controller') ||
          (fault.kind === 'pause' && fault.process.startsWith('source-broker-')),
        JSON.stringify(fault),
      );
      assert.ok(['kill-controller', 'pause-broker'].includes(faultKind(fault)), JSON.stringify(fault));
    }
    assert.throws(
      () => planFaults(new Prng('hunt'), { ...options, kinds: ['flood'] }),
      /no fault kinds among flood/,
    );
  });
});

describe('the group sampler', () => {
  test("a group's __consumer_offsets partition is Kafka's: abs(String.hashCode) % partitions", () => {
    // Java: "hello".hashCode() == 99162322; "polygenelubricants".hashCode() == Integer.MIN_VALUE.
    assert.equal(offsetsPartitionFor('hello', 50), 99162322 % 50);
    assert.equal(offsetsPartitionFor('polygenelubricants', 7), 0);
  });
});
