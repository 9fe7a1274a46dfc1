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
  assert.match(text, /latency_seconds_bucket\{api="Produce",le="0.01"\} 1\n/);
  assert.match(text, /latency_seconds_bucket\{api="Produce",le="0.1"\} 3\n/);
  assert.match(text, /latency_seconds_bucket\{api="Produce",le="1"\} 3\n/);
  assert.match(text, /latency_seconds_bucket\{api="Produce",le="\+Inf"\} 4\n/);
  assert.match(text, /latency_seconds_sum\{api="Produce"\} 5.105\n/);
  assert.match(text, /latency_seconds_count\{api="Produce"\} 4\n/);
  assert.deepEqual(h.get({ api: 'Produce' }), { count: 4, sum: 5.105 });
});

test('registering a name twice shares the family; another type or label set is refused', () => {
  const r = new MetricsRegistry();
  const a = r.counter({ name: 'x_total', help: 'x', labelNames: ['broker'] });
  const b = r.counter({ name: 'x_total', help: 'x', labelNames: ['broker'] });
  assert.equal(a, b);
  assert.throws(() => r.gauge({ name: 'x_total', help: 'x', labelNames: ['broker'] }), /already registered/);
  assert.throws(() => r.counter({ name: 'x_total', help: 'x', labelNames: ['node'] }), /already registered/);
  assert.throws(() => r.counter({ name: 'bad-name', help: 'x' }), /not a Prometheus name/);
  assert.throws(() => a.inc({}), /label "broker" is missing/);
  assert.throws(() => a.inc({ broker: 1 }, -1), /only goes up/);
});

test('collectors add families at scrape time; a failing collector is left out', async () => {
  const r = new MetricsRegistry();
  let lag = 4;
  r.addCollector(() => [
    { name: 'group_lag', help: 'Lag.', type: 'gauge', samples: [{ labels: { group: 'g' }, value: lag }] },
  ]);
  r.addCollector(async () => {
    throw new Error('cluster down');
  });
  r.addCollector(async () => [{ name: 'empty_family', help: 'Nothing yet.', type: 'gauge', samples: [] }]);
  assert.match(await r.render(), /group_lag\{group="g"\} 4\n/);
  lag = 9;
  const text = await r.render();
  assert.match(text, /group_lag\{group="g"\} 9\n/);
  assert.match(text, /# TYPE empty_family gauge\n/);
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
  } finally {
    await server.close();
  }
});
