import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PYTHON, PYTHON_DIR, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';

interface Report {
  shared: boolean;
  [assignments: `assignments_${string}`]: number[][];
  consumed: [string, number, number][];
  resumed: [number, number][];
  committed: Record<string, number>;
  list: [string, string][];
  describe: { state: string; protocol_type: string; protocol: string; members: [string, number[]][] };
  offsets: Record<string, number>;
  delete_busy: [string, string][];
  delete: [string, string][];
  offsets_after_delete: Record<string, number>;
  list_after_delete: string[];
}

/**
 * kafka-python 2.0.2's consumer group, which sends fixed old versions (JoinGroup v2, SyncGroup
 * v1, Heartbeat v1, LeaveGroup v1, OffsetCommit v2, OffsetFetch v1, FindCoordinator v0), and
 * its admin client's group operations.
 */
describe('kafka-python consumer groups against a broker process', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({
      extraArgs: ['--set', 'num.partitions=3', '--set', 'group.initial.rebalance.delay.ms=300'],
    });
  });

  after(async () => {
    assert.equal(await broker.stop(), 0);
  });

  test('two members share the partitions and commit; a third resumes from the commits; admin lists, describes and deletes', async () => {
    const r = await runAsync(
      PYTHON,
      [
        path.join(PYTHON_DIR, 'kafka_python_group.py'),
        broker.bootstrap,
        'kp-group-topic',
        '3',
        '20',
        'kp-group',
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.status, 0, `${r.stderr}\n${broker.output().slice(-3000)}`);
    const report = JSON.parse(r.stdout) as Report;

    assert.equal(report.shared, true, 'both members got partitions, none twice');
    const [one, two] = [report['assignments_kp-1'].at(-1) ?? [], report['assignments_kp-2'].at(-1) ?? []];
    assert.deepEqual([...one, ...two].sort(), [0, 1, 2]);
    // Every record once, by the member owning its partition.
    const seen = report.consumed.map(([, p, o]) => `${p}:${o}`);
    assert.equal(new Set(seen).size, seen.length, 'no record twice');
    assert.deepEqual(
      seen.sort(),
      [0, 1, 2].flatMap((p) => Array.from({ length: 20 }, (_, o) => `${p}:${o}`)).sort(),
    );
    for (const [member, p] of report.consumed) {
      assert.ok((member === 'kp-1' ? one : two).includes(p), `${member} read partition ${p} it did not own`);
    }

    assert.deepEqual(report.resumed, [], 'the third member starts after the committed offsets');
    assert.deepEqual(report.committed, { 0: 20, 1: 20, 2: 20 });
    assert.deepEqual(report.list, [['kp-group', 'consumer']]);
    assert.deepEqual(report.describe, {
      state: 'Stable',
      protocol_type: 'consumer',
      protocol: 'range',
      members: [['kp-3', [0, 1, 2]]],
    });
    assert.deepEqual(report.offsets, { 0: 20, 1: 20, 2: 20 });
    assert.deepEqual(report.delete_busy, [['kp-group', 'NonEmptyGroupError']]);
    assert.deepEqual(report.delete, [
      ['kp-group', 'NoError'],
      ['no-such-group', 'GroupIdNotFoundError'],
    ]);
    assert.deepEqual(report.offsets_after_delete, {});
    assert.deepEqual(report.list_after_delete, []);
  });
});
