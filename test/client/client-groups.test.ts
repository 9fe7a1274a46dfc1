import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Consumer, Producer, type TopicPartition } from '@tributary/client';
import { startBroker, type BrokerProcess } from '../support/broker-process';

const key = (tp: TopicPartition): string => `${tp.topic}-${tp.partition}`;

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Our consumers in groups, against a broker process. */
describe('libs/client consumer groups', () => {
  let broker: BrokerProcess;
  let admin: Admin;

  before(async () => {
    broker = await startBroker({ extraArgs: ['--set', 'group.initial.rebalance.delay.ms=200'] });
    admin = new Admin({ bootstrapServers: broker.bootstrap });
  });

  after(async () => {
    await admin.close();
    assert.equal(await broker.stop(), 0);
  });

  const consumerOptions = (groupId: string, assignors: string[]) => ({
    bootstrapServers: broker.bootstrap,
    groupId,
    assignors,
    autoOffsetReset: 'earliest' as const,
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 10000,
    fetchMaxWaitMs: 200,
    autoCommitIntervalMs: 200,
  });

  test(
    'range: three members share six partitions; when one leaves, the others take its partitions; every record once',
    { timeout: 120_000 },
    async () => {
      await admin.createTopics([{ name: 'shared', numPartitions: 6 }]);
      const producer = new Producer({ bootstrapServers: broker.bootstrap });
      const seen = new Map<string, string[]>();
      const owners = new Map<string, Set<string>>();
      const members = ['a', 'b', 'c'].map((name) => {
        const c = new Consumer(consumerOptions('g-range', ['range']));
        owners.set(name, new Set());
        c.subscribe(['shared'], {
          onPartitionsAssigned: (tps) => tps.forEach((tp) => owners.get(name)?.add(key(tp))),
          onPartitionsRevoked: (tps) => tps.forEach((tp) => owners.get(name)?.delete(key(tp))),
        });
        const running = c.run({
          eachMessage: (m) => {
            const v = m.value?.toString() ?? '';
            // No partition is owned by two members at once.
            const holders = [...owners]
              .filter(([, set]) => set.has(`${m.topic}-${m.partition}`))
              .map(([n]) => n);
            assert.deepEqual(holders, [name], `${m.topic}-${m.partition} held by ${holders.join(',')}`);
            seen.set(v, [...(seen.get(v) ?? []), name]);
          },
        });
        return { name, c, running };
      });
      // A member that joins after the first generation formed gets its share one rebalance later.
      await until('two partitions for each member', () => [...owners.values()].every((s) => s.size === 2));

      await producer.send({
        topic: 'shared',
        messages: Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: `first-${i}` })),
      });
      await until('the first 300 records consumed', () => seen.size === 300);

      const leaving = members[2];
      await leaving.c.close();
      await leaving.running;
      await until('the survivors own all six', () => owners.get('a')!.size + owners.get('b')!.size === 6);

      await producer.send({
        topic: 'shared',
        messages: Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, value: `second-${i}` })),
      });
      await until('the next 300 consumed', () => seen.size === 600);
      for (const [value, by] of seen) assert.equal(by.length, 1, `${value} consumed once (${by.join(',')})`);
      for (const m of members.slice(0, 2)) await m.c.close();
      await producer.close();
      const committed = await admin.fetchOffsets('g-range');
      assert.equal(
        committed.reduce((n, o) => n + o.offset, 0),
        600,
        'the commits cover every record',
      );
    },
  );

  test(
    'cooperative-sticky: a joining member takes only what it must, and nobody revokes what it keeps',
    { timeout: 120_000 },
    async () => {
      await admin.createTopics([{ name: 'sticky', numPartitions: 6 }]);
      const owned = new Map<string, Set<string>>();
      const revoked = new Map<string, string[]>();
      const start = (name: string) => {
        const c = new Consumer(consumerOptions('g-coop', ['cooperative-sticky']));
        owned.set(name, new Set());
        revoked.set(name, []);
        c.subscribe(['sticky'], {
          onPartitionsAssigned: (tps) => tps.forEach((tp) => owned.get(name)?.add(key(tp))),
          onPartitionsRevoked: (tps) =>
            tps.forEach((tp) => {
              owned.get(name)?.delete(key(tp));
              revoked.get(name)?.push(key(tp));
            }),
        });
        return { c, running: c.run({ eachMessage: () => undefined }) };
      };
      const a = start('a');
      const b = start('b');
      await until('a and b share six', () => owned.get('a')!.size === 3 && owned.get('b')!.size === 3);
      const before = { a: new Set(owned.get('a')), b: new Set(owned.get('b')) };
      // If a formed the group alone, it already gave b its share; only what follows c's join counts.
      const revokedBefore = { a: revoked.get('a')!.length, b: revoked.get('b')!.length };
      const c = start('c');
      await until(
        'c has two',
        () => owned.get('c')!.size === 2 && owned.get('a')!.size === 2 && owned.get('b')!.size === 2,
      );
      const moved = [...owned.get('c')!];
      assert.equal(moved.length, 2, 'exactly two partitions moved (6 over 3 members)');
      // What a and b revoked is exactly what c received; what they kept they never gave up.
      assert.deepEqual(
        [...revoked.get('a')!.slice(revokedBefore.a), ...revoked.get('b')!.slice(revokedBefore.b)].sort(),
        moved.sort(),
      );
      for (const p of owned.get('a')!) assert.ok(before.a.has(p));
      for (const p of owned.get('b')!) assert.ok(before.b.has(p));
      for (const m of [a, b, c]) await m.c.close();
    },
  );

  test(
    'a regex subscription picks up matching topics, also one created later; pause and resume hold a partition back',
    { timeout: 120_000 },
    async () => {
      await admin.createTopics([
        { name: 'metrics-cpu', numPartitions: 1 },
        { name: 'other', numPartitions: 1 },
      ]);
      const producer = new Producer({ bootstrapServers: broker.bootstrap });
      await producer.send({ topic: 'metrics-cpu', messages: [{ value: 'cpu-1' }] });
      await producer.send({ topic: 'other', messages: [{ value: 'other-1' }] });
      const c = new Consumer({ ...consumerOptions('g-regex', ['range']), metadataMaxAgeMs: 500 });
      const seen: string[] = [];
      c.subscribe([/^metrics-.*/]);
      const running = c.run({ eachMessage: (m) => void seen.push(m.value?.toString() ?? '') });
      await until('the first matching topic is read', () => seen.includes('cpu-1'));
      await admin.createTopics([{ name: 'metrics-disk', numPartitions: 1 }]);
      await producer.send({ topic: 'metrics-disk', messages: [{ value: 'disk-1' }] });
      await until('a topic created later is read too', () => seen.includes('disk-1'));
      c.pause([{ topic: 'metrics-cpu', partition: 0 }]);
      assert.deepEqual(c.paused(), [{ topic: 'metrics-cpu', partition: 0 }]);
      await producer.send({ topic: 'metrics-cpu', messages: [{ value: 'cpu-2' }] });
      await producer.send({ topic: 'metrics-disk', messages: [{ value: 'disk-2' }] });
      await until('the unpaused partition goes on', () => seen.includes('disk-2'));
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!seen.includes('cpu-2'), 'the paused partition is held back');
      c.resume([{ topic: 'metrics-cpu', partition: 0 }]);
      await until('the resumed partition delivers', () => seen.includes('cpu-2'));
      assert.ok(!seen.some((v) => v.startsWith('other')), 'a topic the pattern does not match is never read');
      await c.close();
      await running;
      await producer.close();
    },
  );
});
