import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cooperativeStickyAssignor,
  rangeAssignor,
  roundRobinAssignor,
  type MemberSubscription,
  type TopicPartitions,
} from './assignors';

const member = (
  memberId: string,
  topics: string[],
  owned: Record<string, number[]> = {},
  generationId = 1,
): MemberSubscription => ({
  memberId,
  groupInstanceId: null,
  topics,
  ownedPartitions: Object.entries(owned).map(([topic, partitions]) => ({ topic, partitions })),
  generationId,
});

const plain = (a: Map<string, TopicPartitions>): Record<string, Record<string, number[]>> =>
  Object.fromEntries(
    [...a].map(([m, tps]) => [m, Object.fromEntries([...tps].filter(([, ps]) => ps.length > 0))]),
  );

describe('range', () => {
  test('splits each topic into consecutive ranges, the first members taking the extra partitions', () => {
    const members = [member('c', ['t', 'u']), member('a', ['t', 'u']), member('b', ['t'])];
    const out = plain(
      rangeAssignor.assign(
        members,
        new Map([
          ['t', 7],
          ['u', 3],
        ]),
      ),
    );
    assert.deepEqual(out, {
      a: { t: [0, 1, 2], u: [0, 1] },
      b: { t: [3, 4] },
      c: { t: [5, 6], u: [2] },
    });
  });
});

describe('roundrobin', () => {
  test('deals every partition in turn, skipping members not subscribed to its topic', () => {
    const members = [member('a', ['t', 'u']), member('b', ['t'])];
    const out = plain(
      roundRobinAssignor.assign(
        members,
        new Map([
          ['t', 3],
          ['u', 2],
        ]),
      ),
    );
    assert.deepEqual(out, { a: { t: [0, 2], u: [0, 1] }, b: { t: [1] } });
  });
});

describe('cooperative-sticky', () => {
  const counts = new Map([['t', 6]]);

  test('a fresh group is balanced', () => {
    const out = cooperativeStickyAssignor.assign(
      [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
      counts,
    );
    const sizes = [...out.values()].map((a) => a.get('t')?.length ?? 0);
    assert.deepEqual(sizes, [2, 2, 2]);
    const all = [...out.values()].flatMap((a) => a.get('t') ?? []).sort();
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5]);
  });

  test('a joining member: owners keep what they may, and what moves is withheld until revoked', () => {
    const members = [
      member('a', ['t'], { t: [0, 1, 2] }),
      member('b', ['t'], { t: [3, 4, 5] }),
      member('c', ['t']),
    ];
    const first = plain(cooperativeStickyAssignor.assign(members, counts));
    // a and b each give up one partition; c gets nothing yet (the partitions are still owned).
    assert.equal(first.a.t.length, 2);
    assert.equal(first.b.t.length, 2);
    assert.deepEqual(first.c, {});
    for (const p of first.a.t) assert.ok([0, 1, 2].includes(p), 'a keeps only its own');
    for (const p of first.b.t) assert.ok([3, 4, 5].includes(p), 'b keeps only its own');
    // Second round: a and b have revoked; c now receives the two freed partitions.
    const second = plain(
      cooperativeStickyAssignor.assign(
        [
          member('a', ['t'], { t: first.a.t }, 2),
          member('b', ['t'], { t: first.b.t }, 2),
          member('c', ['t'], {}, 2),
        ],
        counts,
      ),
    );
    assert.deepEqual(second.a, first.a);
    assert.deepEqual(second.b, first.b);
    assert.equal(second.c.t.length, 2);
    const moved = [0, 1, 2, 3, 4, 5].filter((p) => !first.a.t.includes(p) && !first.b.t.includes(p));
    assert.deepEqual(second.c.t, moved);
  });

  test('a departed member’s partitions go to the survivors at once (nobody has to revoke them)', () => {
    const members = [member('a', ['t'], { t: [0, 1] }), member('b', ['t'], { t: [2, 3] })];
    const out = plain(cooperativeStickyAssignor.assign(members, counts));
    assert.deepEqual(out.a.t.slice(0, 2), [0, 1]);
    assert.ok(out.b.t.includes(2) && out.b.t.includes(3));
    assert.equal(out.a.t.length + out.b.t.length, 6);
  });

  test('two members claiming one partition: the newer generation keeps it', () => {
    const members = [member('a', ['t'], { t: [0] }, 1), member('b', ['t'], { t: [0] }, 2)];
    const out = plain(cooperativeStickyAssignor.assign(members, new Map([['t', 2]])));
    assert.deepEqual(out.b.t, [0]);
  });
});
