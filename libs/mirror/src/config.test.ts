import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MirrorConfigError, parseMirrorConfig } from './config';

const clusters = {
  a: { 'bootstrap.servers': '127.0.0.1:9092' },
  b: { 'bootstrap.servers': '127.0.0.1:9093' },
};

test('a flow takes MM2 defaults and names', () => {
  const c = parseMirrorConfig(
    { redis: 'redis://x:1', clusters, flows: [{ source: 'a', target: 'b' }] },
    'm.yaml',
  );
  const f = c.flows[0];
  assert.equal(f.name, 'a->b');
  assert.equal(f.policy, 'prefix');
  assert.equal(f.separator, '.');
  assert.equal(f.offsets, 'auto');
  assert.equal(f.emitCheckpointsIntervalMs, 60_000);
  assert.equal(f.refreshTopicsIntervalMs, 600_000);
  assert.equal(f.syncGroupOffsets, false);
  assert.ok(f.topicsExclude.some((p) => p.test('a.checkpoints.internal')));
  assert.ok(f.topicsExclude.some((p) => p.test('__consumer_offsets')));
  assert.ok(!f.topicsExclude.some((p) => p.test('orders')));
  assert.ok(f.groupsExclude.some((p) => p.test('console-consumer-123')));
  assert.ok(f.configPropertiesExclude.some((p) => p.test('min.insync.replicas')));
  assert.ok(!f.configPropertiesExclude.some((p) => p.test('retention.ms')));
});

test('comma-separated and list patterns match whole names', () => {
  const c = parseMirrorConfig(
    {
      clusters,
      flows: [{ source: 'a', target: 'b', topics: 'orders.*, pay', 'topics.exclude': ['orders-tmp'] }],
    },
    'm.yaml',
  );
  const f = c.flows[0];
  assert.deepEqual(
    ['orders', 'orders-x', 'pay', 'payments'].map((t) => f.topics.some((p) => p.test(t))),
    [true, true, true, false],
  );
  assert.ok(f.topicsExclude[0].test('orders-tmp'));
});

test('errors name the file, the key and what is wrong', () => {
  const cases: [unknown, string][] = [
    [
      { clusters: { a: { 'bootstrap.servers': 'nohost' } } },
      'm.yaml: clusters.a.bootstrap.servers: "nohost" is not host:port',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'c' }] },
      'm.yaml: flows[0].target: unknown cluster "c" (known: a, b)',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'a' }] },
      'm.yaml: flows[0].target: a flow cannot write into its own source cluster "a"',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'b', 'replication.policy': 'mirror' }] },
      'm.yaml: flows[0].replication.policy: must be prefix or identity, not "mirror"',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'b', topics: '([' }] },
      'm.yaml: flows[0].topics: "([" is not a valid regular expression',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'b', 'emit.checkpoints.interval.seconds': 'soon' }] },
      'm.yaml: flows[0].emit.checkpoints.interval.seconds: must be a whole number, not "soon"',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'b', colour: 'red' }] },
      'm.yaml: flows[0].colour: unknown key',
    ],
    [
      {
        clusters,
        flows: [
          { source: 'a', target: 'b' },
          { source: 'a', target: 'b' },
        ],
      },
      'm.yaml: flows[1].name: flow "a->b" is defined twice',
    ],
    [
      { clusters, flows: [{ source: 'a', target: 'b', offsets: 'keep' }] },
      'm.yaml: flows[0].offsets: must be preserve, translate or auto, not "keep"',
    ],
    [{ clusters, flows: {} }, 'm.yaml: flows: must be a list of flows'],
    [{ clusters, worker: { concurrency: 0 } }, 'm.yaml: worker.concurrency: must be at least 1, not 0'],
  ];
  for (const [doc, message] of cases) {
    assert.throws(
      () => parseMirrorConfig(doc, 'm.yaml'),
      (err: unknown) => err instanceof MirrorConfigError && err.message.startsWith(message),
      message,
    );
  }
});

test('each cluster carries its own security settings, checked by key without quoting a secret', () => {
  const ca = __filename;
  const c = parseMirrorConfig(
    {
      clusters: {
        a: {
          'bootstrap.servers': '127.0.0.1:9092',
          'security.protocol': 'SASL_SSL',
          'sasl.mechanism': 'SCRAM-SHA-512',
          'sasl.username': 'mirror',
          'sasl.password': 'p4ss-word',
          'ssl.ca.location': ca,
        },
        b: { 'bootstrap.servers': '127.0.0.1:9093' },
      },
      flows: [{ source: 'a', target: 'b' }],
    },
    'm.yaml',
  );
  const a = c.clusters.get('a');
  assert.deepEqual(a?.security.sasl, {
    mechanism: 'SCRAM-SHA-512',
    username: 'mirror',
    password: 'p4ss-word',
  });
  assert.ok(Buffer.isBuffer((a?.security.ssl as { ca: Buffer }).ca));
  assert.deepEqual(c.clusters.get('b')?.security, { ssl: undefined, sasl: undefined });

  const refused = (settings: Record<string, string>, key: string): void => {
    assert.throws(
      () =>
        parseMirrorConfig(
          { clusters: { ...clusters, a: { 'bootstrap.servers': '127.0.0.1:9092', ...settings } } },
          'm.yaml',
        ),
      (err: MirrorConfigError) => {
        assert.ok(err instanceof MirrorConfigError);
        assert.equal(err.key, key);
        assert.ok(!err.message.includes('s3cret'), err.message);
        return true;
      },
    );
  };
  refused({ 'security.protocol': 'SASL_SSL', 'sasl.username': 'u' }, 'clusters.a.sasl.password');
  refused(
    { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'GSSAPI', 'sasl.password': 's3cret' },
    'clusters.a.sasl.mechanism',
  );
  refused({ 'security.protocol': 'PLAINTEXT', 'sasl.password': 's3cret' }, 'clusters.a.sasl.password');
  refused({ 'security.protocol': 'TLS' }, 'clusters.a.security.protocol');
  refused(
    { 'security.protocol': 'SSL', 'ssl.ca.location': '/nonexistent/ca.pem' },
    'clusters.a.ssl.ca.location',
  );
});
