import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import {
  PYTHON,
  PYTHON_DIR,
  ROOT,
  runAsync,
  startBroker,
  type BrokerProcess,
} from '../support/broker-process';
import { outputs, startCluster, type TestCluster } from '../support/cluster-process';
import { startMirrorWorker, until, writeMirrorConfig, type MirrorWorker } from '../support/mirror-process';
import type { RedisProcess } from '../support/redis-process';
import { apiClient, startConsoleProcess, type ConsoleProcess } from '../console/console-support';

const TOPIC = 'ha';
const PARTITIONS = 3;

/** Every record of a topic as "partition offset value", read with kcat from the cluster. */
async function readTopic(bootstrap: string, topic: string): Promise<{ p: number; o: number; v: string }[]> {
  const r = await runAsync(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-C', '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [p, o, v] = l.split(' ');
      return { p: Number(p), o: Number(o), v };
    });
}

/** A stored batch's header: its offsets, the leader epoch its leader stamped, its CRC. */
interface StoredBatch {
  readonly replica: number;
  readonly base: number;
  readonly last: number;
  readonly epoch: number;
  readonly crc: number;
}

/** The batch headers of every segment of one replica's log, read from its files. */
function storedBatches(dataDir: string, replica: number, topic: string, partition: number): StoredBatch[] {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  if (!fs.existsSync(dir)) return [];
  const out: StoredBatch[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()) {
    const buf = fs.readFileSync(path.join(dir, file));
    for (let at = 0; at + 61 <= buf.length;) {
      const length = buf.readInt32BE(at + 8);
      if (length <= 0 || at + 12 + length > buf.length) break;
      const base = Number(buf.readBigInt64BE(at));
      out.push({
        replica,
        base,
        last: base + buf.readInt32BE(at + 23),
        epoch: buf.readInt32BE(at + 12),
        crc: buf.readUInt32BE(at + 17),
      });
      at += 12 + length;
    }
  }
  return out;
}

/**
 * Batches of one leader epoch that no single leader could have written: two different
 * batches at one offset, or overlapping offset ranges that are not the same batch.
 */
function conflictingBatches(batches: readonly StoredBatch[]): string[] {
  const byEpoch = new Map<number, StoredBatch[]>();
  for (const b of batches) byEpoch.set(b.epoch, [...(byEpoch.get(b.epoch) ?? []), b]);
  const conflicts: string[] = [];
  for (const [epoch, list] of byEpoch) {
    const sorted = [...list].sort((a, b) => a.base - b.base || a.replica - b.replica);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1];
      const b = sorted[i];
      const same = a.base === b.base && a.last === b.last && a.crc === b.crc;
      if (!same && b.base <= a.last)
        conflicts.push(
          `epoch ${epoch}: replica ${a.replica} has ${a.base}..${a.last} (crc ${a.crc}), replica ${b.replica} ${b.base}..${b.last} (crc ${b.crc})`,
        );
    }
  }
  return conflicts;
}

/** The leader each controller chose per partition and leader epoch, from every broker's log. */
function electedLeaders(text: string, topic: string): Map<string, Set<number>> {
  const chosen = new Map<string, Set<number>>();
  const line = new RegExp(`controller: ${topic}-(\\d+): leader -?\\d+ -> (-?\\d+), epoch (\\d+)\\b`, 'g');
  for (const m of text.matchAll(line)) {
    const key = `${topic}-${m[1]} epoch ${m[3]}`;
    chosen.set(key, new Set([...(chosen.get(key) ?? []), Number(m[2])]));
  }
  return chosen;
}

describe('a cluster on a Sentinel-managed Redis whose primary dies', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  /** The primary the first test killed. */
  let killedPrimary: RedisProcess | null = null;

  before(async () => {
    cluster = await startCluster({ brokers: 3, sentinels: true });
  });

  after(async () => {
    await cluster?.stop();
  });

  test('kill -9 of the Redis primary and of a leader under idempotent acks=all load: leadership moves, nothing acknowledged is lost, no leader epoch has two leaders', async (t) => {
    const group = cluster.sentinels!;
    const admin = new Admin({ bootstrapServers: cluster.bootstrap });
    await admin.createTopics([
      {
        name: TOPIC,
        numPartitions: PARTITIONS,
        replicationFactor: 3,
        configs: { 'min.insync.replicas': '2' },
      },
    ]);
    await admin.close();
    await cluster.waitFor('every partition led with three replicas in sync', async () => {
      const ps = (await cluster.metadata([TOPIC])).topics[0].partitions;
      return ps.length === PARTITIONS && ps.every((p) => p.leaderId >= 0 && p.isrNodes.length === 3)
        ? true
        : undefined;
    });

    const producer = spawn(
      PYTHON,
      [path.join(PYTHON_DIR, 'cluster_producer.py'), cluster.bootstrap, TOPIC, '9000', '450'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    producer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    producer.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => producer.once('exit', resolve));
    const acked = () => out.split('\n').filter((l) => l.startsWith('A ')).length;
    await cluster.waitFor(
      '1500 acknowledged records',
      async () => (acked() >= 1500 ? true : undefined),
      30_000,
    );

    // The broker leading the most partitions dies with the Redis primary.
    const before = (await cluster.metadata([TOPIC])).topics[0].partitions;
    const counts = new Map<number, number>();
    for (const p of before) counts.set(p.leaderId, (counts.get(p.leaderId) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const oldPrimary = await group.primary();
    killedPrimary = oldPrimary;
    const killedAt = Date.now();
    await Promise.all([oldPrimary.kill9(), cluster.kill9(victim)]);

    const newPrimary = await group.waitForFailover(oldPrimary);
    t.diagnostic(`the sentinels promoted a replica ${Date.now() - killedAt} ms after the kills`);
    assert.notEqual(newPrimary.port, oldPrimary.port);
    await cluster.waitFor(
      `leadership to move off broker ${victim}`,
      async () => {
        const ps = (await cluster.metadata([TOPIC])).topics[0].partitions;
        return ps.every((p) => p.leaderId >= 0 && p.leaderId !== victim && !p.isrNodes.includes(victim))
          ? true
          : undefined;
      },
      45_000,
    );
    const movedAfterMs = Date.now() - killedAt;
    t.diagnostic(`leadership moved off broker ${victim} ${movedAfterMs} ms after the kills`);

    const timer = setTimeout(() => producer.kill('SIGKILL'), 90_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, `the producer finished (${code}):\n${err}\n${out.slice(-2000)}`);
    const lines = out.split('\n');
    assert.ok(
      lines.includes('DONE 0'),
      `every record was delivered:\n${lines
        .filter((l) => !l.startsWith('A '))
        .slice(-40)
        .join('\n')}`,
    );
    const acks = lines
      .filter((l) => l.startsWith('A '))
      .map((l) => {
        const [, t, p, o, v] = l.split(' ');
        return { t: Number(t), p: Number(p), o: Number(o), v };
      });
    assert.equal(acks.length, 9000, 'every record acknowledged');
    assert.ok(
      acks.some((a) => a.t > killedAt + movedAfterMs),
      'records were acknowledged after leadership moved',
    );

    const stored = await readTopic(cluster.bootstrap, TOPIC);
    const byValue = new Map<string, { p: number; o: number }[]>();
    for (const r of stored) byValue.set(r.v, [...(byValue.get(r.v) ?? []), { p: r.p, o: r.o }]);
    const missing = acks.filter((a) => {
      const at = byValue.get(a.v);
      return at === undefined || !at.some((x) => x.p === a.p && x.o === a.o);
    });
    assert.deepEqual(
      missing.slice(0, 5),
      [],
      `${missing.length} acknowledged record(s) are not where they were acknowledged`,
    );
    const duplicates = [...byValue].filter(([, at]) => at.length > 1);
    assert.deepEqual(duplicates.slice(0, 5), [], 'no record is stored twice (idempotence)');

    const unconfirmed = outputs(cluster).match(/replica\(s\) in time/g)?.length ?? 0;
    t.diagnostic(`${unconfirmed} Redis write(s) or read(s) not confirmed by a replica in time, not acted on`);
    // No two leaders in one leader epoch: neither in what the controllers decided...
    const elected = electedLeaders(outputs(cluster), TOPIC);
    const twice = [...elected].filter(([, leaders]) => leaders.size > 1);
    assert.deepEqual(twice, [], 'one leader per partition and leader epoch');
    // ...nor in the logs: every replica's batches of one epoch are one leader's batches.
    for (let p = 0; p < PARTITIONS; p++) {
      const batches = cluster.nodes.flatMap((n) => storedBatches(n.dataDir, n.nodeId, TOPIC, p));
      assert.ok(batches.length > 0, `${TOPIC}-${p} has batches`);
      assert.deepEqual(conflictingBatches(batches), [], `${TOPIC}-${p}: one writer per leader epoch`);
    }
  });

  test('a mirror worker and a console on the sentinels keep working through a failover', async () => {
    const group = cluster.sentinels!;
    // The killed primary comes back (the sentinels make it a replica of the new one), and so does the broker.
    await killedPrimary?.restart();
    for (const n of cluster.nodes.filter((x) => !x.alive)) await cluster.restart(n.nodeId);
    const primary = await group.waitForReplicas(group.servers.length - 1);

    const target: BrokerProcess = await startBroker();
    let worker: MirrorWorker | null = null;
    let consoleProcess: ConsoleProcess | null = null;
    try {
      const admin = new Admin({ bootstrapServers: cluster.bootstrap });
      await admin.createTopics([{ name: 'mirrored', numPartitions: PARTITIONS, replicationFactor: 3 }]);
      await admin.close();
      const config = writeMirrorConfig({
        redis: { sentinels: group.sentinels.split(','), sentinel: { master: group.master } },
        namespace: 'sentinel',
        clusters: {
          a: { 'bootstrap.servers': cluster.bootstrap },
          b: { 'bootstrap.servers': target.bootstrap },
        },
        flows: [{ source: 'a', target: 'b', topics: 'mirrored', 'refresh.topics.interval.seconds': 1 }],
        worker: { 'lock.duration.ms': 2000 },
        console: { port: 0 },
      });
      worker = await startMirrorWorker(config);
      consoleProcess = await startConsoleProcess(config);
      const api = apiClient(consoleProcess.url);
      const producer = new Producer({ bootstrapServers: cluster.bootstrap });
      const send = (from: number, count: number) =>
        producer.send({
          topic: 'mirrored',
          messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `m${from + i}` })),
        });
      /** The console's view of the flow: every record copied, as the worker reported it through Redis. */
      let lastFlow: unknown = null;
      const copied = async (records: number): Promise<boolean> => {
        const flow = await api('GET', `/api/flows/${encodeURIComponent('a->b')}`);
        lastFlow = flow.body;
        if (flow.status !== 200) return false;
        const parts = (
          flow.body.partitions as { sourceTopic: string; position: number; sourceLogEndOffset: number }[]
        ).filter((p) => p.sourceTopic === 'mirrored');
        return (
          parts.length === PARTITIONS &&
          parts.reduce((n, p) => n + p.position, 0) === records &&
          parts.every((p) => p.position === p.sourceLogEndOffset)
        );
      };
      const inTarget = async (records: number): Promise<boolean> =>
        (await readTopic(target.bootstrap, 'a.mirrored')).length === records;

      const explain = (err: unknown): Error =>
        new Error(
          `${(err as Error).message}\nthe console's flow: ${JSON.stringify(lastFlow)}\nworker:\n${worker?.output().slice(-3000)}\nconsole:\n${consoleProcess?.output().slice(-2000)}`,
        );
      await send(0, 300);
      await until('300 records copied, as the console sees it', () => copied(300), 60_000).catch((err) => {
        throw explain(err);
      });
      assert.ok(await inTarget(300));

      await primary.kill9();
      await send(300, 300);
      await group.waitForFailover(primary);
      await until(
        '600 records copied after the failover, as the console sees it',
        () => copied(600),
        60_000,
      ).catch((err) => {
        throw explain(err);
      });
      assert.ok(await inTarget(600), 'the target holds every record');
      await producer.close();
      // Warnings while Redis fails over, but nothing printed raw, nothing failed.
      assert.doesNotMatch(worker.output(), /^Error|ERROR|unhandled/m);
    } finally {
      await consoleProcess?.stop();
      await worker?.stop();
      await target.stop();
    }
  });
});
