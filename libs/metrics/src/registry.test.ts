import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMetricsServer } from './metrics-server';
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from './registry';

test('counters and gauges render in the text format with escaped labels', async () => {
  const r = new MetricsRegistry();
  const c = r.counter({ name: 'kafka_bytes_in_total', help: 'Bytes in.\nPer topic.', labelNames: ['topic'] });
  c.inc({ topic: 'orders' }, 10);
  c.labels({ topic: 'orders' }).inc(5);
  c.inc({ topic: 'a"b\\c\nd' });
  const g = r.gauge({ name: 'lag', help: 'Lag.', labelNames: ['group', 'partition'] });
  g.set({ group: 'g1', partition: 0 }, 7);
  g.set({ group: 'g1', partition: 0 }, 3);
  const text = await r.render();
  assert.equal(
    text,
    [
      '# HELP kafka_bytes_in_total Bytes in.\\nPer topic.',
      '# TYPE kafka_bytes_in_total counter',
      'kafka_bytes_in_total{topic="orders"} 15',
      'kafka_bytes_in_total{topic="a\\"b\\\\c\\nd"} 1',
      '',
      '# HELP lag Lag.',
      '# TYPE lag gauge',
      'lag{group="g1",partition="0"} 3',
      '',
    ].join('\n'),
  );
});

test('histograms count per bucket cumulatively with sum, count and +Inf', async () => {
  const r = new MetricsRegistry();
  const h = r.histogram({
    name: 'latency_seconds',
    help: 'Latency.',
    labelNames: ['api'],
    buckets: [0.01, 0.1, 1],
  });
  const produce = h.labels({ api: 'Produce' });
  produce.observe(0.005);
  produce.observe(0.05);
  produce.observe(0.05);
  produce.observe(5);
  const text = await r.render();
  assert.match(text, /latency_seconds_bucket\{le="0.01",api="Produce"\} 1\n/);
  assert.match(text, /latency_seconds_bucket\{le="0.1",api="Produce"\} 3\n/);
  assert.match(text, /latency_seconds_bucket\{le="1",api="Produce"\} 3\n/);
  assert.match(text, /latency_seconds_bucket\{le="\+Inf",api="Produce"\} 4\n/);
  assert.match(text, /latency_seconds_sum\{api="Produce"\} 5.105\n/);
  assert.match(text, /latency_seconds_count\{api="Produce"\} 4\n/);
});

test('hot counters and histograms render as prom-client renders its own', async () => {
  const r = new MetricsRegistry();
  const requests = r.hotCounter({ name: 'requests_total', help: 'Requests.', labelNames: ['api'] });
  const produce = requests.labels({ api: 'Produce' });
  produce.inc();
  produce.inc(2);
  requests.labels({ api: 'Fetch' }).inc();
  const h = r
    .hotHistogram({ name: 'latency_seconds', help: 'Latency.', labelNames: ['api'], buckets: [0.01, 0.1, 1] })
    .labels({ api: 'Produce' });
  for (const v of [0.005, 0.05, 0.05, 5]) h.observe(v);
  const text = await r.render();
  assert.match(
    text,
    /# TYPE requests_total counter\nrequests_total\{api="Produce"\} 3\nrequests_total\{api="Fetch"\} 1\n/,
  );
  assert.match(text, /# TYPE latency_seconds histogram\n/);
  assert.match(text, /latency_seconds_bucket\{le="0.01",api="Produce"\} 1\n/);
  assert.match(text, /latency_seconds_bucket\{le="0.1",api="Produce"\} 3\n/);
  assert.match(text, /latency_seconds_bucket\{le="1",api="Produce"\} 3\n/);
  assert.match(text, /latency_seconds_bucket\{le="\+Inf",api="Produce"\} 4\n/);
  assert.match(text, /latency_seconds_sum\{api="Produce"\} 5.105\n/);
  assert.match(text, /latency_seconds_count\{api="Produce"\} 4\n/);
  // A second broker in the process registers the family again and shares its series.
  r.hotCounter({ name: 'requests_total', help: 'Requests.', labelNames: ['api'] })
    .labels({ api: 'Fetch' })
    .inc();
  assert.match(await r.render(), /requests_total\{api="Fetch"\} 2\n/);
  assert.throws(
    () => r.counter({ name: 'requests_total', help: 'x', labelNames: ['api'] }),
    /already registered/,
  );
});

test('registering a name twice shares the family; another type or label set is refused', () => {
  const r = new MetricsRegistry();
  const a = r.counter({ name: 'x_total', help: 'x', labelNames: ['broker'] });
  const b = r.counter({ name: 'x_total', help: 'x', labelNames: ['broker'] });
  assert.equal(a, b);
  assert.throws(() => r.gauge({ name: 'x_total', help: 'x', labelNames: ['broker'] }), /already registered/);
  assert.throws(() => r.counter({ name: 'x_total', help: 'x', labelNames: ['node'] }), /already registered/);
  assert.throws(() => r.counter({ name: 'bad-name', help: 'x' }), /Invalid metric name/);
  assert.throws(() => a.inc({ node: 1 }), /Added label "node" is not included/);
  assert.throws(() => a.inc({ broker: 1 }, -1), /not possible to decrease/);
});

test('collectors add gauge families at scrape time; a failing collector is left out', async () => {
  const r = new MetricsRegistry();
  r.counter({ name: 'hits_total', help: 'Hits.' }).inc();
  let lag = 4;
  r.addCollector(() => [
    { name: 'group_lag', help: 'Lag.', type: 'gauge', samples: [{ labels: { group: 'g' }, value: lag }] },
  ]);
  r.addCollector(async () => {
    throw new Error('cluster down');
  });
  r.addCollector(async () => [
    { name: 'empty_family', help: 'Nothing yet.', type: 'gauge', samples: [] },
    { name: 'up', help: 'Up.', type: 'gauge', samples: [{ labels: {}, value: 1 }] },
    { name: 'group_lag', help: 'Lag.', type: 'gauge', samples: [{ labels: { group: 'h' }, value: 2 }] },
  ]);
  assert.match(await r.render(), /^group_lag\{group="g"\} 4$/m);
  lag = 9;
  const text = await r.render();
  assert.match(text, /^hits_total 1$/m);
  assert.match(text, /^# TYPE group_lag gauge\ngroup_lag\{group="g"\} 9\ngroup_lag\{group="h"\} 2$/m);
  assert.match(text, /^up 1$/m);
  assert.doesNotMatch(text, /empty_family/, 'a family without samples says nothing');
  const removed = (): never => {
    throw new Error('not run');
  };
  r.addCollector(removed);
  r.removeCollector(removed);
  assert.equal((await r.render()).match(/^# TYPE group_lag/gm)?.length, 1, 'one family per name');
});

test('process metrics: prom-client defaults and nodejs_heap_used_bytes, added once', async () => {
  const r = new MetricsRegistry();
  r.addProcessMetrics();
  r.addProcessMetrics();
  const text = await r.render();
  for (const name of [
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_heap_size_used_bytes',
    'nodejs_active_handles_total',
  ])
    assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? [0-9.e+-]+$`, 'm'), name);
  assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
  const heap = Number(/^nodejs_heap_used_bytes (\d+)$/m.exec(text)?.[1]);
  assert.ok(heap > 1_000_000, `nodejs_heap_used_bytes ${heap}`);
  // A second registry in the same process has its own copy (a demo's console and a test's broker).
  const other = new MetricsRegistry();
  other.addProcessMetrics();
  assert.match(await other.render(), /^process_cpu_seconds_total [0-9.e+-]+$/m);
});

test('the metrics server answers GET /metrics and 404 elsewhere', async () => {
  const r = new MetricsRegistry();
  r.counter({ name: 'hits_total', help: 'Hits.' }).inc();
  const server = await startMetricsServer(r, { host: '127.0.0.1', port: 0 });
  try {
    const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE);
    assert.match(await ok.text(), /^hits_total 1$/m);
    const missing = await fetch(`http://127.0.0.1:${server.port}/other`);
    assert.equal(missing.status, 404);
    await missing.text();
    const post = await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' });
    assert.equal(post.status, 404);
    await post.text();
  } finally {
    await server.close();
  }
});
