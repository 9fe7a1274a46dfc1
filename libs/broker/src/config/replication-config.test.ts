import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrokerConfig } from './broker-config';

const parse = (values: Record<string, unknown>) =>
  parseBrokerConfig([{ source: 'broker.yaml', values: { 'node.id': 1, 'cluster.id': 'c', ...values } }])
    .replication;

test('redis.url is one Redis with no WAIT; redis.sentinels with redis.sentinel.master waits for one replica', () => {
  assert.deepEqual(parse({ 'redis.url': 'redis://127.0.0.1:6379' }).redis, { url: 'redis://127.0.0.1:6379' });
  assert.equal(parse({ 'redis.url': 'redis://127.0.0.1:6379' }).redisWaitReplicas, 0);
  const s = parse({
    'redis.sentinels': ['10.0.0.1:26379', '[::1]:26380'],
    'redis.sentinel.master': 'tributary',
    'redis.password': 'p',
  });
  assert.deepEqual(s.redis, {
    sentinels: [
      { host: '10.0.0.1', port: 26379 },
      { host: '::1', port: 26380 },
    ],
    master: 'tributary',
    password: 'p',
    sentinelPassword: null,
  });
  assert.equal(s.redisWaitReplicas, 1);
  assert.equal(s.redisWaitTimeoutMs, 2000);
  const none = parse({
    'redis.sentinels': 'a:1,b:2',
    'redis.sentinel.master': 'm',
    'redis.wait.replicas': 0,
  });
  assert.equal(none.redisWaitReplicas, 0);
  assert.equal(parse({}).redis, null);
});

test('bad Redis settings name the file and the key', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ 'redis.url': 'localhost:6379' }, 'broker.yaml: redis.url: is not redis://HOST:PORT'],
    [
      { 'redis.url': 'redis://a:1', 'redis.sentinels': 'b:2', 'redis.sentinel.master': 'm' },
      'broker.yaml: redis.sentinels: and redis.url are both set',
    ],
    [{ 'redis.sentinels': 'b:2' }, 'broker.yaml: redis.sentinel.master: is required with redis.sentinels'],
    [
      { 'redis.sentinels': 'b', 'redis.sentinel.master': 'm' },
      'broker.yaml: redis.sentinels: "b" is not HOST:PORT',
    ],
    [
      { 'redis.sentinels': 'b:70000', 'redis.sentinel.master': 'm' },
      'broker.yaml: redis.sentinels: port 70000 of "b:70000" is out of range',
    ],
    [{ 'redis.sentinel.master': 'm' }, 'broker.yaml: redis.sentinel.master: needs redis.sentinels'],
    [
      { 'redis.url': 'redis://a:1', 'redis.password': 'p' },
      'broker.yaml: redis.password: goes with redis.sentinels',
    ],
    [
      { 'redis.sentinels': 'b:2', 'redis.sentinel.master': 'm', 'redis.wait.replicas': -1 },
      'broker.yaml: redis.wait.replicas: must be at least 0',
    ],
  ];
  for (const [values, message] of cases) {
    assert.throws(
      () => parse(values),
      (err: Error) => err.message.startsWith(message),
      `${JSON.stringify(values)} -> ${message}`,
    );
  }
  assert.throws(
    () => parseBrokerConfig([{ source: 'b.yaml', values: { 'node.id': 1, 'redis.sentinels': 'a:1' } }]),
    /^ConfigError: b\.yaml: cluster\.id: is required with redis\.sentinels/,
  );
});
