import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import { MAIN, runAsync, startBroker, type BrokerProcess } from '../support/broker-process';
import {
  kcatEnd,
  startMirrorWorker,
  takeoverSeconds,
  until,
  writeMirrorConfig,
  type MirrorWorker,
} from '../support/mirror-process';
import { startRedis, type RedisProcess } from '../support/redis-process';
import { apiClient, startConsoleProcess, type ConsoleProcess } from '../console/console-support';

const FLOW = encodeURIComponent('a->b');
const PARTITIONS = 3;

/** Bytes of record batches stored for a topic on a broker: its partitions' segment files. */
function storedBytes(broker: BrokerProcess, topic: string): number {
  let total = 0;
  for (const dir of fs.readdirSync(broker.dataDir)) {
    if (!dir.startsWith(`${topic}-`)) continue;
    for (const f of fs.readdirSync(path.join(broker.dataDir, dir)))
      if (f.endsWith('.log')) total += fs.statSync(path.join(broker.dataDir, dir, f)).size;
  }
  return total;
}

/**
 * A replicator deployed as a team would: brokers, Redis, two `tributary mirror` workers and
 * a `tributary console` attached to them by the workers' own config file, each its own
 * process. The console shows the workers, true lag (grows while paused, compared with
 * kcat's view of both clusters), and steers the running workers.
 */
describe('a standalone console over two mirror workers', { timeout: 300_000 }, () => {
  let redis: RedisProcess;
  let a: BrokerProcess;
  let b: BrokerProcess;
  let workers: MirrorWorker[] = [];
  let consoleProcess: ConsoleProcess;
  let api: ReturnType<typeof apiClient>;
  let producer: Producer;
  let admin: Admin;
  let configFile: string;

  const cli = (...args: string[]) =>
    runAsync(process.execPath, [MAIN, 'mirror', ...args, '--console', consoleProcess.url], {
      timeoutMs: 30_000,
    });

  const copied = async (): Promise<number> => {
    let n = 0;
    for (let p = 0; p < PARTITIONS; p++) n += await kcatEnd(b.bootstrap, 'a.orders', p);
    return n;
  };
  const sourceEnd = async (): Promise<number> => {
    let n = 0;
    for (let p = 0; p < PARTITIONS; p++) n += await kcatEnd(a.bootstrap, 'orders', p);
    return n;
  };
  const flow = async () => {
    const r = await api('GET', `/api/flows/${FLOW}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };
  /** Small batches (one per send and partition), so throttles pace at a fine grain. */
  const produce = async (count: number, size = 100): Promise<void> => {
    const value = Buffer.alloc(size, 'x');
    for (let sent = 0; sent < count; sent += 10) {
      await producer.send({
        topic: 'orders',
        messages: Array.from({ length: Math.min(10, count - sent) }, (_, i) => ({
          value,
          partition: (sent / 10 + i) % PARTITIONS,
        })),
      });
    }
  };

  before(async () => {
    redis = await startRedis();
    a = await startBroker();
    b = await startBroker();
    admin = new Admin({ bootstrapServers: a.bootstrap });
    await admin.createTopics([{ name: 'orders', numPartitions: PARTITIONS }]);
    producer = new Producer({ bootstrapServers: a.bootstrap, lingerMs: 0 });
    configFile = writeMirrorConfig({
      redis: redis.url,
      namespace: 'ops',
      clusters: { a: { 'bootstrap.servers': a.bootstrap }, b: { 'bootstrap.servers': b.bootstrap } },
      flows: [{ source: 'a', target: 'b', 'refresh.topics.interval.seconds': 1 }],
      worker: { 'lock.duration.ms': 2000 },
      console: { port: 0 },
    });
    workers = [await startMirrorWorker(configFile), await startMirrorWorker(configFile)];
    consoleProcess = await startConsoleProcess(configFile);
    api = apiClient(consoleProcess.url);
  });

  after(async () => {
    await producer?.close();
    await admin?.close();
    await consoleProcess?.stop();
    for (const w of workers) await w.stop();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  test('the console lists the flow and both workers with the units each runs', async () => {
    await produce(300);
    await until('the first records are copied', async () => (await copied()) === 300, 60_000);
    const list = await api('GET', '/api/flows');
    assert.equal(list.body.mirror.configured, true);
    assert.deepEqual(
      list.body.items.map((f: { id: string; source: string; target: string }) => [f.id, f.source, f.target]),
      [['a->b', 'a', 'b']],
    );
    await until(
      'both workers report, between them running every unit',
      async () => {
        const w = await api('GET', '/api/mirror/workers');
        const units = w.body.items.flatMap((x: { units: string[] }) => x.units).sort();
        return (
          w.body.items.length === 2 &&
          JSON.stringify(units) ===
            JSON.stringify(['a->b|heartbeats|0', 'a->b|orders|0', 'a->b|orders|1', 'a->b|orders|2'])
        );
      },
      30_000,
    );
    const w = await api('GET', '/api/mirror/workers');
    assert.deepEqual(
      w.body.items.map((x: { pid: number }) => x.pid).sort(),
      workers.map((x) => x.child.pid).sort(),
    );
    for (const x of w.body.items) assert.ok(x.uptimeSeconds >= 0 && x.host.length > 0);
    const listed = await cli('list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /a->b\s+a\s+b\s+running/);
  });

  test('lag grows while paused, in records and seconds, as kcat sees it, and shrinks after resume', async () => {
    const paused = await cli('pause', 'a->b');
    assert.equal(paused.status, 0, paused.stderr);
    const pausedAt = Date.now();
    await until(
      'every unit has stopped copying',
      async () => (await flow()).partitions.every((p: { state: string }) => p.state === 'paused'),
      5_000,
      100,
    );
    const tookMs = Date.now() - pausedAt;
    assert.ok(tookMs < 2500, `workers paused within ${tookMs} ms`);
    const copiedBefore = await copied();
    await produce(450);
    const behind = (await sourceEnd()) - (await copied());
    assert.equal(behind, 450, 'kcat: nothing was copied while paused');
    // Heartbeats wait too while paused: count the orders partitions.
    const ordersLag = (f: { partitions: { sourceTopic: string; lagRecords: number }[] }): number =>
      f.partitions.filter((p) => p.sourceTopic === 'orders').reduce((n, p) => n + p.lagRecords, 0);
    await until(
      'the console shows the same 450 records behind',
      async () => ordersLag(await flow()) === 450,
      10_000,
    );
    const d = await flow();
    for (const p of d.partitions.filter((x: { sourceTopic: string }) => x.sourceTopic === 'orders')) {
      const kcatLag =
        (await kcatEnd(a.bootstrap, 'orders', p.partition)) -
        (await kcatEnd(b.bootstrap, 'a.orders', p.partition));
      assert.equal(p.lagRecords, kcatLag, `orders-${p.partition}`);
    }
    const firstSeconds = d.lagSeconds as number;
    assert.ok(firstSeconds > 0, 'the oldest waiting record has an age');
    await until(
      'seconds behind keep growing while paused',
      async () => ((await flow()).lagSeconds as number) >= firstSeconds + 1.5,
      10_000,
    );
    const metrics = await (await fetch(`${consoleProcess.url}/metrics`)).text();
    const lagSamples = [
      ...metrics.matchAll(/^tributary_mirror_lag_records\{[^}]*topic="orders"[^}]*\} (\d+)$/gm),
    ];
    assert.equal(
      lagSamples.reduce((n, m) => n + Number(m[1]), 0),
      450,
      'metrics show the same lag',
    );
    assert.equal(await copied(), copiedBefore);

    const resumed = await cli('resume', 'a->b');
    assert.equal(resumed.status, 0, resumed.stderr);
    await until(
      'everything is copied after resume',
      async () => (await copied()) === copiedBefore + 450,
      30_000,
    );
    await until(
      'the console shows no lag',
      async () => {
        const f = await flow();
        return f.lagRecords === 0 && f.lagSeconds === 0;
      },
      10_000,
    );
  });

  test('throttles hold within 10% across partitions and workers, in records and in bytes per second', async (t) => {
    const measure = async (rate: number, unit: 'records' | 'bytes', count: number) => {
      // A backlog first, so the flow runs at its limit the whole time.
      await cli('pause', 'a->b');
      await until(
        'every unit has stopped copying',
        async () => (await flow()).partitions.every((p: { state: string }) => p.state === 'paused'),
        5_000,
        100,
      );
      const r = await cli(
        'throttle',
        'a->b',
        unit === 'records' ? '--records-per-second' : '--bytes-per-second',
        String(rate),
        unit === 'records' ? '--bytes-per-second' : '--records-per-second',
        'none',
      );
      assert.equal(r.status, 0, r.stderr);
      await produce(count, 200);
      await cli('resume', 'a->b');
      // Past the first second's burst, the flow copies at its limit: time a stretch of it.
      const value = unit === 'records' ? () => copied() : async () => storedBytes(b, 'a.orders');
      const start = (await value()) + rate * 1.5;
      await until('the burst is over', async () => (await value()) >= start, 30_000, 50);
      const t0 = Date.now();
      const v0 = await value();
      await until(
        'ten seconds of copying at the limit',
        async () => (await value()) >= v0 + rate * 10,
        30_000,
        50,
      );
      const measured = ((await value()) - v0) / ((Date.now() - t0) / 1000);
      // The flow's own throughput counts each record once (5-second windows, so a looser bound).
      const reported = (await flow()).throughput;
      const counted = unit === 'records' ? reported.recordsPerSecond : reported.bytesPerSecond;
      await until('the backlog drains', async () => (await copied()) === (await sourceEnd()), 120_000, 250);
      return { measured, counted };
    };
    const { measured: records, counted: recordsCounted } = await measure(100, 'records', 2000);
    assert.ok(Math.abs(recordsCounted - 100) <= 25, `the flow counted ${recordsCounted} records/s`);
    assert.ok(Math.abs(records - 100) <= 10, `records per second ${records.toFixed(1)}, limit 100`);
    const { measured: bytes } = await measure(30_000, 'bytes', 2500);
    t.diagnostic(
      `throttles: ${records.toFixed(1)} records/s against 100 (the flow counted ${recordsCounted.toFixed(1)}), ${bytes.toFixed(0)} bytes/s against 30000`,
    );
    assert.ok(Math.abs(bytes - 30_000) <= 3000, `bytes per second ${bytes.toFixed(0)}, limit 30000`);
    const cleared = await cli(
      'throttle',
      'a->b',
      '--records-per-second',
      'none',
      '--bytes-per-second',
      'none',
    );
    assert.equal(cleared.status, 0, cleared.stderr);
  });

  test('a worker killed with kill -9: the other takes its units over and says so', async (t) => {
    const before = await api('GET', '/api/mirror/workers');
    const victim = workers[0];
    const victimUnits: string[] =
      before.body.items.find((x: { pid: number }) => x.pid === victim.child.pid)?.units ?? [];
    await victim.kill9();
    await produce(300);
    await until(
      'the survivor copies everything',
      async () => (await copied()) === (await sourceEnd()),
      60_000,
    );
    await until(
      'only the survivor is listed, running every unit',
      async () => {
        const w = await api('GET', '/api/mirror/workers');
        return w.body.items.length === 1 && w.body.items[0].units.length === PARTITIONS + 1;
      },
      30_000,
    );
    const took = takeoverSeconds(workers[1].output());
    t.diagnostic(`preserve-mode takeover after kill -9: ${took.join(', ')} s`);
    if (victimUnits.length > 0) assert.ok(took.length > 0, 'the takeover is logged');
    // Silent since its last heartbeat (1 s apart): the lock (2 s) lapses, the next stall check (0.5 s) moves the unit; a second of slack.
    for (const s of took) assert.ok(s <= 4.5, `a unit was taken over after ${s} s`);
    assert.doesNotMatch(workers[1].output(), /Lock mismatch/);
  });
});
