import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import { mirrorFlowSource, startConsole, type RunningConsole } from '@tributary/console';
import { Mirror, parseMirrorConfig } from '@tributary/mirror';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import { until } from '../support/mirror-process';
import { startRedis, type RedisProcess } from '../support/redis-process';
import { apiClient, cluster, launchChromium } from '../console/console-support';

const quiet = { log: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };

/** The console operating a running replicator: state, lag, pause, resume and throttle over REST. */
describe('console over a running mirror', { timeout: 180_000 }, () => {
  let redis: RedisProcess;
  let a: BrokerProcess;
  let b: BrokerProcess;
  let mirror: Mirror;
  let console_: RunningConsole;
  let api: ReturnType<typeof apiClient>;
  let producer: Producer;

  const copied = async (): Promise<number> => {
    const admin = new Admin({ bootstrapServers: b.bootstrap });
    try {
      return (await admin.listOffsets([{ topic: 'a.orders', partition: 0 }], 'latest'))[0].offset;
    } catch {
      return 0;
    } finally {
      await admin.close();
    }
  };

  before(async () => {
    redis = await startRedis();
    a = await startBroker();
    b = await startBroker();
    const admin = new Admin({ bootstrapServers: a.bootstrap });
    await admin.createTopics([{ name: 'orders', numPartitions: 1 }]);
    await admin.close();
    producer = new Producer({ bootstrapServers: a.bootstrap });
    const config = parseMirrorConfig(
      {
        namespace: 'console-flows',
        clusters: { a: { 'bootstrap.servers': a.bootstrap }, b: { 'bootstrap.servers': b.bootstrap } },
        flows: [{ source: 'a', target: 'b', 'refresh.topics.interval.seconds': 1 }],
      },
      'console-flows-test',
    );
    mirror = new Mirror(config, { url: redis.url }, quiet);
    await mirror.start();
    console_ = await startConsole({
      clusters: [cluster('a', a.bootstrap), cluster('b', b.bootstrap)],
      flows: mirrorFlowSource(() => mirror.control),
      host: '127.0.0.1',
      port: 0,
      logLevels: ['error'],
    });
    api = apiClient(console_.url);
  });

  after(async () => {
    await producer?.close();
    await console_?.close();
    await mirror?.stop();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  test('flows are listed with their state and per-partition lag, and a paused flow copies nothing until resumed', async () => {
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 100 }, (_, i) => ({ value: `first-${i}` })),
    });
    await until('the first records are copied', async () => (await copied()) === 100, 30_000);
    const list = await api('GET', '/api/flows');
    assert.equal(list.status, 200);
    assert.equal(list.body.mirror.configured, true);
    assert.deepEqual(
      list.body.items.map((f: { id: string; state: string }) => [f.id, f.state]),
      [['a->b', 'running']],
    );
    // A unit writes its status at most every 500 ms, so the detail may trail the copy briefly.
    await until(
      'the flow detail shows the partition caught up',
      async () => {
        const detail = await api('GET', `/api/flows/${encodeURIComponent('a->b')}`);
        const orders = detail.body.partitions.find(
          (p: { sourceTopic: string }) => p.sourceTopic === 'orders',
        );
        return orders?.targetTopic === 'a.orders' && orders.position === 100 && orders.lagRecords === 0;
      },
      15_000,
    );

    const paused = await api('POST', `/api/flows/${encodeURIComponent('a->b')}/pause`);
    assert.equal(paused.status, 200);
    assert.equal(paused.body.state, 'paused');
    await until(
      'every unit has stopped copying',
      async () =>
        (await api('GET', `/api/flows/${encodeURIComponent('a->b')}`)).body.partitions.every(
          (p: { state: string }) => p.state === 'paused',
        ),
      5_000,
      100,
    );
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 50 }, (_, i) => ({ value: `second-${i}` })),
    });
    await until(
      'the partition’s lag shows the 50 waiting records',
      async () => {
        const d = await api('GET', `/api/flows/${encodeURIComponent('a->b')}`);
        return (
          d.body.partitions.find((p: { sourceTopic: string }) => p.sourceTopic === 'orders')?.lagRecords ===
          50
        );
      },
      15_000,
    );

    assert.equal(await copied(), 100, 'nothing is copied while the flow is paused');
    const resumed = await api('POST', `/api/flows/${encodeURIComponent('a->b')}/resume`);
    assert.equal(resumed.body.state, 'running');
    await until('copying resumes', async () => (await copied()) === 150, 30_000);
  });

  test('a throttle in records per second holds the flow to it', async () => {
    const set = await api('POST', `/api/flows/${encodeURIComponent('a->b')}/throttle`, {
      recordsPerSecond: 200,
      bytesPerSecond: null,
    });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.throttle, { recordsPerSecond: 200, bytesPerSecond: null });
    // Units read the controls every 500 ms and long-poll 500 ms: a report 1.2 s after the change comes after reading it.
    const setAt = Date.now();
    await until(
      'the units report after reading the throttle',
      async () =>
        (await api('GET', `/api/flows/${encodeURIComponent('a->b')}`)).body.partitions.every(
          (p: { updatedAt: number }) => p.updatedAt > setAt + 1200,
        ),
      5_000,
      100,
    );
    const before = await copied();
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 1000 }, (_, i) => ({ value: `third-${i}` })),
    });
    const started = Date.now();
    await until(
      'the throttled flow copies the 1000 records',
      async () => (await copied()) === before + 1000,
      60_000,
      200,
    );
    const seconds = (Date.now() - started) / 1000;
    // Unthrottled, the copy takes well under a second; throttled, a second's burst goes at once and the rest at 200/s.
    assert.ok(seconds >= 3.5, `1000 records at 200/s take about 4 s or more, took ${seconds.toFixed(1)} s`);
    const cleared = await api('POST', `/api/flows/${encodeURIComponent('a->b')}/throttle`, {
      recordsPerSecond: null,
      bytesPerSecond: null,
    });
    assert.deepEqual(cleared.body.throttle, { recordsPerSecond: null, bytesPerSecond: null });
    assert.equal((await api('POST', '/api/flows/nope/pause')).status, 404);
  });

  test('the dashboard: workers, partition states, pause and resume, promote with its report', async () => {
    const context = await launchChromium();
    try {
      const page = await context.newPage();
      await page.goto(`${console_.url}/#/flows`);
      await page.waitForSelector('#flow-table');
      await page.waitForFunction("document.querySelectorAll('#worker-table tbody tr td.num').length >= 3");
      assert.match(await page.locator('#worker-table').innerText(), new RegExp(String(process.pid)));
      await page.click('[data-pause="a->b"]');
      await page.waitForFunction("document.querySelector('#flow-table').innerText.includes('paused')");
      await page.click('[data-resume="a->b"]');
      await page.waitForFunction("document.querySelector('#flow-table').innerText.includes('running')");
      await page.click('[data-open="a->b"]');
      await page.waitForSelector('#flow-detail');
      await page.waitForFunction("document.querySelector('#flow-detail').innerText.includes('copying')");
      // Promote asks once more before acting.
      await page.fill('#move-topics', 'orders');
      await page.click('#promote');
      await page.click('#promote');
      await page.waitForSelector('#move-report', { timeout: 60_000 });
      const report = await page.locator('#move-report').innerText();
      assert.match(report, /promote of a->b/);
      assert.match(report, /orders \(source fenced\)/);
      await page.waitForFunction(
        "document.querySelector('#flow-detail').innerText.includes('orders → a.orders: promoted (promote)')",
      );
    } finally {
      await context.close();
    }
    // A standard client now writes to the promoted topic, and the source refuses.
    const onB = new Producer({ bootstrapServers: b.bootstrap });
    await onB.send({ topic: 'a.orders', messages: [{ value: 'after-promote' }] });
    await onB.close();
    await assert.rejects(
      producer.send({ topic: 'orders', messages: [{ value: 'fenced' }] }),
      /POLICY_VIOLATION/,
    );
  });
});
