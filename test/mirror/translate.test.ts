import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Admin, Consumer, Producer } from '@tributary/client';
import { Mirror, parseMirrorConfig, parseOrigin, ORIGIN_HEADER } from '@tributary/mirror';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import {
  readPartition,
  takeoverSeconds,
  startMirrorWorker,
  until,
  writeMirrorConfig,
  type MirrorWorker,
} from '../support/mirror-process';
import { startRedis, type RedisProcess } from '../support/redis-process';

const quiet = {
  log: () => undefined,
  warn: (m: string) => (process.env.MIRROR_DEBUG ? console.error(m) : undefined),
  error: (m: string) => console.error(m),
};

async function latest(bootstrap: string, topic: string): Promise<number> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    return (await admin.listOffsets([{ topic, partition: 0 }], 'latest'))[0].offset;
  } catch {
    return -1;
  } finally {
    await admin.close();
  }
}

/** Records in a partition as kcat reads them, -1 while the topic does not exist yet. */
async function recordsIn(bootstrap: string, topic: string): Promise<number> {
  try {
    return (await readPartition(bootstrap, topic, 0)).length;
  } catch {
    return -1;
  }
}

/**
 * Translated offsets: two sources merged by the identity policy into one target topic, one
 * of them compacted so its offsets have gaps. MirrorMaker 2 can only translate at its sync
 * points; here every committed offset translates exactly.
 */
describe('mirror: identity merge with translated offsets', { timeout: 240_000 }, () => {
  let redis: RedisProcess;
  let s1: BrokerProcess;
  let s2: BrokerProcess;
  let t: BrokerProcess;
  let mirror: Mirror;

  before(async () => {
    redis = await startRedis();
    s1 = await startBroker({
      extraArgs: ['--set', 'log.cleaner.backoff.ms=100', '--set', 'group.initial.rebalance.delay.ms=100'],
    });
    s2 = await startBroker();
    t = await startBroker({ extraArgs: ['--set', 'group.initial.rebalance.delay.ms=100'] });
  });

  after(async () => {
    await mirror?.stop();
    for (const b of [s1, s2, t]) await b?.stop();
    await redis?.stop();
  });

  test('a group failing over from a compacted source resumes at the exact record after its commit, and checkpoints decode as MM2', async () => {
    // s1: a compacted topic whose cleaned log has gaps in its offsets.
    const a1 = new Admin({ bootstrapServers: s1.bootstrap });
    await a1.createTopics([
      {
        name: 'events',
        numPartitions: 1,
        configs: {
          'cleanup.policy': 'compact',
          'segment.bytes': '2048',
          'min.cleanable.dirty.ratio': '0.01',
          'delete.retention.ms': '0',
        },
      },
    ]);
    const p1 = new Producer({ bootstrapServers: s1.bootstrap, lingerMs: 0 });
    for (let i = 0; i < 400; i += 20) {
      await p1.send({
        topic: 'events',
        messages: Array.from({ length: 20 }, (_, j) => ({
          key: (i + j) % 2 === 0 ? `u${i + j}` : `hot${(i + j) % 3}`,
          value: `s1-${i + j}`,
        })),
      });
    }
    await p1.close();
    let previous = -1;
    await until(
      'the source log compacted, with gaps, and stable',
      async () => {
        const n = (await readPartition(s1.bootstrap, 'events', 0)).length;
        const stable = n === previous && n < 300;
        previous = n;
        return stable;
      },
      60_000,
      1500,
    );
    const sourceRecords = await readPartition(s1.bootstrap, 'events', 0);
    const sourceOffsets = sourceRecords.map((r) => r.offset);
    // A committed offset that falls into a gap: the next record is the one after it.
    const gapAt = sourceOffsets.findIndex((o, i) => i > 0 && o > sourceOffsets[i - 1] + 1 && i > 5);
    assert.ok(gapAt > 0, `compaction left a gap: ${sourceOffsets.join(',')}`);
    const committed = sourceOffsets[gapAt - 1] + 1;
    const expectedFirst = sourceOffsets[gapAt];
    assert.ok(expectedFirst > committed, `offset ${committed} is missing in the source`);

    const a2 = new Admin({ bootstrapServers: s2.bootstrap });
    await a2.createTopics([{ name: 'events', numPartitions: 1 }]);
    const p2 = new Producer({ bootstrapServers: s2.bootstrap });
    await p2.send({
      topic: 'events',
      messages: Array.from({ length: 150 }, (_, i) => ({ key: `s2-${i}`, value: `s2-${i}` })),
    });
    await p2.close();
    await a2.close();

    // The application's group on s1 committed `committed`.
    await a1.resetOffsets('failover-app', [], {
      offsets: [{ topic: 'events', partition: 0, offset: committed }],
    });
    await a1.close();

    const flow = (source: string) => ({
      source,
      target: 't',
      'replication.policy': 'identity',
      offsets: 'translate',
      topics: 'events',
      'refresh.topics.interval.seconds': 1,
      'emit.checkpoints.interval.seconds': 1,
      'sync.group.offsets.enabled': source === 's1',
      'sync.group.offsets.interval.seconds': 1,
      'offset.lag.max': 10,
      // Two sources merge into one topic: neither one's topic settings are the target's.
      'sync.topic.configs.enabled': false,
    });
    const config = parseMirrorConfig(
      {
        namespace: 'translate',
        clusters: {
          s1: { 'bootstrap.servers': s1.bootstrap },
          s2: { 'bootstrap.servers': s2.bootstrap },
          t: { 'bootstrap.servers': t.bootstrap },
        },
        flows: [flow('s1'), flow('s2')],
      },
      'translate-test',
    );
    mirror = new Mirror(config, { url: redis.url }, quiet);
    await mirror.start();
    const total = sourceRecords.length + 150;
    // Records, not offsets: each translated chunk's commit marker takes an offset in the target.
    await until(
      'both sources merged into t/events',
      async () => (await recordsIn(t.bootstrap, 'events')) === total,
      90_000,
      500,
    ).catch(async (err: Error) => {
      const status = (await mirror.control.status()).map((f) =>
        f.partitions.map(
          (u) =>
            `${f.name} ${u.topic}-${u.partition} at ${u.position}/${u.sourceEnd} ${u.error?.message ?? ''}`,
        ),
      );
      throw new Error(
        `${err.message}: t/events has ${await recordsIn(t.bootstrap, 'events')} of ${total}; ${JSON.stringify(status)}`,
      );
    });

    // Every source record is in the target once, with its provenance, in source order per source.
    const merged = await readPartition(t.bootstrap, 'events', 0);
    const origins = merged.map((r) => {
      const i = r.headers.lastIndexOf(ORIGIN_HEADER);
      return parseOrigin(i < 0 ? null : Buffer.from(r.headers[i + 1]));
    });
    const fromS1 = origins.filter((o) => o?.cluster === 's1').map((o) => o?.offset);
    assert.deepEqual(fromS1, sourceOffsets, 's1 records once each, in order');
    assert.equal(origins.filter((o) => o?.cluster === 's2').length, 150);

    // The group's offset is synced into t while the group is idle there.
    await until(
      'failover-app has an offset on t',
      async () => {
        const admin = new Admin({ bootstrapServers: t.bootstrap });
        try {
          return (await admin.fetchOffsets('failover-app')).length > 0;
        } catch {
          return false;
        } finally {
          await admin.close();
        }
      },
      60_000,
      500,
    );
    const consumer = new Consumer({
      bootstrapServers: t.bootstrap,
      groupId: 'failover-app',
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 100,
    });
    consumer.subscribe(['events']);
    const seenFromS1: number[] = [];
    await consumer.run({
      eachMessage: (m) => {
        const h = m.headers.filter((x) => x.key === ORIGIN_HEADER).at(-1);
        const o = parseOrigin(h?.value ?? null);
        if (o?.cluster === 's1') seenFromS1.push(o.offset);
        if (seenFromS1.length >= 3) void consumer.stop();
      },
    });
    await consumer.close();
    assert.equal(
      seenFromS1[0],
      expectedFirst,
      `resumes at source offset ${expectedFirst}, the first record after the commit at ${committed}`,
    );
    assert.ok(
      seenFromS1.every((o) => o >= committed),
      'nothing before the commit is read again',
    );

    // Checkpoints in MirrorMaker 2's format, read by a decoder written from MM2's schema (Python struct).
    const reader = new Consumer({
      bootstrapServers: t.bootstrap,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 100,
    });
    reader.assign([{ topic: 's1.checkpoints.internal', partition: 0 }]);
    const end = await latest(t.bootstrap, 's1.checkpoints.internal');
    const raw: { key: string; value: string }[] = [];
    await reader.run({
      eachMessage: (m) => {
        raw.push({ key: (m.key as Buffer).toString('hex'), value: (m.value as Buffer).toString('hex') });
        if (m.offset + 1 >= end) void reader.stop();
      },
    });
    await reader.close();
    const script = `
import json, struct, sys
def string(b, i):
    (n,) = struct.unpack_from('>h', b, i); return b[i+2:i+2+n].decode(), i + 2 + n
out = []
for r in json.load(sys.stdin):
    k, v = bytes.fromhex(r['key']), bytes.fromhex(r['value'])
    g, i = string(k, 0); t, i = string(k, i); (p,) = struct.unpack_from('>i', k, i)
    (ver, up, off) = struct.unpack_from('>hqq', v, 0); meta, _ = string(v, 18)
    out.append([g, t, p, ver, up, off, meta])
print(json.dumps(out))`;
    const decoded = JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(raw) }).toString(),
    ) as [string, string, number, number, number, number, string][];
    const mine = decoded.filter((c) => c[0] === 'failover-app').at(-1);
    assert.ok(mine !== undefined, 'a checkpoint for failover-app');
    const firstAfter = merged.find(
      (_, i) => origins[i]?.cluster === 's1' && (origins[i]?.offset ?? -1) >= committed,
    );
    assert.deepEqual(mine, ['failover-app', 'events', 0, 0, committed, firstAfter?.offset, '']);
  });
});

/** Flows in both directions between two clusters never loop. */
describe('mirror: bidirectional flows', { timeout: 180_000 }, () => {
  let redis: RedisProcess;
  let x: BrokerProcess;
  let y: BrokerProcess;
  let mirror: Mirror;

  before(async () => {
    redis = await startRedis();
    x = await startBroker();
    y = await startBroker();
    for (const b of [x, y]) {
      const admin = new Admin({ bootstrapServers: b.bootstrap });
      await admin.createTopics([
        { name: 'orders', numPartitions: 1 },
        { name: 'shared', numPartitions: 1 },
      ]);
      await admin.close();
    }
    const fast = { 'refresh.topics.interval.seconds': 1, 'emit.heartbeats.enabled': false };
    const config = parseMirrorConfig(
      {
        namespace: 'bidi',
        clusters: { x: { 'bootstrap.servers': x.bootstrap }, y: { 'bootstrap.servers': y.bootstrap } },
        flows: [
          { name: 'x->y', source: 'x', target: 'y', topics: 'orders', ...fast },
          { name: 'y->x', source: 'y', target: 'x', topics: 'orders|x\\..*|y\\..*', ...fast },
          {
            name: 'x->y shared',
            source: 'x',
            target: 'y',
            topics: 'shared',
            'replication.policy': 'identity',
            ...fast,
          },
          {
            name: 'y->x shared',
            source: 'y',
            target: 'x',
            topics: 'shared',
            'replication.policy': 'identity',
            ...fast,
          },
        ].map((f) => ({ ...f, name: f.name.replace(' ', '-') })),
      },
      'bidi-test',
    );
    mirror = new Mirror(config, { url: redis.url }, quiet);
    await mirror.start();
  });

  after(async () => {
    await mirror?.stop();
    await x?.stop();
    await y?.stop();
    await redis?.stop();
  });

  /** `count` records born on each side: values x-0.. on x and y-0.. on y. */
  const produceOnBoth = async (topic: string, count: number): Promise<void> => {
    for (const [b, name] of [
      [x, 'x'],
      [y, 'y'],
    ] as const) {
      const p = new Producer({ bootstrapServers: b.bootstrap });
      await p.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `${name}-${i}` })) });
      await p.close();
    }
  };

  test('prefix policy: x.orders reaches y and y.orders reaches x, and nothing comes back', async () => {
    await produceOnBoth('orders', 50);
    await until(
      'each side has the other one’s orders',
      async () =>
        (await latest(y.bootstrap, 'x.orders')) === 50 && (await latest(x.bootstrap, 'y.orders')) === 50,
      60_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 4000));
    for (const b of [x, y]) {
      const admin = new Admin({ bootstrapServers: b.bootstrap });
      const topics = (await admin.listTopics()).filter((n) => n.includes('orders'));
      await admin.close();
      assert.deepEqual(
        topics.sort(),
        ['orders', b === x ? 'y.orders' : 'x.orders'],
        'no x.y.orders or y.x.orders: mirrors are never mirrored back',
      );
    }
  });

  test('identity policy: records born on either side reach the other once and never echo', async () => {
    await produceOnBoth('shared', 40);
    // Records, not offsets: the translated copies' commit markers take offsets too.
    const records = (b: BrokerProcess): Promise<number> => recordsIn(b.bootstrap, 'shared');
    await until(
      'both sides hold all 80',
      async () => (await records(x)) === 80 && (await records(y)) === 80,
      60_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(await records(x), 80, 'x did not get its own records back');
    assert.equal(await records(y), 80, 'y did not get its own records back');
    const values = (await readPartition(x.bootstrap, 'shared', 0)).map((r) => r.value).sort();
    assert.equal(new Set(values).size, 80);
  });
});

/** Translated offsets under failure: a worker killed mid-stream leaves every record in the target once. */
describe('mirror: translate mode with a worker kill -9ed mid-stream', { timeout: 240_000 }, () => {
  let redis: RedisProcess;
  let src: BrokerProcess;
  let dst: BrokerProcess;
  const workers: MirrorWorker[] = [];

  before(async () => {
    redis = await startRedis();
    src = await startBroker();
    dst = await startBroker();
    const admin = new Admin({ bootstrapServers: src.bootstrap });
    await admin.createTopics([{ name: 'payments', numPartitions: 2 }]);
    await admin.close();
    const config = writeMirrorConfig({
      redis: redis.url,
      namespace: 'translate-kill',
      clusters: { src: { 'bootstrap.servers': src.bootstrap }, dst: { 'bootstrap.servers': dst.bootstrap } },
      flows: [
        {
          source: 'src',
          target: 'dst',
          topics: 'payments',
          'replication.policy': 'identity',
          offsets: 'translate',
          'refresh.topics.interval.seconds': 1,
          'emit.heartbeats.enabled': false,
        },
      ],
      worker: { 'unit.slice.ms': 2000, 'lock.duration.ms': 2000 },
    });
    workers.push(await startMirrorWorker(config), await startMirrorWorker(config));
  });

  after(async () => {
    for (const w of workers) await w.stop();
    await src?.stop();
    await dst?.stop();
    await redis?.stop();
  });

  test('every source record reaches the target exactly once, in order per partition', async (t) => {
    const producer = new Producer({ bootstrapServers: src.bootstrap, lingerMs: 2 });
    const total = 8000;
    const writing = (async () => {
      for (let i = 0; i < total; i += 100) {
        await producer.send({
          topic: 'payments',
          messages: Array.from({ length: 100 }, (_, j) => ({ key: `c${(i + j) % 23}`, value: `p-${i + j}` })),
        });
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const copied = async (): Promise<number> => {
      const admin = new Admin({ bootstrapServers: dst.bootstrap });
      try {
        const ends = await admin.listOffsets(
          [0, 1].map((partition) => ({ topic: 'payments', partition })),
          'latest',
        );
        return ends.reduce((n, e) => n + e.offset, 0);
      } catch {
        return 0;
      } finally {
        await admin.close();
      }
    };
    await until('the mirror is half way', async () => (await copied()) > total / 3, 60_000, 50);
    await workers[0].kill9();
    await writing;
    await producer.close();
    await until('the survivor copied everything', async () => (await copied()) >= total, 90_000, 250);
    // Silent since its last heartbeat (1 s apart): the lock (2 s) lapses, the next stall check (0.5 s) moves the unit; a second of slack.
    const took = takeoverSeconds(workers[1].output());
    t.diagnostic(`translate-mode takeover after kill -9: ${took.join(', ')} s`);
    for (const s of took) assert.ok(s <= 4.5, `a unit was taken over after ${s} s`);
    await new Promise((r) => setTimeout(r, 2000));
    for (const p of [0, 1]) {
      const source = (await readPartition(src.bootstrap, 'payments', p)).map((r) => r.offset);
      const target = (await readPartition(dst.bootstrap, 'payments', p)).map((r) => {
        const i = r.headers.lastIndexOf(ORIGIN_HEADER);
        return parseOrigin(i < 0 ? null : Buffer.from(r.headers[i + 1]))?.offset;
      });
      assert.deepEqual(target, source, `partition ${p}: each source record once, in order`);
    }
  });
});
